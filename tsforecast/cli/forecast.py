"""`tsforecast forecast DATA --horizon H`: forecast the future of a data set or a file.

The arguments are those of `tsforecast.forecast()` (model, levels, season length, fill, freq,
device, seed, column names), checked before any data is read; `--future FILE` is its
`future_df`, read as DATA's file is. The forecasts go to `--out`
(.csv, .parquet or .pq, written atomically) or to stdout as CSV; `--report x.html` also writes the
forecast's page (`tsforecast.report` of the forecast, with the data as its history).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from tsforecast.atomic import atomic_path, check_writable
from tsforecast.checks import check_levels, check_seed, positive_int
from tsforecast.cli.config import check_freq
from tsforecast.cli.csv_format import CsvFormat, check_csv_format, spell_flag
from tsforecast.cli.data import (
    DATA_SUFFIXES,
    DATA_SUFFIXES_TEXT,
    check_chosen_covariates,
    is_covariate_dtype,
    read_table,
)
from tsforecast.errors import InputError
from tsforecast.estimators import registry
from tsforecast.estimators.conformal import check_intervals

__all__ = ["cmd_forecast", "forecast_kwargs", "model_params"]


def forecast_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The checked command-line arguments that go to `forecast()` whatever the data."""
    from tsforecast.devices import resolve_device  # torch: imported when the command runs

    try:
        levels = check_levels(args.levels)
    except InputError as error:
        msg = f"`--levels`: {error} (on the command line: --levels 80 95)"
        raise InputError(msg) from None
    try:
        freq = None if args.freq is None else check_freq(args.freq)
    except InputError as error:
        raise InputError(f"`--freq`: {error}") from None
    registry.spec(args.model)  # an unknown name is refused with the closest registered one
    resolve_device(args.device, what="`--device`")  # before any data is read
    intervals = check_intervals(getattr(args, "intervals", "model"), "--intervals")
    if intervals not in ("model", "auto") and not levels:
        msg = f"`--intervals {intervals}` needs `--levels` (e.g. --levels 80 95)."
        raise InputError(msg)
    kwargs: dict[str, Any] = {
        "model": args.model,
        "levels": [int(v) if float(v).is_integer() else v for v in levels],
        "season_length": None
        if args.season_length is None
        else positive_int("--season-length", args.season_length),
        "fill": args.fill,
        "freq": freq,
        "device": args.device,
        "seed": check_seed(args.seed),
        "engine": args.engine,
        "intervals": intervals,
    }
    budget = getattr(args, "time_budget_s", None)
    if budget is not None:  # not given: forecast()'s own default ("auto")
        kwargs["time_budget_s"] = _time_budget(budget)
    kwargs.update(model_params(getattr(args, "param", None) or []))
    return kwargs


# the settings of the call that have flags of their own: `--param` does not set them
_FLAG_OF = {
    "model": "--model",
    "levels": "--levels",
    "season_length": "--season-length",
    "fill": "--fill",
    "freq": "--freq",
    "device": "--device",
    "seed": "--seed",
    "engine": "--engine",
    "intervals": "--intervals",
    "time_budget_s": "--time-budget-s",
    "id_col": "--id-col",
    "time_col": "--time-col",
    "target_col": "--target-col",
    "horizon": "--horizon",
    "df": "DATA",
    "future_df": "--future",
}


def model_params(items: list[str]) -> dict[str, Any]:
    """`--param NAME=VALUE` items as keyword arguments: VALUE read as a TOML value (numbers,
    booleans, strings in quotes, arrays, inline tables), else kept as text (`log`)."""
    import tomllib

    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            msg = f"`--param` takes NAME=VALUE (e.g. --param hidden_size=32), got {item!r}."
            raise InputError(msg)
        if name in _FLAG_OF:
            msg = f"`--param {name}=...`: set it with `{_FLAG_OF[name]}` instead."
            raise InputError(msg)
        if name in params:
            msg = f"`--param {name}` is given twice ({params[name]!r} and {text!r})."
            raise InputError(msg)
        try:
            params[name] = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            params[name] = text.strip()
    return params


def _time_budget(text: str) -> float | str | None:
    """`--time-budget-s` as `forecast(time_budget_s=...)` takes it: seconds, "auto" or "none"."""
    if text.strip().lower() in ("auto", "none"):
        return None if text.strip().lower() == "none" else "auto"
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        msg = (
            f"`--time-budget-s` must be a positive number of seconds, `auto` or `none`, "
            f"got {text!r}."
        )
        raise InputError(msg)
    return seconds


def cmd_forecast(args: argparse.Namespace) -> int:
    """The `forecast` command."""
    from tsforecast import forecast

    horizon = positive_int("--horizon", args.horizon)
    if args.out is not None and Path(args.out).suffix.lower() not in DATA_SUFFIXES:
        msg = f"`--out` must end in {DATA_SUFFIXES_TEXT}, got {args.out!r}."
        raise InputError(msg)
    if args.report is not None and Path(args.report).suffix.lower() not in (".html", ".htm"):
        msg = f"`--report` must end in .html, got {args.report!r}; e.g. dashboards/forecast.html."
        raise InputError(msg)
    for flag, target in (("--out", args.out), ("--report", args.report)):
        if target is not None:  # refused before any work: writing fails after the forecast
            check_writable(target, f"`{flag}`")
    kwargs = forecast_kwargs(args)
    future_path = _future_path(args)  # before DATA is read: a typo is said at once
    frame, id_col, time_col, targets, season = _forecast_data(args)
    _check_target_flags(targets, id_col, time_col)
    _check_columns_exist(frame, args, id_col, time_col, targets)
    if args.covariates is not None:
        frame = _with_covariates(frame, [id_col, time_col, *targets], args.covariates)
    if future_path is not None:
        kwargs["future_df"] = _future_frame(future_path, args, frame, id_col, time_col, targets)
    if kwargs["season_length"] is None:
        kwargs["season_length"] = season
    kwargs.update(
        id_col=id_col,
        time_col=time_col,
        target_col=targets[0] if len(targets) == 1 else targets,
    )
    started = time.perf_counter()
    try:
        out = forecast(frame, horizon, **kwargs)
    except InputError as error:
        if future_path is None:
            raise
        raise InputError(_as_future_file(str(error), args.future)) from None
    took = time.perf_counter() - started
    if args.report is not None:
        from tsforecast.report import report

        print(f"report: {report(out, args.report, history_df=frame)}", file=sys.stderr)
    if args.out is None:
        out.to_csv(sys.stdout, index=False)
        return 0
    with atomic_path(args.out) as tmp:
        if Path(args.out).suffix.lower() == ".csv":
            out.to_csv(tmp, index=False)
        else:  # `attrs` (JSON values) go into the file's metadata: pandas reads them back
            out.to_parquet(tmp, index=False)
    n_series = out[id_col].nunique() if id_col in out else "?"
    print(
        f"[tsforecast] {len(out)} rows ({n_series} series x {horizon} steps) in {took:.1f} s",
        file=sys.stderr,
    )
    print(f"forecasts: {args.out}")
    return 0


def _check_target_flags(targets: list[str], id_col: str, time_col: str) -> None:
    """`--target-col` naming a column twice, or the id or time column: said of the flag (the
    frame built from it was refused for "duplicated column names" the file does not have)."""
    twice = sorted({c for c in targets if targets.count(c) > 1})
    if twice:
        msg = f"`--target-col` names {twice} more than once; name each target once."
        raise InputError(msg)
    for flag, role, col in (("--id-col", "id", id_col), ("--time-col", "time", time_col)):
        if col in targets:
            msg = (
                f"`--target-col {col}` names the {role} column (`{flag} {col}`); name the targets."
            )
            raise InputError(msg)


def _check_columns_exist(
    frame: pd.DataFrame, args: argparse.Namespace, id_col: str, time_col: str, targets: list[str]
) -> None:
    """A column the flags name (or, without the flag, its default) that the data lack, said of
    the flag: `forecast()`'s own refusal says `target_col=`, which the command line has not."""
    roles = [("--id-col", "id", id_col), ("--time-col", "time", time_col)]
    roles += [("--target-col", "target", t) for t in targets]
    roles += [("--covariates", "covariate", c) for c in args.covariates or []]
    found = [str(c) for c in frame.columns]
    for flag, role, col in roles:
        if col in frame.columns:
            continue
        close = difflib.get_close_matches(col, found, n=1)
        hint = f"; did you mean `{flag} {close[0]}`?" if close else "."
        if getattr(args, flag[2:].replace("-", "_")) is not None:
            msg = f"`{flag}` names {col!r}, which the data lack (its columns: {found}){hint}"
        else:
            msg = (
                f"the data lack the default {role} column {col!r} (its columns: {found}); "
                f"name the {role} column with `{flag}`{hint if close else '.'}"
            )
        raise InputError(msg)


def _with_covariates(frame: pd.DataFrame, keys: list[str], covariates: list[str]) -> pd.DataFrame:
    """`frame` cut to its id, time and target columns and the `--covariates` named (none when
    none are): a file's other columns are covariates by default, which a statistical model
    refuses, and the command line has no other way to leave them out."""
    twice = sorted({c for c in covariates if covariates.count(c) > 1})
    if twice:  # else refused as the "duplicated column names" of the frame cut below
        msg = f"`--covariates` names {twice} more than once; name each covariate once."
        raise InputError(msg)
    doubled = [c for c in covariates if c in keys]
    if doubled:
        msg = f"`--covariates` names {doubled}, which are the id, time or target columns."
        raise InputError(msg)
    check_chosen_covariates(frame, covariates, "`--covariates`")
    return frame[[*keys, *covariates]]


def _future_path(args: argparse.Namespace) -> Path | None:
    """`--future` as a path to an existing CSV or parquet file, and a model that reads it;
    refused as the flag otherwise (`forecast()` would speak of `future_df`)."""
    if args.future is None:
        return None
    from tsforecast import datasets

    path = Path(args.future)
    if not path.is_file():
        if not path.exists() and (args.future in datasets.names() or _is_dataset(args.future)):
            # DATA takes a data set name; known future values are the user's own file
            msg = (
                f"`--future` takes a {DATA_SUFFIXES_TEXT} file of known-future covariates, "
                f"got the data set name {args.future!r}; pass the path of your file."
            )
        else:
            msg = (
                f"`--future` file {args.future!r} does not exist (looked for "
                f"{str(path.resolve())!r})."
            )
        raise InputError(msg)
    if path.suffix.lower() not in DATA_SUFFIXES:
        msg = f"`--future` file {args.future!r} must be a {DATA_SUFFIXES_TEXT} file."
        raise InputError(msg)
    spec = registry.spec(args.model)
    if not spec.capabilities.future_covariates:
        msg = (
            f"`--future` gives known-future covariates, which `--model {args.model}` does not "
            "use; choose a model that does (--model lstm, bilstm or seq2seq), or drop `--future`."
        )
        raise InputError(msg)
    return path


def _future_frame(
    path: Path,
    args: argparse.Namespace,
    data: pd.DataFrame,
    id_col: str,
    time_col: str,
    targets: list[str],
) -> pd.DataFrame:
    """The `--future` file as `forecast(future_df=...)` takes it, read as DATA's file is (ids
    as text, the time column parsed as `to_panel` parses DATA's), its columns checked against
    DATA's here, so that a refusal names the file and the flags rather than `future_df`."""
    from tsforecast.data.timestamps import time_stamps

    what = "the `--future` file"
    future = read_table(path, id_col, id_col_given=True, what=what, csv=_csv_format(args))
    found = [str(c) for c in future.columns]
    if id_col not in future.columns:
        ids = pd.unique(data[id_col])
        if args.id_col is None and len(ids) == 1:
            # one series, as a data file without the id column is: these rows are its future
            future.insert(0, id_col, ids[0])
        else:
            msg = (
                f"{what} {args.future!r} has no id column {id_col!r} (its columns: {found}); "
                f"give it the id column of the data, or name it with `--id-col`."
            )
            raise InputError(msg)
    if time_col not in future.columns:
        msg = (
            f"{what} {args.future!r} has no time column {time_col!r} (its columns: {found}); "
            f"give it the time column of the data, or name it with `--time-col`."
        )
        raise InputError(msg)
    try:  # the rule the data's stamps are read by (DST offsets, day-first dates, integers)
        future[time_col] = time_stamps(future[time_col], time_col)
        data_stamps = time_stamps(data[time_col], time_col)
    except InputError as error:
        raise InputError(f"{what} {args.future!r}: {error}") from None
    aware = [getattr(s.dtype, "tz", None) is not None for s in (data_stamps, future[time_col])]
    if aware[0] != aware[1]:  # else refused inside `forecast()` with pandas advice
        future_file = f"{what} {args.future!r}"
        with_tz, without = ("the data", future_file) if aware[0] else (future_file, "the data")
        msg = (
            f"the time stamps of {with_tz} carry a UTC offset or time zone and those of "
            f"{without} do not; write both files' stamps the same way (both with offsets, "
            "e.g. '2021-03-01T00:00:00+01:00', or both without)."
        )
        raise InputError(msg)
    # ids as the data has them: a parquet file keeps integer ids where a CSV's are text
    as_in_data = {str(i): i for i in pd.unique(data[id_col])}
    future[id_col] = [as_in_data.get(str(i), i) for i in future[id_col]]
    covariates = [c for c in found if c not in (id_col, time_col)]
    if not covariates:  # nothing to read: the flag would change nothing without a word
        msg = (
            f"{what} {args.future!r} holds no covariate (its columns: {found}); add the "
            "columns whose future values are known, each also a column of the data."
        )
        raise InputError(msg)
    given_targets = [c for c in covariates if c in targets]
    if given_targets:
        msg = (
            f"{what} {args.future!r} holds the target columns {given_targets}: their future "
            "is what is forecast; leave them out of it."
        )
        raise InputError(msg)
    unknown = [c for c in covariates if c not in data.columns]
    if unknown:
        if args.covariates is not None:
            where, fix = "the `--covariates` chosen", "name it in `--covariates` too"
        else:
            where, fix = "the data", "add its history to the data"
        msg = (
            f"{what} {args.future!r} has columns {unknown} that are not in {where} (the "
            f"data's columns: {[str(c) for c in data.columns]}); a known-future covariate is "
            f"also a covariate of the data: {fix}, or leave it out of the file."
        )
        raise InputError(msg)
    for col in covariates:  # else refused inside `forecast()` with pandas advice
        if not is_covariate_dtype(future[col].dtype):
            values = future[col].dropna()
            example = values.iloc[0] if len(values) else None
            msg = (
                f"{what} {args.future!r} holds {col!r} as {future[col].dtype} values (e.g. "
                f"{example!r}); a covariate must be numbers or booleans: write it so."
            )
            raise InputError(msg)
    return future


def _as_future_file(message: str, future: str) -> str:
    """A refusal of `forecast()` about its `future_df` (steps without a row, ids the data do
    not have), said of the `--future` file and the data: the command line has no `future_df`
    and no `df`. The checks themselves stay in one place, the library."""
    named = f"the `--future` file {future!r}"
    message = message.replace(". `future_df`", f". The{named[3:]}")  # a sentence's start
    return message.replace("`future_df`", named).replace("`df`", "the data")


def _forecast_data(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, str, str, list[str], int | None]:
    """The frame, its id, time and target columns, and its season length when known."""
    from tsforecast import datasets

    path = Path(args.data)
    if path.suffix.lower() in DATA_SUFFIXES or path.exists():
        if path.is_dir():
            msg = (
                f"data file {args.data!r} is a folder; pass one {DATA_SUFFIXES_TEXT} file in "
                "it (a data set of several files is not read as one)."
            )
            raise InputError(msg)
        if not path.is_file():
            msg = f"data file {args.data!r} does not exist (looked for {str(path.resolve())!r})."
            raise InputError(msg)
        if path.suffix.lower() not in DATA_SUFFIXES:
            msg = f"data file {args.data!r} must be a {DATA_SUFFIXES_TEXT} file."
            raise InputError(msg)
        id_col = args.id_col or "unique_id"
        frame = read_table(path, id_col, args.id_col is not None, csv=_csv_format(args))
        return frame, id_col, args.time_col or "ds", args.target_col or ["y"], None
    given = [f"--{k}" for k in ("sep", "decimal", "thousands") if getattr(args, k, None)]
    if given:  # a shipped data set is read by its own loader: the flags would do nothing
        msg = f"`{' '.join(given)}` is for a CSV file, and {args.data!r} is a shipped data set."
        raise InputError(msg)
    if args.data not in datasets.names() and not _is_dataset(args.data):
        msg = (
            f"{args.data!r} is neither a file nor a shipped data set; pass a "
            f"{DATA_SUFFIXES_TEXT} path or one of {datasets.names()}."
        )
        raise InputError(msg)
    loaded = datasets.load(args.data)
    if not isinstance(loaded, datasets.ForecastingDataset):
        msg = f"{args.data!r} is a classification data set; pass a forecasting one."
        raise InputError(msg)
    # a data set names its own id and time columns: another name would be silently ignored
    for flag, given, own in (
        ("--id-col", args.id_col, loaded.id_col),
        ("--time-col", args.time_col, loaded.time_col),
    ):
        if given is not None and given != own:
            msg = (
                f"`{flag} {given}` is for a data file; the data set {args.data!r} has its own "
                f"columns {list(loaded.df.columns)} (its {flag[2:]} is {own!r}); drop `{flag}`."
            )
            raise InputError(msg)
    return (
        loaded.df,
        loaded.id_col,
        loaded.time_col,
        args.target_col or list(loaded.target_cols),
        loaded.season_length,
    )


def _csv_format(args: argparse.Namespace) -> CsvFormat:
    """`--sep`, `--decimal` and `--thousands` (absent ones: a plain CSV's)."""
    return check_csv_format(
        getattr(args, "sep", None),
        getattr(args, "decimal", None),
        getattr(args, "thousands", None),
        spell_flag,
    )


def _is_dataset(name: str) -> bool:
    """A shipped data set under another spelling ("AirPassengers")."""
    from tsforecast import datasets

    try:
        datasets.load(name)
    except InputError:
        return False
    return True
