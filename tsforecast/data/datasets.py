"""Loaders for the real data sets shipped in `tsforecast/data/shipped/` (see its README.md).

`load(name)` returns a `ForecastingDataset` (long frames + frequency, season length, horizon and
the standard split) or a `ClassificationDataset` (lists of (length, channels) arrays + labels).
Nothing is downloaded: every file ships with the package as package data, so `load` works the
same from a checkout, an editable install and an installed wheel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.data.csv_files import read_csv
from tsforecast.errors import InputError

__all__ = [
    "ClassificationDataset",
    "ForecastingDataset",
    "data_dir",
    "load",
    "names",
    "read_ts_file",
]

_FORECASTING = ("air_passengers", "m4_hourly", "m4_weekly", "etth1", "etth2")
_CLASSIFICATION = {
    "gunpoint": "GunPoint",
    "italy_power_demand": "ItalyPowerDemand",
    "basic_motions": "BasicMotions",
    "japanese_vowels": "JapaneseVowels",
}


@dataclass(frozen=True)
class ForecastingDataset:
    """A forecasting data set in long form with its standard split.

    `train` is what a model may see; `test` holds the rows to forecast (and `val`, where the
    standard protocol has one, the rows between them). `df` is train + val + test.
    """

    name: str
    df: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    freq: str | int
    season_length: int
    horizon: int
    target_cols: list[str]
    id_col: str = "unique_id"
    time_col: str = "ds"
    val: pd.DataFrame | None = None
    split: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ClassificationDataset:
    """A UCR/UEA classification data set with its default train/test split.

    X_*: lists of float32 arrays shaped (length_i, channels); y_*: arrays of string labels.
    """

    name: str
    X_train: list[np.ndarray]
    y_train: np.ndarray
    X_test: list[np.ndarray]
    y_test: np.ndarray
    n_channels: int
    classes: list[str]
    is_equal_length: bool
    description: str = ""

    def to_frame(self, part: str = "train") -> pd.DataFrame:
        """The cases as a long frame: unique_id (case), ds (step), c0..cK, label."""
        if part not in ("train", "test"):
            msg = f"`part` must be 'train' or 'test', got {part!r}."
            raise InputError(msg)
        X, y = (self.X_train, self.y_train) if part == "train" else (self.X_test, self.y_test)
        frames = []
        for case, (x, label) in enumerate(zip(X, y, strict=True)):
            frame = pd.DataFrame(x, columns=[f"c{k}" for k in range(x.shape[1])])
            frame.insert(0, "ds", np.arange(len(x), dtype=np.int64))
            frame.insert(0, "unique_id", f"{part}_{case}")
            frame["label"] = label
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def data_dir() -> Path:
    """The folder holding the shipped data files (inside the installed package)."""
    return Path(__file__).resolve().parent / "shipped"


def names() -> list[str]:
    """Every data set `load` knows."""
    return [*_FORECASTING, *_CLASSIFICATION]


def load(name: str) -> ForecastingDataset | ClassificationDataset:
    """Load a shipped data set by name (case and punctuation are ignored)."""
    key = _normalise_name(name)
    if key in ("air_passengers",):
        return _load_air_passengers()
    if key == "m4_hourly":
        return _load_m4_hourly()
    if key == "m4_weekly":
        return _load_m4_weekly()
    if key in ("etth1", "etth2"):
        return _load_ett(key)
    if key in _CLASSIFICATION:
        return _load_classification(key)
    msg = f"unknown data set {name!r}; choose one of {names()}."
    raise InputError(msg)


def _normalise_name(name: str) -> str:
    compact = re.sub(r"[^a-z0-9]", "", str(name).lower())
    aliases = {re.sub(r"[^a-z0-9]", "", known): known for known in names()}
    aliases["airpassengers"] = "air_passengers"
    aliases["airline"] = "air_passengers"
    return aliases.get(compact, compact)


def _load_air_passengers() -> ForecastingDataset:
    raw = read_csv(data_dir() / "airpassengers.csv")
    df = pd.DataFrame(
        {
            "unique_id": "AirPassengers",
            "ds": pd.to_datetime(raw["month"], format="%Y-%m"),
            "y": raw["passengers"].astype("float64"),
        }
    )
    horizon = 12
    return ForecastingDataset(
        name="air_passengers",
        df=df,
        train=df.iloc[:-horizon].reset_index(drop=True),
        test=df.iloc[-horizon:].reset_index(drop=True),
        freq="MS",
        season_length=12,
        horizon=horizon,
        target_cols=["y"],
        split={"train": "1949-01..1959-12", "test": "1960-01..1960-12"},
        description="Box & Jenkins airline passengers (thousands), monthly 1949-1960.",
    )


def _load_m4_hourly() -> ForecastingDataset:
    return _load_m4(
        "Hourly",
        season_length=24,
        horizon=48,
        description="M4 competition, 414 hourly series; ds are integer hours (M4 gave no dates).",
    )


def _load_m4_weekly() -> ForecastingDataset:
    # Season 1 is the organisers' protocol for Weekly (MASE on lag-1 differences), so that the
    # scores compare with the published rows; a model may still use the ~52-week cycle.
    return _load_m4(
        "Weekly",
        season_length=1,
        horizon=13,
        description="M4 competition, 359 weekly series; ds are integer weeks (M4 gave no dates).",
    )


def _load_m4(
    frequency: str, season_length: int, horizon: int, description: str
) -> ForecastingDataset:
    folder = data_dir() / f"m4_{frequency.lower()}"
    train = _m4_wide_to_long(read_csv(folder / f"{frequency}-train.csv"), first_ds=None)
    last = train.groupby("unique_id", sort=False)["ds"].max()
    test = _m4_wide_to_long(read_csv(folder / f"{frequency}-test.csv"), first_ds=last + 1)
    df = (
        pd.concat([train, test], ignore_index=True)
        .sort_values(["unique_id", "ds"], kind="stable")
        .reset_index(drop=True)
    )
    return ForecastingDataset(
        name=f"m4_{frequency.lower()}",
        df=df,
        train=train,
        test=test,
        freq=1,
        season_length=season_length,
        horizon=horizon,
        target_cols=["y"],
        split={
            "train": f"{frequency}-train.csv",
            "test": f"{frequency}-test.csv ({horizon} steps per series)",
        },
        description=description,
    )


def _m4_wide_to_long(wide: pd.DataFrame, first_ds: pd.Series | None) -> pd.DataFrame:
    ids = wide.iloc[:, 0].astype(str).to_numpy()
    values = wide.iloc[:, 1:].to_numpy(dtype=np.float64)  # right-padded with NaN
    counts = (~np.isnan(values)).sum(axis=1)
    starts = np.ones(len(ids), dtype=np.int64)
    if first_ds is not None:
        starts = first_ds.reindex(ids).to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, counts),
            "ds": np.concatenate([s + np.arange(n) for s, n in zip(starts, counts, strict=True)]),
            "y": values[~np.isnan(values)],
        }
    )
    # "H10" must sort after "H9": order ids by their number, as the competition does.
    order = {series_id: k for k, series_id in enumerate(sorted(ids, key=lambda s: int(s[1:])))}
    frame["_order"] = frame["unique_id"].map(order)
    frame = frame.sort_values(["_order", "ds"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def _load_ett(key: str) -> ForecastingDataset:
    file_name = "ETTh1.csv" if key == "etth1" else "ETTh2.csv"
    raw = read_csv(data_dir() / "ett" / file_name, parse_dates=["date"])
    targets = [c for c in raw.columns if c != "date"]
    df = raw.rename(columns={"date": "ds"})
    df.insert(0, "unique_id", key.upper().replace("ETTH", "ETTh"))
    # The Informer / LTSF-Linear split: 12/4/4 months of 30 days; rows 14400+ are never used.
    borders = {"train": (0, 8640), "val": (8640, 11520), "test": (11520, 14400)}
    used = df.iloc[: borders["test"][1]].reset_index(drop=True)
    return ForecastingDataset(
        name=key,
        df=used,
        train=used.iloc[slice(*borders["train"])].reset_index(drop=True),
        val=used.iloc[slice(*borders["val"])].reset_index(drop=True),
        test=used.iloc[slice(*borders["test"])].reset_index(drop=True),
        freq="h",
        season_length=24,
        horizon=96,
        target_cols=targets,
        split={name: list(rows) for name, rows in borders.items()},
        description=(
            f"{file_name}: hourly transformer load and oil temperature (OT); standard 12/4/4-month "
            "split by rows; raw values (published results z-scale every column with the train "
            "rows' mean and standard deviation and score on that scale, as "
            "experiments/benchmarks/etth1.py does)."
        ),
    )


def _load_classification(key: str) -> ClassificationDataset:
    problem = _CLASSIFICATION[key]
    folder = data_dir() / "classification" / problem
    X_train, y_train, header = read_ts_file(folder / f"{problem}_TRAIN.ts")
    X_test, y_test, _ = read_ts_file(folder / f"{problem}_TEST.ts")
    classes = header.get("classlabel", sorted(set(y_train) | set(y_test)))
    lengths = {len(x) for x in (*X_train, *X_test)}
    return ClassificationDataset(
        name=key,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        n_channels=int(X_train[0].shape[1]),
        classes=list(classes),
        is_equal_length=len(lengths) == 1,
        description=f"{problem} (UCR/UEA archive), default train/test split.",
    )


def read_ts_file(path: str | Path) -> tuple[list[np.ndarray], np.ndarray, dict[str, Any]]:
    """Read a sktime/aeon `.ts` file: channels separated by ':', values by ',', label last.

    Returns (X, y, header): X a list of float32 arrays shaped (length_i, channels).
    """
    header: dict[str, Any] = {}
    X: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    with open(path, encoding="utf-8") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if line.lower().startswith("@data"):
                    in_data = True
                elif line.startswith("@"):
                    key, _, rest = line[1:].partition(" ")
                    if key.lower() == "classlabel":
                        tokens = rest.split()
                        header["classlabel"] = tokens[1:] if tokens[:1] == ["true"] else []
                    else:
                        header[key.lower()] = rest.strip()
                continue
            *channels, label = line.split(":")
            try:
                arrays = [np.array(c.split(","), dtype=np.float32) for c in channels]
            except ValueError as error:
                msg = f"{path}: line {line_no} holds a value that is not a number."
                raise InputError(msg) from error
            if len({len(a) for a in arrays}) != 1:
                msg = f"{path}: line {line_no} has channels of different lengths."
                raise InputError(msg)
            X.append(np.stack(arrays, axis=1))  # -> (length, channels)
            labels.append(label.strip())
    return X, np.array(labels), header
