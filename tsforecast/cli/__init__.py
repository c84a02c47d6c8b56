"""The `tsforecast` command line: `backtest CONFIG`, `forecast DATA --horizon H`, `datasets`.

- `main`: the parser, the dispatch and the exit status (`tsforecast.cli:main` is the console
  script; `python -m tsforecast` and `python -m tsforecast.cli` run it too).
- `backtest` (with `config`, `config_models`, `toml_checks`, `data`, `manifest`, `smoke`): an
  experiment config in, `results/NAME/` and `dashboards/NAME.html` out.
- `forecast`: forecasts of a data set or a file, to a file or stdout.
- `datasets`: the shipped data sets.

Exit status: 0 on success, 2 when the input is refused (config, data, arguments; the message
names what and where, with no traceback), 1 when the run itself fails, 130 on Ctrl-C.
"""

from tsforecast.cli.main import main

__all__ = ["main"]
