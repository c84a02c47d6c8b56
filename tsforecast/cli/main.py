"""The parser of the `tsforecast` command and its dispatch to the commands.

Each command module imports what it needs when it runs, so `tsforecast --help` and a refused
config load neither torch models nor statsmodels.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Sequence
from functools import partial

from tsforecast.errors import InputError, TsforecastWarning

__all__ = ["main"]


# an interval mode as the Python API's refusals name it: intervals='model'
_INTERVALS_ARGUMENT = re.compile(r"intervals='(\w+)'")


def as_option_advice(message: str, command: str) -> str:
    """A refusal's `intervals='model'` said as the command's own option: `--intervals model` on
    `forecast`, `intervals = "model"` in a config's [backtest] table."""
    if command == "backtest":
        return _INTERVALS_ARGUMENT.sub(r'`intervals = "\1"` in [backtest]', message)
    return _INTERVALS_ARGUMENT.sub(r"`--intervals \1`", message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = _parser()
    args = parser.parse_args(argv)
    plain = warnings.formatwarning
    warnings.formatwarning = partial(_one_line_warning, args.command)
    try:
        return int(args.run(args))
    except InputError as error:  # ConfigError included: the user's input, refused up front
        from tsforecast.cli.csv_format import as_reading_advice, spell_config, spell_flag

        spell = spell_config if args.command == "backtest" else spell_flag
        message = as_option_advice(as_reading_advice(str(error), spell), args.command)
        print(f"tsforecast: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tsforecast: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`tsforecast forecast ... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        warnings.formatwarning = plain


def _one_line_warning(
    command: str,
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A tsforecast warning as the command's own line, like its errors (Python's format adds
    the source file and line of the library, which mean nothing to a command-line user)."""
    if issubclass(category, TsforecastWarning):
        from tsforecast.cli.csv_format import as_reading_advice, spell_config, spell_flag

        spell = spell_config if command == "backtest" else spell_flag
        advice = as_option_advice(as_reading_advice(str(message), spell), command)
        return f"tsforecast: warning: {advice}\n"
    return f"{filename}:{lineno}: {category.__name__}: {message}\n"


def _parser() -> argparse.ArgumentParser:
    from tsforecast import __version__

    parser = argparse.ArgumentParser(
        prog="tsforecast",
        description="Time-series forecasting on PyTorch: backtests, forecasts, dashboards.",
    )
    parser.add_argument("--version", action="version", version=f"tsforecast {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_backtest(commands)
    _add_forecast(commands)
    ds = commands.add_parser("datasets", help="list the shipped data sets")
    ds.set_defaults(run=_run_datasets)
    return parser


def _add_backtest(commands: argparse._SubParsersAction) -> None:
    from tsforecast.engines import ENGINE_NAMES

    bt = commands.add_parser(
        "backtest",
        help="run the experiment of a TOML config; write results/NAME/ and dashboards/NAME.html",
        description="Run a backtest experiment described by a TOML config "
        "(see experiments/*.toml).",
    )
    bt.add_argument("config", help="the experiment config, e.g. experiments/air_passengers.toml")
    bt.add_argument("--results-dir", default="results", help="folder for results/NAME/")
    bt.add_argument("--dashboards-dir", default="dashboards", help="folder for NAME.html")
    bt.add_argument("--quiet", action="store_true", help="print only the leaderboard and paths")
    bt.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run of the whole experiment: a few series, the end of each history, at "
        "most 2 windows, tiny neural models; written as NAME-smoke",
    )
    bt.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        help="where the statistical models run: local processes, Ray or Dask (default: the "
        "config's `engine`, else local)",
    )
    bt.set_defaults(run=_run_backtest)


def _add_forecast(commands: argparse._SubParsersAction) -> None:
    from tsforecast.checks import FILL_POLICIES
    from tsforecast.engines import ENGINE_NAMES

    fc = commands.add_parser(
        "forecast",
        help="forecast the future of a data set or a CSV/parquet file",
        description="Forecast HORIZON steps after the end of every series of DATA.",
    )
    fc.add_argument("data", help="a shipped data set name (see `tsforecast datasets`) or a file")
    fc.add_argument("--horizon", "-H", type=int, required=True, help="steps to forecast")
    fc.add_argument("--model", "-m", default="auto", help="model name (default: auto)")
    fc.add_argument(
        "--out", "-o", help="write the forecasts here (.csv, .parquet or .pq); else stdout"
    )
    fc.add_argument(
        "--report", help="also write the forecast's HTML page here (history, intervals, choice)"
    )
    fc.add_argument(
        "--levels", type=float, nargs="+", default=[], help="interval levels in %%, e.g. 80 95"
    )
    fc.add_argument("--id-col", help="series id column (default: unique_id)")
    fc.add_argument("--time-col", help="time column (default: ds)")
    fc.add_argument("--target-col", nargs="+", help="target column(s) (default: y)")
    fc.add_argument(
        "--covariates",
        nargs="*",
        metavar="COL",
        help="the covariate columns to use; with no names, none (default: every other numeric "
        "or boolean column, which a statistical model refuses); it takes the names after it, "
        "so put it after DATA",
    )
    fc.add_argument(
        "--future",
        metavar="PATH",
        help="known-future covariates (prices, promotions, holidays): a .csv, .parquet or .pq "
        "file read as DATA's file is, with the id and time columns, each covariate's values for "
        "the HORIZON steps after every series' end, and no target; each covariate is also a "
        "column of DATA (its history); needs a model that reads them: lstm, bilstm, seq2seq, "
        "or auto with such candidates",
    )
    fc.add_argument(
        "--sep",
        help="a CSV's column separator: , ; tab or | (default: ,); also for --future",
    )
    fc.add_argument(
        "--decimal",
        help="a CSV's decimal mark: . or , (default: .), e.g. --sep ';' --decimal , for a file "
        "written in a German or French locale",
    )
    fc.add_argument(
        "--thousands",
        help="a CSV's thousands mark, e.g. . with --decimal , for 1.234,5 (default: none)",
    )
    fc.add_argument("--season-length", type=int, help="seasonal period (default: from the data)")
    fc.add_argument(
        "--fill",
        choices=FILL_POLICIES,
        help="fill gaps and missing values (default: refuse them)",
    )
    fc.add_argument(
        "--freq",
        type=_freq,
        help="the time step: a pandas alias such as h, D, 15min, or an integer step for "
        "integer time (default: inferred)",
    )
    fc.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="local",
        help="where a statistical model runs: local processes, Ray or Dask (default: local)",
    )
    fc.add_argument(
        "--intervals",
        default="model",
        help="model (the model's own intervals, default), auto (calibrated for the statistical "
        "models where the data allow, else the model's own), conformal or calibrated (the "
        "model's own, conformalised); the last two need --levels",
    )
    fc.add_argument(
        "--time-budget-s",
        default=None,
        metavar="SECONDS",
        help="bound the whole call to SECONDS, or `none` for no bound (default: auto, a "
        "budget sized to the data for --model auto, none for the other models)",
    )
    fc.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the model, as forecast(model, NAME=VALUE) takes it; repeat it for "
        'more. VALUE is read as TOML (32, 0.5, true, ["theta", "ets"]), else as text: '
        "--param hidden_size=32 --param target_transform=log",
    )
    fc.set_defaults(run=_run_forecast)


def _freq(text: str) -> str | int:
    """`--freq` as `forecast(freq=...)` takes it: digits are an integer step, else an alias."""
    return int(text) if text.strip().isdigit() else text


# The commands, imported when they run.
def _run_backtest(args: argparse.Namespace) -> int:
    from tsforecast.cli.backtest import cmd_backtest

    return cmd_backtest(args)


def _run_forecast(args: argparse.Namespace) -> int:
    from tsforecast.cli.forecast import cmd_forecast

    return cmd_forecast(args)


def _run_datasets(args: argparse.Namespace) -> int:
    from tsforecast.cli.datasets import cmd_datasets

    return cmd_datasets(args)
