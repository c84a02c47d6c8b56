"""What the contract suite shares: the feature matrix, its frames, one runner per entry point,
the checks every output must pass, and the one table of known bugs (`KNOWN_BUGS`).

A *case* names one combination: model x entry point x targets x covariates x levels x frame
type x time type (plus, for the focused tests, what is checked). `expected_refusal(case)` reads
the model's `Capabilities` from the registry and says whether the case must be refused with an
`InputError`; otherwise it must work and its output must pass `check_wide` / `check_long`.

Known bugs: a case that fails today because of a bug someone is fixing is listed in
`KNOWN_BUGS` (reason -> which cases it breaks) and runs as `xfail(strict=True)`: the moment the
bug is fixed the case XPASSes, the suite goes red, and the entry is deleted here.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
import tsforecast.models
from tsforecast.api import forecast
from tsforecast.backtest import backtest
from tsforecast.errors import NotFittedError
from tsforecast.estimators import registry
from tsforecast.estimators.base import Capabilities

# --------------------------------------------------------------------------- the matrix
ID, TIME = "unique_id", "ds"
TARGETS = ("y", "y2")  # y around 1e3, y2 around 1e0: a target in the other's units is caught
PAST, FUTURE = "x", "f"  # a past covariate; a known-future covariate (also given in future_df)
LENGTHS = {"s2": 46, "s1": 40}  # unequal lengths, unsorted ids: the series end at different times
HORIZON = 4
N_WINDOWS = 2
CUTOFF_POSITIONS = (30, 34)  # positions every series holds, for predict_cutoffs
LEVELS = (80, 95)
WIDEN = 3.0  # a forecast must lie within its history's [min, max] widened by 3 ranges

N_TARGETS_DIM = (1, 2)
COVARIATES_DIM = ("none", "past", "future")
LEVELS_DIM: tuple[tuple[float, ...], ...] = ((), LEVELS)
FRAMES_DIM = ("pandas", "polars")
TIMES_DIM = ("int", "datetime")
FILES_DIM = ("parquet", "csv")  # the TOML entry point reads a file: its "frame type"
ENTRIES = ("estimator", "forecast", "backtest", "toml")

STATISTICAL = tuple(registry.names("statistical"))
NEURAL = tuple(registry.names("neural"))
MODELS = tuple(registry.names())

# Tiny budgets: the suite checks the contract, not accuracy. Entry-point arguments that every
# model shares (device, n_jobs) go through the entry point's own arguments, not these params.
TINY_PARAMS: dict[str, dict[str, Any]] = {
    **{
        name: {
            "input_size": 8,
            "hidden_size": 4,
            "head_hidden_size": 4,
            "num_layers": 1,
            "max_steps": 3,
            "batch_size": 16,
            "progress": False,
        }
        for name in NEURAL
    },
    "auto": {"candidates": ["naive", "seasonal_naive"]},
}
ENTRY_ARGS: dict[str, Any] = {"device": "cpu", "n_jobs": 1}


@dataclass(frozen=True)
class Case:
    """One combination of the matrix, or one focused check (`check`) of one model."""

    check: str
    model: str
    entry: str = "estimator"
    n_targets: int = 1
    covariates: str = "none"
    levels: tuple[float, ...] = ()
    frame: str = "pandas"  # for the TOML entry point: the data file's format
    time: str = "datetime"
    param: str = ""

    @property
    def id(self) -> str:
        parts = [self.model, self.entry]
        if self.check == "matrix":
            parts += [
                f"{self.n_targets}target",
                f"cov-{self.covariates}",
                "levels" if self.levels else "nolevels",
                self.frame,
                f"{self.time}-ds",
            ]
        if self.check == "dtypes":
            parts += [self.frame, self.time]
        if self.param:
            parts.append(self.param)
        return "-".join(parts)

    @property
    def target_col(self) -> str | list[str]:
        return TARGETS[0] if self.n_targets == 1 else list(TARGETS[: self.n_targets])


# --------------------------------------------------------------------------- known bugs
@dataclass(frozen=True)
class KnownBug:
    """A bug that breaks `applies(case)` today; the cause, where it could be told."""

    reason: str
    applies: Callable[[Case], bool]


def _matrix(case: Case) -> bool:
    return case.check == "matrix"


KNOWN_BUGS: dict[str, KnownBug] = {}


def known_bugs(case: Case) -> list[str]:
    """The names of the known bugs that break `case`."""
    return [name for name, bug in KNOWN_BUGS.items() if bug.applies(case)]


def param(case: Case) -> Any:
    """`case` as a pytest param, marked xfail(strict=True) when a known bug breaks it."""
    reasons = [KNOWN_BUGS[name].reason for name in known_bugs(case)]
    marks = [pytest.mark.xfail(strict=True, reason=" AND ".join(reasons))] if reasons else []
    return pytest.param(case, id=case.id, marks=marks)


# --------------------------------------------------------------------------- capabilities
def capabilities(name: str) -> Capabilities | None:
    """What `name` can use, from the registry (None when its class cannot be imported yet).

    A meta-estimator (`auto`) can use what its candidates (here: its tiny candidates) can use.
    """
    try:
        model = registry.spec(name)
        if model.kind != "meta":
            return model.capabilities
        members = [registry.spec(n).capabilities for n in TINY_PARAMS[name]["candidates"]]
    except ImportError:
        return None
    return Capabilities(
        **{f.name: any(getattr(m, f.name) for m in members) for f in fields(Capabilities)}
    )


UNKNOWN = "unknown"


def expected_refusal(case: Case) -> str | None:
    """Why the capability table says `case` must be refused (None: it must work; UNKNOWN: the
    model's class is not importable yet, so a refusal is accepted, except for the plainest
    request: one target, no covariates, no levels)."""
    caps = capabilities(case.model)
    if caps is None:
        plain = case.n_targets == 1 and case.covariates == "none" and not case.levels
        return None if plain else UNKNOWN
    if case.n_targets > 1 and not caps.multivariate:
        return "several targets"
    if case.covariates == "past" and not caps.past_covariates:
        return "past covariates"
    if case.covariates == "future" and not caps.future_covariates:
        return "known-future covariates"
    if case.levels and not caps.levels:
        return "levels"
    return None


def tiny_params(name: str) -> dict[str, Any]:
    """The tiny budget of `name`, restricted to the parameters its class takes."""
    params = dict(TINY_PARAMS.get(name, {}))
    try:
        allowed = set(registry.spec(name).user_param_names())
    except ImportError:
        return params
    return {k: v for k, v in params.items() if k in allowed}


# --------------------------------------------------------------------------- pairwise cover
def all_pairs(
    dims: Mapping[str, Sequence[Any]], rows: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """A small set of rows (of the product of `dims`, or picked from `rows`) that holds every
    pair of values of every two of the `dims` (greedy; deterministic). Of the product, the
    all-last row (every feature at once) and the all-first row come first; of `rows`, the
    first."""
    names = list(dims)
    if rows is None:
        product = [dict(zip(names, v, strict=True)) for v in itertools.product(*dims.values())]
        rows, seeds = product, [product[-1], product[0]]
    else:
        seeds = [rows[0]]

    def pairs(row: Mapping[str, Any]) -> set[tuple[Any, ...]]:
        return {(a, repr(row[a]), b, repr(row[b])) for a, b in itertools.combinations(names, 2)}

    def greedy(order: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        chosen = [dict(seed) for seed in seeds]
        uncovered = set().union(*(pairs(r) for r in rows)) - set().union(*map(pairs, seeds))
        while uncovered:
            best = max(order, key=lambda r: len(pairs(r) & uncovered))
            chosen.append(dict(best))
            uncovered -= pairs(best)
        return chosen

    # greedy under a few fixed tie-breaking orders; the smallest cover wins
    shuffles = [np.random.default_rng(k).permutation(len(rows)) for k in range(20)]
    covers = [greedy([rows[i] for i in order]) for order in [range(len(rows)), *shuffles]]
    return min(covers, key=len)


# --------------------------------------------------------------------------- frames
@dataclass(frozen=True)
class Data:
    """The frames of one case: `df` and `future_df` in the case's frame type, and the same
    numbers as pandas (`history`) for the checks."""

    df: Any
    future_df: Any | None
    history: pd.DataFrame
    future: pd.DataFrame | None


def history_frame(
    n_targets: int, covariates: str, time: str, lengths: Mapping[str, int] = LENGTHS, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(history, known-future rows) in pandas. Weekly-seasonal daily series; y near 1e3, y2
    near 1e0; covariate `x` (past) or `f` (known-future, a deterministic weekly signal)."""
    rng = np.random.default_rng(seed)
    parts, futures = [], []
    for k, (series_id, n) in enumerate(lengths.items()):
        steps = np.arange(n + HORIZON)
        season = np.sin(2 * np.pi * steps / 7)
        if time == "datetime":
            stamps: Any = pd.date_range("2024-01-01", periods=n + HORIZON, freq="D")
        else:
            stamps = np.arange(1, n + HORIZON + 1, dtype=np.int64)
        part = pd.DataFrame({ID: series_id, TIME: stamps})
        part["y"] = 1000.0 + 100.0 * season + np.cumsum(rng.normal(0.0, 10.0, n + HORIZON))
        if n_targets > 1:
            part["y2"] = 1.0 + 0.3 * season + rng.normal(0.0, 0.05, n + HORIZON)
        if covariates == "past":
            part[PAST] = rng.normal(50.0, 10.0, n + HORIZON)
        if covariates == "future":
            part[FUTURE] = 20.0 + 5.0 * np.cos(2 * np.pi * steps / 7) + k
        parts.append(part.iloc[:n])
        futures.append(part.iloc[n:][[ID, TIME, FUTURE]] if covariates == "future" else None)
    history = pd.concat(parts, ignore_index=True)
    future = pd.concat(futures, ignore_index=True) if covariates == "future" else None
    return history, future


def as_frame(pdf: pd.DataFrame, kind: str) -> Any:
    return pl.from_pandas(pdf) if kind == "polars" else pdf.copy()


def case_data(case: Case) -> Data:
    history, future = history_frame(case.n_targets, case.covariates, case.time)
    kind = "pandas" if case.entry == "toml" else case.frame
    return Data(
        df=as_frame(history, kind),
        future_df=None if future is None else as_frame(future, kind),
        history=history,
        future=future,
    )


def to_pandas(frame: Any) -> pd.DataFrame:
    return frame.to_pandas() if isinstance(frame, pl.DataFrame) else frame


def native_dtype(frame: Any, col: str) -> Any:
    return frame.schema[col] if isinstance(frame, pl.DataFrame) else frame[col].dtype


def scramble_after(df: pd.DataFrame, cutoffs: Mapping[Any, Any], seed: int) -> pd.DataFrame:
    """Every target and covariate value after each series' cutoff replaced by wild values."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    after = out[TIME] > out[ID].map(cutoffs)
    for col in [c for c in out.columns if c not in (ID, TIME)]:
        out.loc[after, col] = rng.normal(1e6, 1e6, size=int(after.sum()))
    return out


# --------------------------------------------------------------------------- entry points
class Recorded(BaseException):
    """Raised by a recording `fit` to stop an entry point once the estimator is seen."""


def build(case: Case, params: Mapping[str, Any] | None = None, **shared: Any) -> Any:
    """The registered estimator of `case`, built as every entry point builds it."""
    arguments = {
        "horizon": HORIZON,
        "levels": list(case.levels) or None,
        "target_col": case.target_col,
        **ENTRY_ARGS,
        **shared,
    }
    return registry.build(
        case.model, tiny_params(case.model) if params is None else params, **arguments
    )


def cutoff_stamps(history: pd.DataFrame) -> list[Any]:
    first = history[history[ID] == history[ID].iloc[0]][TIME]
    return [first.iloc[p] for p in CUTOFF_POSITIONS]


def run_estimator(case: Case, data: Data) -> dict[str, Any]:
    """fit / predict / predict_cutoffs / save / load; returns the `predict` and
    `predict_cutoffs` frames. On the way: NotFittedError before fit; predict(the training
    frame) is predict(); a cutoff's forecasts are predict() on the history up to that cutoff
    (up to float32 rounding); after save / load, the very same forecasts."""
    model = build(case)
    cutoffs = cutoff_stamps(data.history)
    for call in (
        lambda: model.predict(),
        lambda: model.predict_cutoffs(data.df, cutoffs),
        lambda: model.save(os.devnull),
    ):
        with pytest.raises(NotFittedError):
            call()
    model.fit(data.df, future_df=data.future_df)
    out = {
        "predict": model.predict(future_df=data.future_df),
        "cutoffs": model.predict_cutoffs(data.df, cutoffs, future_df=data.future_df),
    }
    again = model.predict(data.df, future_df=data.future_df)
    assert_same_frame(again, out["predict"], "predict(the training frame)")

    upto, after = data.history[TIME] <= cutoffs[0], data.history[TIME] > cutoffs[0]
    known = None  # the known-future covariates after the cutoff, from the frame itself
    if data.future is not None:
        known = data.history[after].groupby(ID).head(HORIZON)[[ID, TIME, FUTURE]]
    at_cutoff = model.predict(data.history[upto], future_df=known)
    from_cutoffs = to_pandas(out["cutoffs"])
    from_cutoffs = from_cutoffs[from_cutoffs["cutoff"] == cutoffs[0]].drop(columns="cutoff")
    np.testing.assert_allclose(
        numbers(case, {"f": from_cutoffs})["f"],
        numbers(case, {"f": at_cutoff})["f"],
        rtol=1e-5,
        err_msg="predict_cutoffs at a cutoff is not predict() on the history up to it",
    )

    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model")
        loaded = tsf.models.load(Path(folder) / "model")
    assert type(loaded) is type(model)
    assert_same_frame(loaded.predict(future_df=data.future_df), out["predict"], "after load")
    assert_same_frame(
        loaded.predict_cutoffs(data.df, cutoffs, future_df=data.future_df),
        out["cutoffs"],
        "predict_cutoffs after load",
    )
    return out


def run_forecast(case: Case, data: Data, params: Mapping[str, Any] | None = None) -> Any:
    return forecast(
        data.df,
        HORIZON,
        model=case.model,
        levels=case.levels,
        future_df=data.future_df,
        target_col=case.target_col,
        **{**ENTRY_ARGS, **(tiny_params(case.model) if params is None else params)},
    )


def run_backtest(case: Case, data: Data, params: Mapping[str, Any] | None = None) -> Any:
    return backtest(
        data.df,
        models=[(case.model, tiny_params(case.model) if params is None else dict(params))],
        horizon=HORIZON,
        n_windows=N_WINDOWS,
        levels=case.levels,
        target_col=case.target_col,
        **ENTRY_ARGS,
    ).forecasts


def toml_value(value: Any) -> str:
    """A TOML literal of a param value (TOML has no null: None is not written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    msg = f"no TOML literal for {value!r}"
    raise TypeError(msg)


def write_config(
    case: Case, folder: Path, history: pd.DataFrame, params: Mapping[str, Any] | None = None
) -> Path:
    """The experiment config of `case` (and its data file, of the case's format) in `folder`."""
    data_file = folder / f"data.{case.frame if case.frame in FILES_DIM else 'parquet'}"
    if data_file.suffix == ".csv":
        history.to_csv(data_file, index=False)
    else:
        history.to_parquet(data_file, index=False)
    params = tiny_params(case.model) if params is None else params
    lines = [
        'name = "contract"',
        f'device = "{ENTRY_ARGS["device"]}"',
        "[data]",
        f'path = "{data_file.name}"',
        f"target_col = {toml_value(case.target_col)}",
        "[backtest]",
        f"horizon = {HORIZON}",
        f"n_windows = {N_WINDOWS}",
        f"levels = {toml_value(list(case.levels))}",
        f"n_jobs = {ENTRY_ARGS['n_jobs']}",
        f"[models.{case.model}]",
        *(f"{k} = {toml_value(v)}" for k, v in params.items() if v is not None),
    ]
    path = folder / "contract.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_toml(case: Case, data: Data, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Write the config and its data, run it as the command line does; the forecasts frame
    (checked equal to the `forecasts.parquet` the run wrote)."""
    from tsforecast.cli.backtest import run_backtest as run_config
    from tsforecast.cli.config import load_config

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = load_config(write_config(case, folder, data.history, params))
        outcome = run_config(
            config, results_dir=folder / "results", dashboards_dir=folder / "dashboards"
        )
        forecasts = to_pandas(outcome["result"].forecasts)
        written = pd.read_parquet(Path(outcome["results"]) / "forecasts.parquet")
    assert_same_frame(written, forecasts, "forecasts.parquet")
    return forecasts


def run(case: Case, data: Data) -> Any:
    runners: dict[str, Callable[[Case, Data], Any]] = {
        "estimator": run_estimator,
        "forecast": run_forecast,
        "backtest": run_backtest,
        "toml": run_toml,
    }
    return runners[case.entry](case, data)


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    data: Data | None = field(default=None, repr=False)


@cache
def outcome(case: Case) -> Outcome:
    """Run `case` once per session (its frame-type twin compares against it)."""
    data = case_data(case)
    try:
        return Outcome(value=run(case, data), data=data)
    except Exception as error:
        return Outcome(error=error, data=data)


# --------------------------------------------------------------------------- output checks
def assert_same_frame(got: Any, want: Any, what: str) -> None:
    pd.testing.assert_frame_equal(to_pandas(got), to_pandas(want), obj=what)


def value_columns(targets: Sequence[str], levels: Sequence[float], long: bool) -> list[str]:
    """The forecast columns: per target T, T (or y_hat) then T_lo_80, T_hi_80, T_lo_95 ..."""
    cols = []
    for target in ["y"] if long else targets:
        cols.append("y_hat" if long else target)
        for level in levels:
            cols += [f"{target}_lo_{level:g}", f"{target}_hi_{level:g}"]
    return cols


def steps_after(last: Any, n: int, time: str) -> list[Any]:
    """The `n` time stamps after `last` (daily, or integers)."""
    if time == "datetime":
        return list(pd.date_range(last, periods=n + 1, freq="D")[1:])
    return [int(last) + k for k in range(1, n + 1)]


def check_values(
    pdf: pd.DataFrame, history: pd.DataFrame, targets: Sequence[str], levels: Sequence[float]
) -> None:
    """Finite, each target in its own units, lo_95 <= lo_80 <= point <= hi_80 <= hi_95."""
    long = "y_hat" in pdf.columns
    for target in targets:
        rows = pdf[pdf["target"] == target] if long else pdf
        point_col = "y_hat" if long else target
        prefix = "y" if long else target
        cols = [point_col, *(f"{prefix}_{s}_{lv:g}" for lv in levels for s in ("lo", "hi"))]
        values = rows[cols].to_numpy(dtype=np.float64)
        assert np.isfinite(values).all(), f"non-finite forecasts of {target!r}"
        for series_id, group in rows.groupby(ID, sort=False):
            past = history.loc[history[ID] == series_id, target]
            lo, hi = float(past.min()), float(past.max())
            width = WIDEN * (hi - lo)
            point = group[point_col].to_numpy(dtype=np.float64)
            assert ((point >= lo - width) & (point <= hi + width)).all(), (
                f"forecasts of {target!r} for series {series_id!r} are not in its units: "
                f"{point.round(3).tolist()} vs a history in [{lo:.3f}, {hi:.3f}]"
            )
        bounds = [f"{prefix}_lo_{lv:g}" for lv in sorted(levels, reverse=True)]
        bounds += [point_col] + [f"{prefix}_hi_{lv:g}" for lv in sorted(levels)]
        ordered = rows[bounds].to_numpy(dtype=np.float64)
        assert (np.diff(ordered, axis=1) >= 0).all(), f"intervals of {target!r} out of order"


def check_types(out: Any, df: Any, frame: str, cols: Sequence[str]) -> None:
    """The input's frame type, and the input's dtypes for `cols` (id, time, cutoff)."""
    kind = "polars" if isinstance(out, pl.DataFrame) else "pandas"
    assert kind == frame, f"a {frame} frame in, a {kind} frame out"
    time_dtype = native_dtype(df, TIME)
    for col in cols:
        want = native_dtype(df, ID) if col == ID else time_dtype
        assert native_dtype(out, col) == want, f"{col}: {native_dtype(out, col)} != {want}"


def check_wide(out: Any, case: Case, data: Data, cutoffs: Sequence[Any] = ()) -> None:
    """A forecast() / predict() / predict_cutoffs() frame: input's type and schema, the horizon
    after each series' end (or after each cutoff), sane values."""
    targets = list(TARGETS[: case.n_targets])
    keys = [ID, TIME, *(["cutoff"] if cutoffs else [])]
    pdf = to_pandas(out)
    assert list(pdf.columns) == keys + value_columns(targets, case.levels, long=False)
    check_types(out, data.df, case.frame, keys)
    for col in value_columns(targets, case.levels, long=False):
        assert pd.api.types.is_float_dtype(pdf[col]), f"{col} is {pdf[col].dtype}"
    stamp = pd.Timestamp if case.time == "datetime" else int
    expected = []
    for series_id, group in data.history.groupby(ID, sort=False):
        for last in cutoffs or [group[TIME].iloc[-1]]:
            extra = [stamp(last)] if cutoffs else []
            expected += [(series_id, t, *extra) for t in steps_after(last, HORIZON, case.time)]
    got = sorted(
        ((i, *map(stamp, times)) for i, *times in pdf[keys].itertuples(index=False)), key=repr
    )
    assert got == sorted(expected, key=repr), "not the horizon after each series' end / cutoff"
    check_values(pdf, data.history, targets, case.levels)


def check_long(out: Any, case: Case, data: Data) -> None:
    """A backtest forecasts frame: input's type, id/time/cutoff dtypes, every fold's actuals,
    sane forecasts."""
    targets = list(TARGETS[: case.n_targets])
    pdf = to_pandas(out)
    keys = [ID, TIME, "cutoff", "model", "target", "y"]
    assert list(pdf.columns) == keys + value_columns(targets, case.levels, long=True)
    if case.entry == "toml":  # read from a file: its own pandas dtypes
        assert isinstance(out, pd.DataFrame)
        kind = "M" if case.time == "datetime" else "i"
        assert {pdf[TIME].dtype.kind, pdf["cutoff"].dtype.kind} == {kind}
    else:
        check_types(out, data.df, case.frame, [ID, TIME, "cutoff"])
    assert set(pdf["model"]) == {case.model}
    stamp = pd.Timestamp if case.time == "datetime" else int
    expected = []
    for target in targets:
        for series_id, group in data.history.groupby(ID, sort=False):
            for k in range(N_WINDOWS):
                cut = len(group) - HORIZON - (N_WINDOWS - 1 - k) * HORIZON - 1
                for h in range(1, HORIZON + 1):
                    row = group.iloc[cut + h]
                    cutoff = stamp(group[TIME].iloc[cut])
                    expected.append((series_id, stamp(row[TIME]), cutoff, target, row[target]))
    got = [
        (i, stamp(t), stamp(c), target, y)
        for i, t, c, target, y in pdf[[ID, TIME, "cutoff", "target", "y"]].itertuples(index=False)
    ]
    assert sorted(got, key=repr) == sorted(expected, key=repr), "not the folds' actuals"
    check_values(pdf, data.history, targets, case.levels)


def check_output(case: Case, value: Any, data: Data) -> None:
    if case.entry == "estimator":
        check_wide(value["predict"], case, data)
        check_wide(value["cutoffs"], case, data, cutoffs=cutoff_stamps(data.history))
    elif case.entry == "forecast":
        check_wide(value, case, data)
    else:
        check_long(value, case, data)


def numbers(case: Case, value: Any) -> dict[str, np.ndarray]:
    """The forecast numbers of an output in a canonical row order, named by what made them
    (forecast() is named as the estimator's predict), for twin comparisons."""
    names = {"forecast": "predict", "backtest": "backtest", "toml": "backtest"}
    frames = value if case.entry == "estimator" else {names[case.entry]: value}
    out = {}
    for name, frame in frames.items():
        pdf = to_pandas(frame)
        keys = [c for c in (ID, TIME, "cutoff", "target") if c in pdf.columns]
        pdf = pdf.assign(**{k: pdf[k].astype(str) for k in keys}).sort_values(keys)
        cols = [c for c in pdf.columns if c not in (*keys, "model")]
        out[name] = pdf[cols].to_numpy(dtype=np.float64)
    return out


def twin(case: Case) -> Case | None:
    """The case whose forecasts must be the very same numbers as `case`'s (another fit with the
    same seed on the same data): for a polars estimator case its pandas twin; for forecast()
    the estimator's predict(); for a TOML config the backtest() of the same data."""
    if case.entry == "estimator":
        return replace(case, frame="pandas") if case.frame == "polars" else None
    if case.entry == "forecast":
        return replace(case, entry="estimator")
    if case.entry == "toml":
        return replace(case, entry="backtest", frame=FRAMES_DIM[FILES_DIM.index(case.frame)])
    return None


def matrix_cases() -> Iterator[Case]:
    """The full product for the estimator entry point; for forecast() and backtest() an
    all-pairs cover of the other dimensions; for TOML the backtest() cover, with the data
    file's format (parquet, CSV) in place of the frame type."""
    for model in MODELS:
        for n_targets, cov, levels, frame, time in itertools.product(
            N_TARGETS_DIM, COVARIATES_DIM, LEVELS_DIM, FRAMES_DIM, TIMES_DIM
        ):
            yield Case("matrix", model, "estimator", n_targets, cov, levels, frame, time)
        dims: dict[str, Sequence[Any]] = {
            "n_targets": N_TARGETS_DIM,
            "covariates": COVARIATES_DIM,
            "levels": LEVELS_DIM,
            "frame": FRAMES_DIM,
            "time": TIMES_DIM,
        }
        for row in all_pairs(dims):
            yield Case("matrix", model, "forecast", **row)
        # backtest() and configs have no way to say a covariate is known in advance
        backtest_rows = all_pairs({**dims, "covariates": COVARIATES_DIM[:2]})
        for row in backtest_rows:
            yield Case("matrix", model, "backtest", **row)
        toml_dims = {k: dims[k] for k in ("n_targets", "levels", "frame")}
        for row in all_pairs({**toml_dims, "covariates": COVARIATES_DIM[:2]}, backtest_rows):
            file = FILES_DIM[FRAMES_DIM.index(row.pop("frame"))]
            yield Case("matrix", model, "toml", frame=file, **row)


def refusal_pattern(reason: str) -> str:
    return {
        "several targets": "target",
        "past covariates": "covariate",
        "known-future covariates": "covariate|future_df",
        "levels": "level",
    }[reason]
