"""Backtest result -> one self-contained, offline plotly HTML dashboard.

`report(result, path)` writes a single HTML file with plotly.js inlined (no CDN, no request
to any network: it opens from a USB stick on a plane) holding:

- the leaderboard table (one row per model, from `result.leaderboard()`), the run's settings and
  the fallbacks (`result.failures`);
- the error by horizon step of each model (`result.metrics_by("horizon")`), metric selectable;
- a per-series explorer: the history and actuals of one series, each model's forecast and its
  prediction intervals, with selectors over series (with a filter box), cutoffs and targets;
- a fold x model heat map (fold k = the k-th cutoff of every series, so that series with
  different ends still line up);
- the empirical coverage of each interval level against its nominal level;
- the neural models' training curves (train and validation loss per evaluation step), when the
  result carries them.

How it stays usable for a whole M4 Hourly backtest (414 series x several models x cutoffs):
the summary plots are small and built from one JSON blob; the explorer's data is NOT a set of
hidden traces. Each series is one `<script type="application/json">` element holding its time
axis (start/step/length when regular, else float64), its values and every forecast as base64
float32 arrays (4 bytes a number, about 5.3 characters, instead of 15-20 for JSON decimals), so
the browser parses only the series being looked at, when it is selected, and plots it with
`Plotly.react` (a few dozen traces at a time). History is cut to `max_history` steps before a
series' first cutoff. Size: plotly.js (~4.8 MB) + the history (~2 MB for M4 Hourly) + about
1.6 MB per model for M4 Hourly with three 48-step folds and two interval levels; the
`experiments/m4_hourly.toml` dashboard (6 models) measured 16.8 MB, under the 25 MB budget
(`render` warns past it). Switching series re-plots in about 0.1 s in Chromium.

Every file is written atomically: to a temporary file in the same folder, then `os.replace`d,
so a reader never sees half a dashboard.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import html
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.data.frames import to_pandas
from tsforecast.errors import InputError, TsforecastWarning

__all__ = ["SIZE_BUDGET_MB", "atomic_path", "render", "report", "write_atomic"]

# Past this size a warning says how to make the page smaller (it is still written).
SIZE_BUDGET_MB = 25

_INTERVAL = re.compile(r"^y_(lo|hi)_(\d+(?:\.\d+)?)$")
# Metrics where a larger value is better (nothing to highlight as "lowest is best").
_HIGHER_IS_BETTER = re.compile(r"^coverage")
_NEURAL = re.compile(r"^(lstm|bilstm|seq2seq)(_\d+)?$")  # the registry's names, maybe numbered
_NOT_AN_ERROR = re.compile(r"^(coverage|pinball|n_|fit_|time|elapsed)")
_REQUIRED = ("unique_id", "ds", "cutoff", "model", "target", "y", "y_hat")


# --------------------------------------------------------------------------- public API
def report(
    result: Any,
    path: str | os.PathLike[str],
    *,
    history_df: Any | None = None,
    title: str | None = None,
    max_history: int | None = 5000,
) -> Path:
    """Write the dashboard of a backtest `result` to `path` (HTML) and return the path.

    `result` is what `tsforecast.backtest` returns (forecasts, metrics, metrics_by, leaderboard,
    failures, settings). The past of each series is drawn from `history_df` (the frame the
    backtest ran on) or, when not given, from the result's own copy of it; without either only
    the actuals of the forecast windows are drawn. `max_history` bounds the history kept per
    series (steps before its first cutoff; None keeps all).
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        msg = f"`path` must end in .html, got {str(path)!r}; e.g. 'dashboards/NAME.html'."
        raise InputError(msg)
    text = _render(result, history_df, title, max_history)
    write_atomic(target, text)
    return target


def render(
    result: Any,
    *,
    history_df: Any | None = None,
    title: str | None = None,
    max_history: int | None = 5000,
) -> str:
    """The dashboard of `result` as one HTML string (see `report`)."""
    return _render(result, history_df, title, max_history)


def _render(result: Any, history_df: Any | None, title: str | None, max_history: int | None) -> str:
    if max_history is not None and (
        isinstance(max_history, bool) or not isinstance(max_history, int) or max_history < 0
    ):
        msg = f"`max_history` must be a non-negative integer or None, got {max_history!r}."
        raise InputError(msg)
    data = _collect(result, history_df, max_history)
    page = _page(data, title or _default_title(data["settings"]))
    size_mb = len(page.encode("utf-8")) / 1e6
    if size_mb > SIZE_BUDGET_MB:
        warnings.warn(
            f"the dashboard is {size_mb:.1f} MB, over the {SIZE_BUDGET_MB} MB that browsers open "
            f"comfortably ({len(data['series_ids'])} series x {len(data['models'])} models); "
            "pass a smaller `max_history`, fewer `levels`, or report a subset of the series.",
            TsforecastWarning,
            stacklevel=3,  # _render <- render/report <- the user's line
        )
    return page


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success move it onto `path`, else delete it.

    The temporary file lives in the same folder (so `os.replace` is an atomic rename on the same
    file system) and starts with a dot, so a crashed run leaves no file that looks like a result.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` through a temporary file and `os.replace`."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


# --------------------------------------------------------------------------- reading the result
def _collect(result: Any, history_df: Any | None, max_history: int | None) -> dict[str, Any]:
    settings = _settings_of(result)
    raw_fc = getattr(result, "forecasts", None)
    if raw_fc is None:
        msg = (
            f"`result` must be a backtest result with a `forecasts` frame, got "
            f"{type(result).__name__}; pass what `tsforecast.backtest(...)` returns."
        )
        raise InputError(msg)
    fc, _ = to_pandas(raw_fc, "result.forecasts")
    id_col = str(settings.get("id_col", "unique_id"))
    time_col = str(settings.get("time_col", "ds"))
    fc = fc.rename(columns={id_col: "unique_id", time_col: "ds"})
    missing = [c for c in _REQUIRED if c not in fc.columns]
    if missing:
        msg = (
            f"`result.forecasts` lacks the columns {missing} (found: {list(fc.columns)}); "
            "pass the result of `tsforecast.backtest`."
        )
        raise InputError(msg)
    if fc.empty:
        msg = "`result.forecasts` is empty: the backtest produced no forecast to show."
        raise InputError(msg)

    history = history_df
    if history is None:
        for name in ("history", "history_df", "df", "data"):
            candidate = getattr(result, name, None)
            if candidate is not None and not callable(candidate):
                history = candidate
                break
    hist = None
    if history is not None:
        hist, _ = to_pandas(history, "history_df")
        hist = hist.rename(columns={id_col: "unique_id", time_col: "ds"})
        if not {"unique_id", "ds"} <= set(hist.columns):
            msg = (
                f"`history_df` must hold the columns {id_col!r} and {time_col!r} "
                f"(found: {list(hist.columns)}); pass the frame the backtest ran on."
            )
            raise InputError(msg)

    models = _unique(fc["model"])
    targets = _unique(fc["target"])
    levels = _levels(list(fc.columns))
    is_datetime = bool(pd.api.types.is_datetime64_any_dtype(fc["ds"]))

    by_horizon = _metrics_by(result, "horizon")
    by_series = _metrics_by(result, "unique_id")
    metrics = _frame_or_none(getattr(result, "metrics", None))
    fold_of = _fold_index(fc)
    folds = _fold_table(result, fc, fold_of, hist, settings)

    series_ids, blobs = _series_blobs(fc, hist, models, targets, levels, max_history, by_series)
    return {
        "settings": settings,
        "models": models,
        "targets": targets,
        "levels": levels,
        "is_datetime": is_datetime,
        "series_ids": series_ids,
        "blobs": blobs,
        "leaderboard": _leaderboard(result, metrics),
        "horizon": _horizon_table(by_horizon, models),
        "folds": folds,
        "coverage": _coverage_table(metrics, fc, levels, models),
        "training": _training_curves(result),
        "failures": _frame_or_none(getattr(result, "failures", None)),
        "n_forecasts": int(fc.groupby(["unique_id", "cutoff", "model", "target"]).ngroups),
        "n_cutoffs": int(fold_of.max()) + 1,
    }


def _settings_of(result: Any) -> dict[str, Any]:
    settings = getattr(result, "settings", None)
    if settings is None:
        return {}
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return dataclasses.asdict(settings)
    if isinstance(settings, Mapping):
        return dict(settings)
    return {"settings": str(settings)}


def _frame_or_none(value: Any) -> pd.DataFrame | None:
    if value is None:
        return None
    if callable(value):
        value = value()
    if isinstance(value, list):
        return pd.DataFrame(value) if value else None
    try:
        frame, _ = to_pandas(value)
    except InputError:
        return None
    return frame


def _metrics_by(result: Any, by: str) -> pd.DataFrame | None:
    method = getattr(result, "metrics_by", None)
    if method is None:
        return None
    frame = _frame_or_none(method(by))
    if frame is None or frame.empty:
        return None
    # metrics_by keeps the user's id column name; the report speaks unique_id.
    if by == "unique_id" and "unique_id" not in frame.columns:
        extra = [c for c in frame.columns if c not in ("model", "target", "metric", "value")]
        if extra:
            frame = frame.rename(columns={extra[0]: "unique_id"})
    return frame


def _unique(values: pd.Series) -> list[Any]:
    return [_json_scalar(v) for v in pd.unique(values)]


def _levels(columns: Sequence[Any]) -> list[float | int]:
    found: dict[str, set[str]] = {}
    for column in columns:
        match = _INTERVAL.match(str(column))
        if match:
            found.setdefault(match.group(2), set()).add(match.group(1))
    levels = [float(k) for k, sides in found.items() if sides == {"lo", "hi"}]
    return [int(v) if v.is_integer() else v for v in sorted(levels)]


def _level_name(level: float | int) -> str:
    return str(level)


def _fold_index(fc: pd.DataFrame) -> pd.Series:
    """Fold k (0-based) of each row: the k-th cutoff of its series (series may end apart)."""
    ranks = fc.groupby("unique_id", sort=False)["cutoff"].rank(method="dense")
    return ranks.astype(np.int64) - 1


# --------------------------------------------------------------------------- summary tables
def _leaderboard(result: Any, metrics: pd.DataFrame | None) -> pd.DataFrame | None:
    board = None
    method = getattr(result, "leaderboard", None)
    if method is not None:
        board = _frame_or_none(method)
    if board is None and metrics is not None and not metrics.empty:
        board = metrics.pivot_table(
            index=[c for c in ("model", "target") if c in metrics], columns="metric", values="value"
        ).reset_index()
    if board is None:
        return None
    if board.index.name is not None and board.index.name not in board.columns:
        board = board.reset_index()
    return board


def _horizon_table(frame: pd.DataFrame | None, models: list[Any]) -> dict[str, Any]:
    """{target: {metric: {model: [value at step 1..H]}}} from metrics_by("horizon")."""
    if frame is None:
        return {}
    step_col = next(
        (c for c in frame.columns if c not in ("model", "target", "metric", "value")), None
    )
    if step_col is None:
        return {}
    out: dict[str, Any] = {}
    frame = frame.sort_values(step_col, kind="stable")
    for (target, metric), group in frame.groupby(["target", "metric"], sort=False):
        per_model: dict[str, Any] = {}
        for model, rows in group.groupby("model", sort=False):
            per_model[str(model)] = {
                "x": [_json_scalar(v) for v in rows[step_col]],
                "y": _floats(rows["value"]),
            }
        ordered = {str(m): per_model[str(m)] for m in models if str(m) in per_model}
        out.setdefault(str(target), {})[str(metric)] = ordered
    return out


def _fold_table(
    result: Any,
    fc: pd.DataFrame,
    fold_of: pd.Series,
    hist: pd.DataFrame | None,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """{"labels": [...], "data": {target: {metric: {model: [value per fold]}}}}.

    When every series shares its cutoffs, a fold is a cutoff and `metrics_by("cutoff")` holds
    the numbers. When series end at different times (M4), a cutoff value names few series, so
    the folds are re-scored with `tsforecast.metrics.evaluate`, one call per fold.
    """
    cutoffs_per_fold = fc.groupby(fold_of, sort=True)["cutoff"].unique()
    aligned = all(len(values) == 1 for values in cutoffs_per_fold)
    labels = []
    for fold, values in enumerate(cutoffs_per_fold):
        label = f"fold {fold + 1}"
        if aligned:
            label += f" ({_time_label(values[0])})"
        labels.append(label)
    data: dict[str, Any] = {}

    def put(frame: pd.DataFrame, fold: int) -> None:
        for row in frame.itertuples(index=False):
            per_metric = data.setdefault(str(row.target), {}).setdefault(str(row.metric), {})
            values = per_metric.setdefault(str(row.model), [None] * len(labels))
            values[fold] = _float(row.value)

    by_cutoff = _metrics_by(result, "cutoff") if aligned else None
    if by_cutoff is not None and "cutoff" in by_cutoff.columns:
        position = {_time_key(v[0]): k for k, v in enumerate(cutoffs_per_fold)}
        for cutoff, group in by_cutoff.groupby("cutoff", sort=False):
            found = position.get(_time_key(cutoff))
            if found is not None:
                put(group, found)
        return {"labels": labels, "data": data}

    from tsforecast import metrics as metrics_module

    season_length = int(settings.get("season_length") or 1)
    train_size = settings.get("train_size")
    wanted = settings.get("metrics") or list(metrics_module.METRICS)
    scaled = {"mase", "rmsse", "owa"}  # need the training part of each fold
    train = None
    if hist is not None and set(_unique(fc["target"])) <= set(hist.columns):
        train = hist
    else:
        wanted = [m for m in wanted if m not in scaled]
        if not wanted:
            return {"labels": labels, "data": data}
    for fold in range(len(labels)):
        part = fc[fold_of.to_numpy() == fold]
        scores = metrics_module.evaluate(
            part,
            train,
            season_length=season_length,
            train_size=train_size if isinstance(train_size, int) else None,
            metrics=wanted,
        )
        put(to_pandas(scores)[0], fold)
    return {"labels": labels, "data": data}


def _coverage_table(
    metrics: pd.DataFrame | None, fc: pd.DataFrame, levels: list[Any], models: list[Any]
) -> dict[str, Any]:
    """{target: [{"model", "level", "value" (0..1)}]}: the share of actuals inside each interval.

    Taken from the metrics frame (`coverage_80` ...) when it has them, else counted here.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    if metrics is not None and not metrics.empty and "metric" in metrics:
        rows = metrics[metrics["metric"].astype(str).str.startswith("coverage_")]
        for row in rows.itertuples(index=False):
            level = float(str(row.metric).removeprefix("coverage_"))
            out.setdefault(str(getattr(row, "target", "y")), []).append(
                {
                    "model": _json_scalar(row.model),
                    "level": int(level) if level.is_integer() else level,
                    "value": _float(row.value),
                }
            )
        if out:
            return out
    observed = fc[fc["y"].notna()]
    for level in levels:
        lo, hi = f"y_lo_{_level_name(level)}", f"y_hi_{_level_name(level)}"
        has = observed[observed[lo].notna() & observed[hi].notna()]
        inside = (has["y"] >= has[lo]) & (has["y"] <= has[hi])
        shares = inside.groupby([has["model"], has["target"]]).mean()
        for (model, target), share in zip(shares.index, shares.to_numpy(), strict=True):
            out.setdefault(str(target), []).append(
                {"model": _json_scalar(model), "level": level, "value": _float(share)}
            )
    order = {str(m): k for k, m in enumerate(models)}
    for rows_of_target in out.values():
        rows_of_target.sort(key=lambda r: (order.get(str(r["model"]), 0), r["level"]))
    return out


def _training_curves(result: Any) -> list[dict[str, Any]]:
    """Loss curves of the neural models, from whatever the result carries.

    Accepted: `result.training_curves` (or `training_history`) as a mapping name -> list of
    per-evaluation dicts (step, train_loss, val_loss), a TrainingResult-like object with
    `.history`, or an estimator with `history_`; a long frame with model, step, train_loss,
    val_loss (and optionally cutoff); or fitted models in `result.models` with `history_`.
    """
    raw = None
    for name in ("training_curves", "training_history", "histories"):
        raw = getattr(result, name, None)
        if raw is not None:
            break
    if raw is None:
        fitted = getattr(result, "models", None) or getattr(result, "fitted_models", None)
        if isinstance(fitted, Mapping):
            raw = {k: v for k, v in fitted.items() if getattr(v, "history_", None)}
    if raw is None:
        return []
    if callable(raw):
        raw = raw()
    curves: list[dict[str, Any]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            curves.extend(_curves_from(key, value))
    else:
        frame = _frame_or_none(raw)
        if frame is not None and {"model", "step"} <= set(frame.columns):
            keys = [c for c in ("model", "cutoff", "fold", "unique_id") if c in frame.columns]
            for key, group in frame.groupby(keys, sort=False):
                curves.extend(_curves_from(key, group.to_dict("records")))
    return [c for c in curves if c["step"]]


def _curves_from(key: Any, value: Any) -> list[dict[str, Any]]:
    label = " · ".join(str(_json_scalar(k)) for k in key) if isinstance(key, tuple) else str(key)
    model = str(key[0]) if isinstance(key, tuple) else str(key)
    if hasattr(value, "history_"):
        value = value.history_
    elif hasattr(value, "history") and not isinstance(value, (list, Mapping)):
        value = value.history
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(v, (list, Mapping)) or hasattr(v, "history") for v in value.values())
    ):
        # nested: {cutoff: history}
        out = []
        for sub_key, sub_value in value.items():
            out.extend(_curves_from((model, _json_scalar(sub_key)), sub_value))
        return out
    rows = list(value) if isinstance(value, (list, tuple)) else []
    rows = [r for r in rows if isinstance(r, Mapping) and "step" in r]
    if not rows:
        return []
    return [
        {
            "model": model,
            "label": label,
            "step": [_json_scalar(r["step"]) for r in rows],
            "train_loss": [_float(r.get("train_loss")) for r in rows],
            "val_loss": [_float(r.get("val_loss")) for r in rows],
        }
    ]


# --------------------------------------------------------------------------- per-series blobs
def _series_blobs(
    fc: pd.DataFrame,
    hist: pd.DataFrame | None,
    models: list[Any],
    targets: list[Any],
    levels: list[Any],
    max_history: int | None,
    by_series: pd.DataFrame | None,
) -> tuple[list[str], list[str]]:
    """One compact JSON text per series (see the module docstring for the layout).

    Pure numpy slicing over frames sorted once: an M4 Hourly backtest has ~10^4 forecasts, and
    a pandas group-by per forecast would cost minutes.
    """
    bound_cols = [f"y_{side}_{_level_name(level)}" for level in levels for side in ("lo", "hi")]
    value_cols = ["y_hat", *bound_cols]
    # the explorer lists series in natural order (M4: H1, H2, ... H10, not H1, H10, H100)
    order = sorted((_json_scalar(u) for u in pd.unique(fc["unique_id"])), key=_natural_key)
    fc = fc.sort_values(["unique_id", "cutoff", "model", "target", "ds"], kind="stable")
    uid_codes, uid_values = pd.factorize(fc["unique_id"])
    cut_num = _time_numbers(fc["cutoff"])
    model_codes = _codes(fc["model"], models)
    target_codes = _codes(fc["target"], targets)
    ds_num = _time_numbers(fc["ds"])
    y_obs = pd.to_numeric(fc["y"], errors="coerce").to_numpy(dtype=np.float64)
    block = fc[value_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    cutoff_values = fc["cutoff"].to_numpy()
    # forecast k spans rows starts[k]:starts[k+1]; series change at some of those starts
    key_change = np.ones(len(fc), dtype=bool)
    key_change[1:] = (
        (np.diff(uid_codes) != 0)
        | (np.diff(cut_num) != 0)
        | (np.diff(model_codes) != 0)
        | (np.diff(target_codes) != 0)
    )
    starts = np.flatnonzero(key_change)
    ends = np.append(starts[1:], len(fc))

    hist_rows: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
    if hist is not None:
        hist = hist.sort_values(["unique_id", "ds"], kind="stable")
        h_codes, h_values = pd.factorize(hist["unique_id"])
        h_times_all = _time_numbers(hist["ds"])
        h_targets = {
            t: pd.to_numeric(hist[t], errors="coerce").to_numpy(dtype=np.float64)
            for t in targets
            if t in hist.columns
        }
        h_starts = np.flatnonzero(np.diff(h_codes, prepend=-1) != 0)
        h_ends = np.append(h_starts[1:], len(hist))
        missing = np.full(len(hist), np.nan)
        h_matrix = np.stack([h_targets.get(t, missing) for t in targets])  # -> (C, rows)
        for a, b in zip(h_starts, h_ends, strict=True):
            key = _json_scalar(h_values[h_codes[a]])
            hist_rows[key] = (h_times_all[a:b], h_matrix[:, a:b])
    series_metrics = _series_metrics(by_series, models)

    # forecast groups of each series
    per_series: dict[Any, list[int]] = {}
    for k, a in enumerate(starts):
        per_series.setdefault(_json_scalar(uid_values[uid_codes[a]]), []).append(k)
    ids: list[str] = []
    blobs: list[str] = []
    for uid in order:
        groups = per_series[uid]
        a0, b0 = starts[groups[0]], ends[groups[-1]]
        fc_times = ds_num[a0:b0]
        first_fc = float(fc_times.min())
        if uid in hist_rows:
            h_times, h_vals = hist_rows[uid]
            if max_history is not None:
                n_before = int(np.searchsorted(h_times, first_fc))
                cut = max(0, n_before - max_history)
                h_times, h_vals = h_times[cut:], h_vals[:, cut:]
        else:
            h_times, h_vals = np.empty(0), np.empty((len(targets), 0))
        axis = np.union1d(h_times, fc_times)

        y = np.full((len(targets), len(axis)), np.nan)  # -> (C, T)
        y[:, np.searchsorted(axis, h_times)] = h_vals
        # actuals the history lacks (or no history at all): take them from the forecasts frame
        pos_all = np.searchsorted(axis, fc_times)
        rows_y, rows_t = y_obs[a0:b0], target_codes[a0:b0]
        gap = np.isnan(y[rows_t, pos_all]) & ~np.isnan(rows_y)
        y[rows_t[gap], pos_all[gap]] = rows_y[gap]

        cutoff_pos: dict[float, int] = {}
        cutoff_list: list[list[Any]] = []
        entries = []
        for k in groups:
            a, b = starts[k], ends[k]
            if cut_num[a] not in cutoff_pos:
                cutoff_pos[cut_num[a]] = len(cutoff_list)
                cutoff_list.append([_time_label(cutoff_values[a]), float(cut_num[a])])
            pos = pos_all[a - a0 : b - a0]
            start: Any = int(pos[0])
            if not np.array_equal(pos, np.arange(pos[0], pos[0] + len(pos))):
                start = _b64(pos, np.int32)
            values = block[a:b]  # -> (n, 1 + 2L)
            n_cols = values.shape[1]
            if n_cols > 1 and np.isnan(values[:, 1:]).all():
                n_cols = 1  # this model gave no intervals: do not ship columns of NaN
            entries.append(
                [
                    cutoff_pos[cut_num[a]],
                    int(model_codes[a]),
                    int(target_codes[a]),
                    start,
                    int(b - a),
                    n_cols,
                    _b64(values[:, :n_cols].T, np.float32),
                ]
            )
        blob = {
            "t": _encode_axis(axis),
            "y": [_b64(row, np.float32) for row in y],
            "c": cutoff_list,
            "f": entries,
            "m": series_metrics.get(uid, {}),
        }
        ids.append(str(uid))
        blobs.append(_json(blob))
    return ids, blobs


def _natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that puts 'H2' before 'H10' (numbers inside ids compare as numbers)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    parts = re.split(r"(\d+)", str(value))
    return (1, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


def _codes(column: pd.Series, names: list[Any]) -> np.ndarray:
    """Position in `names` of each value of `column` (factorised first: few distinct values)."""
    codes, uniques = pd.factorize(column)
    remap = pd.Index(names).get_indexer([_json_scalar(u) for u in uniques])
    return remap[codes]


def _series_metrics(frame: pd.DataFrame | None, models: list[Any]) -> dict[Any, Any]:
    """{unique_id: {target: {metric: [value per model, in `models` order]}}}."""
    if frame is None or "unique_id" not in frame.columns:
        return {}
    model_pos = {str(m): k for k, m in enumerate(models)}
    out: dict[Any, Any] = {}
    for row in frame.itertuples(index=False):
        per_target = out.setdefault(_json_scalar(row.unique_id), {})
        values = per_target.setdefault(str(row.target), {}).setdefault(
            str(row.metric), [None] * len(models)
        )
        k = model_pos.get(str(row.model))
        if k is not None:
            values[k] = _float(row.value, digits=5)
    return out


def _time_numbers(values: Any) -> np.ndarray:
    """Time stamps as float64: epoch milliseconds (wall clock) for datetimes, else the number."""
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.to_numpy(dtype="datetime64[ms]").astype(np.int64).astype(np.float64)
    return pd.to_numeric(series).to_numpy(dtype=np.float64)


def _time_number(value: Any) -> float:
    return float(_time_numbers([value])[0])


def _time_key(value: Any) -> Any:
    return _time_number(value) if not isinstance(value, str) else value


def _time_label(value: Any) -> str:
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        text = stamp.isoformat(sep=" ")
        return text.removesuffix(" 00:00:00").removesuffix("T00:00:00")
    scalar = _json_scalar(value)
    return str(scalar)


def _encode_axis(axis: np.ndarray) -> dict[str, Any]:
    if len(axis) >= 2:
        steps = np.diff(axis)
        if np.all(steps == steps[0]):
            return {"start": float(axis[0]), "step": float(steps[0]), "n": len(axis)}
    if len(axis) == 1:
        return {"start": float(axis[0]), "step": 1.0, "n": 1}
    return {"b64": _b64(axis, np.float64)}


def _b64(values: Any, dtype: Any) -> str:
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float64), dtype=np.dtype(dtype))
    return base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode()


# --------------------------------------------------------------------------- JSON helpers
def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return _time_label(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _float(value: Any, digits: int = 6) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return float(f"{number:.{digits}g}")


def _floats(values: Any) -> list[float | None]:
    return [_float(v) for v in values]


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return _float(value, digits=12)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (np.generic, pd.Timestamp, dt.datetime, dt.date)):
        return _json_safe(_json_scalar(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _json(value: Any) -> str:
    """JSON that is safe inside a <script> element (no '<', '>' or '&' characters)."""
    text = json.dumps(_json_safe(value), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --------------------------------------------------------------------------- HTML
def _default_title(settings: dict[str, Any]) -> str:
    name = settings.get("name") or settings.get("experiment")
    return f"tsforecast backtest — {name}" if name else "tsforecast backtest"


def _page(data: dict[str, Any], title: str) -> str:
    from plotly.offline import get_plotlyjs

    from tsforecast import __version__

    settings = data["settings"]
    meta = {
        "models": data["models"],
        "targets": data["targets"],
        "levels": data["levels"],
        "is_datetime": data["is_datetime"],
        "series": data["series_ids"],
        "horizon": data["horizon"],
        "folds": data["folds"],
        "coverage": data["coverage"],
        "training": data["training"],
        "n_cutoffs": data["n_cutoffs"],
        "neural": [m for m in data["models"] if _NEURAL.match(str(m))],
        "season_length": settings.get("season_length"),
        "default_metric": _default_metric(data),
    }
    blobs = "\n".join(
        f'<script type="application/json" id="tsf-s-{k}">{blob}</script>'
        for k, blob in enumerate(data["blobs"])
    )
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = [
        f"{len(data['series_ids'])} series",
        f"{len(data['models'])} models",
        f"{data['n_cutoffs']} fold{'s' if data['n_cutoffs'] != 1 else ''}",
        f"{data['n_forecasts']} forecasts",
        f"tsforecast {__version__}",
        created,
    ]
    sections = [
        _section("leaderboard", "Leaderboard", _leaderboard_html(data["leaderboard"])),
        _section(
            "explorer",
            "Series explorer",
            """<div class="controls">
  <label>series <input id="tsf-filter" type="search" placeholder="filter ids" size="12"></label>
  <select id="tsf-series" aria-label="series"></select>
  <button id="tsf-prev" type="button" title="previous series">&#9664;</button>
  <button id="tsf-next" type="button" title="next series">&#9654;</button>
  <label>cutoff <select id="tsf-cutoff" aria-label="cutoff"></select></label>
  <label><input id="tsf-intervals" type="checkbox" checked> intervals</label>
  <span id="tsf-series-count" class="muted"></span>
</div>
<div id="tsf-explorer" class="plot tall"></div>
<div id="tsf-series-metrics"></div>""",
        ),
        _section(
            "horizon",
            "Error by horizon step",
            '<div class="controls"><label>metric <select id="tsf-horizon-metric"></select>'
            '</label></div><div id="tsf-horizon" class="plot"></div>',
        ),
        _section(
            "folds",
            "Fold × model",
            '<div class="controls"><label>metric <select id="tsf-fold-metric"></select>'
            '</label></div><div id="tsf-folds" class="plot"></div>',
        ),
        _section("coverage", "Interval coverage", '<div id="tsf-coverage" class="plot"></div>'),
        _section("training", "Training curves", '<div id="tsf-training" class="plot"></div>'),
        _section("run", "Run", _settings_html(settings) + _failures_html(data["failures"])),
    ]
    nav = " ".join(
        f'<a href="#{key}">{label}</a>'
        for key, label in [
            ("leaderboard", "leaderboard"),
            ("explorer", "explorer"),
            ("horizon", "by horizon"),
            ("folds", "folds"),
            ("coverage", "coverage"),
            ("training", "training"),
            ("run", "run"),
        ]
    )
    target_control = (
        '<label class="target">target <select id="tsf-target"></select></label>'
        if len(data["targets"]) > 1
        else '<select id="tsf-target" hidden></select>'
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tsforecast {__version__}">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script>{get_plotlyjs()}</script>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p class="muted">{html.escape(" · ".join(facts))}</p>
<nav>{nav} {target_control}</nav>
</header>
<main>
{"".join(sections)}
</main>
<script type="application/json" id="tsf-meta">{_json(meta)}</script>
{blobs}
<script>{_JS}</script>
</body>
</html>
"""


def _default_metric(data: dict[str, Any]) -> str | None:
    """The leaderboard's first error metric (its sort key), else any metric by horizon."""
    board = data["leaderboard"]
    if board is not None:
        for column in board.columns:
            name = str(column)
            if (
                name not in ("model", "target", "rank")
                and not _NOT_AN_ERROR.match(name)
                and pd.api.types.is_numeric_dtype(board[column])
            ):
                return name
    for per_metric in data["horizon"].values():
        errors = [m for m in per_metric if not _NOT_AN_ERROR.match(m)]
        return errors[0] if errors else next(iter(per_metric), None)
    return None


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{body}</section>\n'


def _leaderboard_html(board: pd.DataFrame | None) -> str:
    if board is None or board.empty:
        return '<p class="muted">No metrics in this result.</p>'
    columns = [str(c) for c in board.columns]
    numeric = [pd.api.types.is_numeric_dtype(board[c]) for c in board.columns]
    best: dict[int, Any] = {}
    for k, column in enumerate(board.columns):
        if numeric[k] and str(column) not in ("rank",):
            values = pd.to_numeric(board[column], errors="coerce")
            if values.notna().any() and not _HIGHER_IS_BETTER.match(str(column)):
                best[k] = values.min()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in board.itertuples(index=False):
        cells = []
        for k, value in enumerate(row):
            if numeric[k]:
                text = _format_number(value)
                css = ' class="num best"' if k in best and value == best[k] else ' class="num"'
            else:
                text, css = html.escape(str(_json_scalar(value))), ""
            cells.append(f"<td{css}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="board" id="tsf-leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        '<p class="muted small">Lower is better; the best value of each error column is '
        "in bold. Coverage is the share of actuals inside the interval (nominal: its level).</p>"
    )


def _format_number(value: Any) -> str:
    number = _float(value)
    if number is None:
        return "–"
    if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
        return f"{number:.3e}"
    return f"{number:,.4g}" if abs(number) >= 1000 else f"{number:.4g}"


def _settings_html(settings: dict[str, Any]) -> str:
    if not settings:
        return '<p class="muted">The result carries no settings.</p>'
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_short(v))}</td></tr>"
        for k, v in settings.items()
    )
    return f'<table class="kv">{rows}</table>'


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(_json_safe(value)) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failures_html(failures: pd.DataFrame | None, limit: int = 200) -> str:
    if failures is None or failures.empty:
        return "<h3>Fallbacks</h3><p>None: every model fitted every series.</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in failures.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_short(v, 200))}</td>" for v in row) + "</tr>"
        for row in failures.head(limit).itertuples(index=False)
    )
    more = (
        f'<p class="muted">… and {len(failures) - limit} more.</p>' if len(failures) > limit else ""
    )
    return (
        f"<h3>Fallbacks ({len(failures)})</h3><details><summary>show</summary>"
        f'<table class="board" id="tsf-failures"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>{more}</details>"
    )


_CSS = """
:root { --fg: #1d2330; --muted: #687083; --line: #dfe3ea; --accent: #2458c6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: #f6f7f9; }
header { padding: 18px 28px 10px; background: #fff; border-bottom: 1px solid var(--line);
         position: sticky; top: 0; z-index: 10; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
nav .target { margin-left: 18px; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 20px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 16px 18px; margin: 0 0 16px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 6px; }
select, input, button { font: inherit; }
#tsf-series { min-width: 160px; }
.plot { width: 100%; height: 380px; }
.plot.tall { height: 480px; }
table { border-collapse: collapse; }
table.board th, table.board td { padding: 4px 10px; border-bottom: 1px solid var(--line); }
table.board th { text-align: left; background: #f0f2f5; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: 700; }
table.kv th { text-align: left; padding: 2px 14px 2px 0; color: var(--muted); font-weight: 500;
              vertical-align: top; }
table.kv td { padding: 2px 0; font-family: ui-monospace, monospace; font-size: 12px;
              word-break: break-all; }
details { margin-top: 4px; }
.note { color: var(--muted); padding: 30px 0; text-align: center; }
"""

_JS = r"""
(function () {
  'use strict';
  const META = JSON.parse(document.getElementById('tsf-meta').textContent);
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
                   '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const CONFIG = {displaylogo: false, responsive: true};
  const $ = (id) => document.getElementById(id);
  const colorOf = (model) => PALETTE[Math.max(0, META.models.indexOf(model)) % PALETTE.length];
  const rgba = (hex, a) => {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  };
  const errors = [];
  window.tsfDashboard = {ready: false, errors: errors};

  // ---------------------------------------------------------------- decoding
  function bytesOf(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  // float32 -> the shortest decimal that round-trips (hover shows 123.4, not 123.40000152)
  const tidy = (v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : null);
  const f32 = (text) => Array.from(new Float32Array(bytesOf(text)), tidy);
  const f64 = (text) => Array.from(new Float64Array(bytesOf(text)));
  const i32 = (text) => Array.from(new Int32Array(bytesOf(text)));

  const cache = new Map();
  function loadSeries(k) {
    if (cache.has(k)) return cache.get(k);
    const raw = JSON.parse($('tsf-s-' + k).textContent);
    let t;
    if (raw.t.b64 !== undefined) t = f64(raw.t.b64);
    else t = Array.from({length: raw.t.n}, (_, i) => raw.t.start + i * raw.t.step);
    const s = {
      id: META.series[k], t: t, y: raw.y.map(f32), cutoffs: raw.c, metrics: raw.m,
      forecasts: raw.f.map((e) => {
        const flat = f32(e[6]);
        const n = e[4];
        const cols = [];
        for (let j = 0; j < e[5]; j++) cols.push(flat.slice(j * n, (j + 1) * n));
        const pos = typeof e[3] === 'number' ? Array.from({length: n}, (_, i) => e[3] + i)
                                             : i32(e[3]);
        return {cutoff: e[0], model: META.models[e[1]], target: e[2], pos: pos, cols: cols};
      }).sort((a, b) => a.cutoff - b.cutoff || META.models.indexOf(a.model) -
                                                  META.models.indexOf(b.model)),
    };
    if (cache.size > 24) cache.delete(cache.keys().next().value);
    cache.set(k, s);
    return s;
  }

  // ---------------------------------------------------------------- helpers
  function fillSelect(select, options, value) {
    select.innerHTML = '';
    for (const [val, label] of options) {
      const o = document.createElement('option');
      o.value = String(val);
      o.textContent = label;
      select.appendChild(o);
    }
    if (value !== undefined && value !== null) select.value = String(value);
  }
  function note(div, text) {
    div.innerHTML = '<div class="note">' + text + '</div>';
    div.classList.remove('plot');
  }
  const targetIdx = () => Math.max(0, Number($('tsf-target').value || 0));
  const targetName = () => String(META.targets[targetIdx()]);
  const xType = META.is_datetime ? 'date' : 'linear';
  const baseLayout = (extra) => Object.assign({
    margin: {l: 60, r: 20, t: 36, b: 46}, hovermode: 'closest',
    legend: {orientation: 'h', y: -0.18}, font: {size: 12},
  }, extra);

  // ---------------------------------------------------------------- explorer
  function seriesOptions() {
    const needle = $('tsf-filter').value.trim().toLowerCase();
    const out = [];
    META.series.forEach((id, k) => {
      if (!needle || String(id).toLowerCase().includes(needle)) out.push([k, String(id)]);
    });
    return out;
  }
  function refreshSeriesList() {
    const current = $('tsf-series').value;
    const options = seriesOptions();
    fillSelect($('tsf-series'), options);
    if (options.some((o) => String(o[0]) === current)) $('tsf-series').value = current;
    $('tsf-series-count').textContent = options.length + ' of ' + META.series.length + ' series';
  }
  function refreshCutoffs(keep) {
    const k = Number($('tsf-series').value);
    if (Number.isNaN(k)) return;
    const s = loadSeries(k);
    const previous = $('tsf-cutoff').value;
    const options = [['all', 'all cutoffs']].concat(s.cutoffs.map((c, i) => [i, c[0]]));
    let value = 'all';
    if (keep && options.some((o) => String(o[0]) === previous)) value = previous;
    else if (overlapping(s)) value = s.cutoffs.length - 1;
    fillSelect($('tsf-cutoff'), options, value);
  }
  function overlapping(s) {
    // forecasts of consecutive cutoffs overlap when step < horizon: show one cutoff at a time
    const ends = new Map();
    for (const f of s.forecasts) {
      const [lo, hi] = [f.pos[0], f.pos[f.pos.length - 1]];
      const e = ends.get(f.cutoff) || [lo, hi];
      ends.set(f.cutoff, [Math.min(e[0], lo), Math.max(e[1], hi)]);
    }
    const spans = Array.from(ends.values()).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) if (spans[i][0] <= spans[i - 1][1]) return true;
    return false;
  }
  function drawExplorer() {
    const div = $('tsf-explorer');
    const k = Number($('tsf-series').value);
    if (Number.isNaN(k)) { Plotly.purge(div); return; }
    const s = loadSeries(k);
    const g = targetIdx();
    const which = $('tsf-cutoff').value;
    const withBands = $('tsf-intervals').checked;
    const traces = [{
      type: 'scatter', mode: 'lines', name: 'actual', x: s.t, y: s.y[g],
      line: {color: '#222', width: 1.4}, hovertemplate: '%{y}<extra>actual</extra>',
    }];
    const shown = new Set();
    const cutoffsShown = new Set();
    let first = s.t.length - 1;
    let last = 0;
    for (const f of s.forecasts) {
      if (f.target !== g || (which !== 'all' && String(f.cutoff) !== which)) continue;
      cutoffsShown.add(f.cutoff);
      const x = f.pos.map((p) => s.t[p]);
      first = Math.min(first, f.pos[0]);
      last = Math.max(last, f.pos[f.pos.length - 1]);
      const color = colorOf(f.model);
      if (withBands && f.cols.length > 1) {
        const nLevels = (f.cols.length - 1) / 2;
        for (let j = nLevels - 1; j >= 0; j--) {  // widest band first, narrow on top
          const level = META.levels[j];
          traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[1 + 2 * j],
                       line: {width: 0, color: color}, legendgroup: f.model, showlegend: false,
                       hoverinfo: 'skip'});
          traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[2 + 2 * j],
                       line: {width: 0, color: color}, fill: 'tonexty',
                       fillcolor: rgba(color, 0.10 + 0.08 * (nLevels - 1 - j)),
                       legendgroup: f.model, showlegend: false, hoverinfo: 'skip',
                       name: f.model + ' ' + level + '%'});
        }
      }
      traces.push({type: 'scatter', mode: 'lines', name: f.model, x: x, y: f.cols[0],
                   legendgroup: f.model, showlegend: !shown.has(f.model),
                   line: {color: color, width: 1.8},
                   hovertemplate: '%{y}<extra>' + f.model + ' (cutoff ' +
                                  s.cutoffs[f.cutoff][0] + ')</extra>'});
      shown.add(f.model);
    }
    const shapes = Array.from(cutoffsShown).map((c) => ({
      type: 'line', xref: 'x', yref: 'paper', x0: s.cutoffs[c][1], x1: s.cutoffs[c][1],
      y0: 0, y1: 1, line: {color: '#999', width: 1, dash: 'dot'},
    }));
    const span = Math.max(1, last - first + 1);
    // long series: open on the folds and three times their span of history (zoom out freely)
    const from = Math.max(0, first - 3 * span);
    // the y range of what that window shows (plotly would fit the whole, unseen history)
    let low = Infinity;
    let high = -Infinity;
    for (const tr of traces) {
      for (let i = 0; i < tr.x.length; i++) {
        const v = tr.y[i];
        if (v === null || tr.x[i] < s.t[from]) continue;
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
    const pad = 0.05 * (high - low) || 1;
    const layout = baseLayout({
      title: {text: String(s.id) + (META.targets.length > 1 ? ' · ' + targetName() : ''),
              x: 0.01},
      xaxis: {type: xType, range: [s.t[from], s.t[s.t.length - 1]]},
      yaxis: Object.assign({title: {text: targetName()}},
                           Number.isFinite(low) ? {range: [low - pad, high + pad]} : {}),
      shapes: shapes, uirevision: String(k) + '|' + which + '|' + g,
    });
    Plotly.react(div, traces, layout, CONFIG);
    div.dataset.series = String(s.id);
    drawSeriesMetrics(s);
  }
  function drawSeriesMetrics(s) {
    const box = $('tsf-series-metrics');
    const m = (s.metrics || {})[targetName()];
    if (!m || !Object.keys(m).length) { box.innerHTML = ''; return; }
    const metrics = Object.keys(m);
    let out = '<table class="board"><thead><tr><th>model</th>';
    for (const name of metrics) out += '<th>' + name + '</th>';
    out += '</tr></thead><tbody>';
    META.models.forEach((model, j) => {
      out += '<tr><td>' + model + '</td>';
      for (const name of metrics) {
        const v = m[name][j];
        out += '<td class="num">' + (v === null ? '–' : Number(v.toPrecision(4))) + '</td>';
      }
      out += '</tr>';
    });
    box.innerHTML = '<h3>This series (all its cutoffs)</h3>' + out + '</tbody></table>';
  }
  function step(delta) {
    const sel = $('tsf-series');
    const i = sel.selectedIndex + delta;
    if (i >= 0 && i < sel.options.length) {
      sel.selectedIndex = i;
      sel.dispatchEvent(new Event('change'));
    }
  }

  // ---------------------------------------------------------------- summary plots
  function metricsOf(table) {
    const perTarget = table[targetName()] || {};
    return Object.keys(perTarget);
  }
  function metricSelect(id, table) {
    const metrics = metricsOf(table);
    const sel = $(id);
    const keep = metrics.includes(sel.value) ? sel.value
      : (metrics.includes(META.default_metric) ? META.default_metric : metrics[0]);
    fillSelect(sel, metrics.map((m) => [m, m]), keep);
    return metrics.length > 0;
  }
  function drawHorizon() {
    const div = $('tsf-horizon');
    if (!metricSelect('tsf-horizon-metric', META.horizon)) {
      note(div, 'The result has no metrics by horizon step.');
      return;
    }
    const metric = $('tsf-horizon-metric').value;
    const perModel = META.horizon[targetName()][metric] || {};
    const traces = Object.keys(perModel).map((model) => ({
      type: 'scatter', mode: 'lines+markers', name: model, x: perModel[model].x,
      y: perModel[model].y, line: {color: colorOf(model)}, marker: {size: 4},
    }));
    Plotly.react(div, traces, baseLayout({
      xaxis: {title: {text: 'horizon step'}}, yaxis: {title: {text: metric}},
    }), CONFIG);
  }
  function drawFolds() {
    const div = $('tsf-folds');
    const folds = META.folds;
    if (!metricSelect('tsf-fold-metric', folds.data)) {
      note(div, 'The result has no metrics by fold.');
      return;
    }
    const metric = $('tsf-fold-metric').value;
    const perModel = folds.data[targetName()][metric] || {};
    const models = META.models.filter((m) => perModel[m] !== undefined);
    const z = models.map((m) => perModel[m]);
    Plotly.react(div, [{
      type: 'heatmap', x: folds.labels, y: models, z: z, texttemplate: '%{z:.4g}',
      // errors: pale (low) to red (high); coverage has no "worse" end, so a neutral blue
      colorscale: /^coverage/.test(metric) ? 'Blues'
        : [[0, '#ffffcc'], [0.5, '#fd8d3c'], [1, '#bd0026']],
      hovertemplate: '%{y} · %{x}<br>' + metric + ' %{z:.4g}<extra></extra>',
      colorbar: {title: {text: metric}},
    }], baseLayout({margin: {l: 110, r: 20, t: 20, b: 46},
                    yaxis: {autorange: 'reversed', type: 'category'},
                    xaxis: {type: 'category'}}), CONFIG);
  }
  function drawCoverage() {
    const div = $('tsf-coverage');
    const rows = META.coverage[targetName()] || [];
    if (!rows.length) {
      note(div, 'No prediction intervals in this run (no model was asked for levels).');
      return;
    }
    const levels = Array.from(new Set(rows.map((r) => r.level))).sort((a, b) => a - b);
    const models = META.models.filter((m) => rows.some((r) => r.model === m));
    const traces = levels.map((level, j) => ({
      type: 'bar', name: level + '% interval', x: models,
      y: models.map((m) => {
        const r = rows.find((q) => q.model === m && q.level === level);
        return r && r.value !== null ? 100 * r.value : null;
      }),
      marker: {color: ['#9ecae1', '#3182bd', '#08519c', '#6baed6'][j % 4]},
      hovertemplate: '%{x}: %{y:.1f}% inside (nominal ' + level + '%)<extra></extra>',
    }));
    const shapes = levels.map((level) => ({
      type: 'line', xref: 'paper', x0: 0, x1: 1, y0: level, y1: level,
      line: {color: '#d62728', width: 1, dash: 'dash'},
    }));
    Plotly.react(div, traces, baseLayout({
      barmode: 'group', shapes: shapes, yaxis: {title: {text: 'actuals inside (%)'},
                                                range: [0, 105]},
    }), CONFIG);
  }
  function drawTraining() {
    const div = $('tsf-training');
    if (!META.training.length) {
      note(div, META.neural.length
        ? 'The result carries no training history for ' + META.neural.join(', ') + '.'
        : 'No neural model in this run, so no training curves.');
      return;
    }
    const traces = [];
    for (const c of META.training) {
      const color = colorOf(c.model);
      traces.push({type: 'scatter', mode: 'lines', name: c.label + ' train', x: c.step,
                   y: c.train_loss, line: {color: color, dash: 'dot'}, legendgroup: c.label});
      if (c.val_loss.some((v) => v !== null)) {
        traces.push({type: 'scatter', mode: 'lines', name: c.label + ' validation', x: c.step,
                     y: c.val_loss, line: {color: color}, legendgroup: c.label});
      }
    }
    Plotly.react(div, traces, baseLayout({
      xaxis: {title: {text: 'training step'}}, yaxis: {title: {text: 'loss'}, type: 'log'},
    }), CONFIG);
  }
  function drawSummaries() { drawHorizon(); drawFolds(); drawCoverage(); drawTraining(); }

  // ---------------------------------------------------------------- wiring
  try {
    fillSelect($('tsf-target'), META.targets.map((t, i) => [i, String(t)]), 0);
    // many models' bands hide each other: start with the lines only, the box brings them back
    $('tsf-intervals').checked = META.models.length <= 3;
    refreshSeriesList();
    refreshCutoffs(false);
    $('tsf-filter').addEventListener('input', () => {
      refreshSeriesList(); refreshCutoffs(true); drawExplorer();
    });
    $('tsf-series').addEventListener('change', () => { refreshCutoffs(true); drawExplorer(); });
    $('tsf-cutoff').addEventListener('change', drawExplorer);
    $('tsf-intervals').addEventListener('change', drawExplorer);
    $('tsf-prev').addEventListener('click', () => step(-1));
    $('tsf-next').addEventListener('click', () => step(1));
    $('tsf-target').addEventListener('change', () => { drawExplorer(); drawSummaries(); });
    $('tsf-horizon-metric').addEventListener('change', drawHorizon);
    $('tsf-fold-metric').addEventListener('change', drawFolds);
    drawExplorer();
    drawSummaries();
    window.tsfDashboard.ready = true;
  } catch (err) {
    errors.push(String(err && err.stack || err));
    console.error(err);
  }
  window.tsfDashboard.load = loadSeries;
})();
"""
