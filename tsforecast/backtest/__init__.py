"""Rolling-origin backtests: the fold plan (`folds`), the models (`models`), the engine
(`engine`) and what it returns (`result`)."""

from tsforecast.backtest.engine import backtest, model_names
from tsforecast.backtest.result import BacktestResult

__all__ = ["BacktestResult", "backtest", "model_names"]
