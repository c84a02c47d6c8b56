"""The data a command runs on: a shipped data set or a CSV / parquet file, read as given.

The time column is left as the file holds it: parsing it is `to_panel`'s job, inside
`backtest()` and `forecast()`, so the command line reads a column exactly as the Python API
does (ISO stamps with changing UTC offsets, e.g. across a DST change, included). Reading a file
adds one thing only: a file without the id column is one series named after the file.

A CSV is comma-separated with '.' as the decimal mark unless its `CsvFormat` says otherwise
(`--sep`, `--decimal`, `--thousands`; `data.sep`, ... in a config): a file written in a German
or French locale (`;` between columns, `1,5`) is read as it is written, where the Python API
user would pass `pd.read_csv(path, sep=';', decimal=',')` themselves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from tsforecast.cli.config import ConfigError, ExperimentConfig
from tsforecast.cli.csv_format import CsvFormat, Spell, spell_config, spell_flag
from tsforecast.data.csv_files import read_csv
from tsforecast.errors import InputError

__all__ = [
    "DATA_SUFFIXES",
    "DATA_SUFFIXES_TEXT",
    "LoadedData",
    "is_covariate_dtype",
    "load_data",
    "read_table",
]

DATA_SUFFIXES = (".csv", ".parquet", ".pq")
# as messages name them: every suffix accepted (".pq" was left out)
DATA_SUFFIXES_TEXT = ", ".join(DATA_SUFFIXES[:-1]) + " or " + DATA_SUFFIXES[-1]


@dataclass
class LoadedData:
    """The frame a config names, with its column roles and a hash of its content."""

    frame: pd.DataFrame
    source: str
    id_col: str
    time_col: str
    target_cols: list[str]
    horizon: int | None = None
    season_length: int | None = None
    file_sha256: str | None = None

    def frame_sha256(self) -> str:
        """sha256 over the column names, dtypes and pandas' per-row hashes of the frame."""
        digest = hashlib.sha256()
        digest.update(json.dumps([[str(c), str(t)] for c, t in self.frame.dtypes.items()]).encode())
        rows = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
        digest.update(rows.tobytes())
        return digest.hexdigest()

    @property
    def target(self) -> str | list[str]:
        """The targets as `backtest(target_col=...)` takes them."""
        return self.target_cols[0] if len(self.target_cols) == 1 else list(self.target_cols)


def read_table(
    path: Path,
    id_col: str,
    id_col_given: bool,
    what: str = "the data file",
    csv: CsvFormat | None = None,
    spell: Spell = spell_flag,
) -> pd.DataFrame:
    """A CSV or parquet file as a frame; `InputError` (naming the file) when it cannot be read
    or holds no rows. `what` names the file in messages ("the `--future` file"); `csv` is how
    a CSV writes its values, `spell` how a refusal names those options.

    Without an `id_col` column, and unless that name was given explicitly, the file is one
    series whose id is the file's stem. A CSV's ids are read as the text they are: read as
    numbers, "001" came back as 1, and "1" and "01" became one series.
    """
    csv = csv or CsvFormat()
    is_csv = path.suffix.lower() == ".csv"
    if not is_csv and csv.given():
        options = " and ".join(spell(k, getattr(csv, k)) for k in csv.given())
        msg = f"{options} is for CSV files, and {what} {str(path)!r} is parquet; drop it."
        raise InputError(msg)
    try:
        if is_csv:  # a missing id column: `dtype` has no effect
            frame = read_csv(path, dtype={id_col: str}, **csv.options())
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:  # pandas says "No columns to parse from file"
        msg = f"{what} {str(path)!r} is empty (not even a header line); write the data into it."
        raise InputError(msg) from None
    except Exception as error:  # a parser's own error: name the file, keep its reason
        msg = f"cannot read {what} {str(path)!r}: {error}"
        raise InputError(msg) from None
    if frame.empty:
        # else refused later as "`df` is empty": the command line has no `df`, it has this file
        msg = (
            f"{what} {str(path)!r} has no data rows (its header: {list(frame.columns)}); "
            "add the rows under its header."
        )
        raise InputError(msg)
    if is_csv and len(frame.columns) == 1:
        # one column whose name holds the others: the file is separated by another character
        header = str(frame.columns[0])
        other = next((s for s in (";", "\t", "|", ",") if s in header and s != csv.sep), None)
        if other is not None:
            shown = "a tab" if other == "\t" else repr(other)
            msg = (
                f"{what} {str(path)!r} reads as one column {header!r}: it is separated "
                f"by {shown}, not {'a tab' if csv.sep == chr(9) else repr(csv.sep)}; give "
                f"{spell('sep', other)} (or save it as a comma-separated file or as parquet)."
            )
            raise InputError(msg)
    if id_col not in frame.columns and not id_col_given:
        frame.insert(0, id_col, path.stem)
    return frame


def load_data(config: ExperimentConfig) -> LoadedData:
    """Read the data a config names; raise `ConfigError` naming the file and the column."""
    spec = config.data
    explicit = config.raw.get("data", {})
    if spec.dataset is not None:
        data = _load_dataset(config, "target_col" in explicit)
    else:
        assert spec.path is not None  # the config checked that exactly one is set
        try:
            frame = read_table(
                spec.path, spec.id_col, "id_col" in explicit, csv=spec.csv, spell=spell_config
            )
        except InputError as error:
            raise ConfigError(f"{config.source}: {error}") from None
        data = LoadedData(
            frame,
            source=str(spec.path),
            id_col=spec.id_col,
            time_col=spec.time_col,
            target_cols=_as_list(spec.target_col),
            file_sha256=hashlib.sha256(spec.path.read_bytes()).hexdigest(),
        )
    columns = [data.id_col, data.time_col, *data.target_cols]
    missing = [c for c in [*columns, *(spec.covariates or [])] if c not in data.frame.columns]
    if missing:
        msg = (
            f"{config.source}: the data ({data.source}) has no column {missing[0]!r} "
            f"(found: {list(data.frame.columns)}); set `data.id_col`, `data.time_col`, "
            "`data.target_col` or `data.covariates` to the right names."
        )
        raise ConfigError(msg)
    if spec.covariates is not None:
        doubled = [c for c in spec.covariates if c in columns]
        if doubled:
            msg = (
                f"{config.source}: `data.covariates` names {doubled}, which are the id, time "
                "or target columns."
            )
            raise ConfigError(msg)
        try:
            check_chosen_covariates(data.frame, spec.covariates, "`data.covariates`")
        except InputError as error:
            raise ConfigError(f"{config.source}: {error}") from None
        data = replace(data, frame=data.frame[[*columns, *spec.covariates]])
    return data


def check_chosen_covariates(frame: pd.DataFrame, covariates: list[str], what: str) -> None:
    """Refuse a covariate named explicitly that is not numeric or boolean: by default such a
    column is left out, and one the user chose by name would be left out without a word."""
    for col in covariates:
        if is_covariate_dtype(frame[col].dtype):
            continue
        dtype = frame[col].dtype
        values = frame[col].dropna()
        example = values.iloc[0] if len(values) else None
        msg = (
            f"{what} names {col!r}, a column of dtype {dtype} (e.g. {example!r}); covariates "
            "must be numeric or boolean: convert it, or leave it out."
        )
        raise InputError(msg)


def is_covariate_dtype(dtype: Any) -> bool:
    """Whether a column of this dtype is read as a covariate: numbers (not complex) or booleans."""
    return pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    )


def _load_dataset(config: ExperimentConfig, targets_given: bool) -> LoadedData:
    from tsforecast import datasets

    spec = config.data
    assert spec.dataset is not None
    loaded = datasets.load(spec.dataset)
    if not isinstance(loaded, datasets.ForecastingDataset):
        msg = (
            f"{config.source}: `data.dataset` {spec.dataset!r} is a classification data set;"
            " a backtest needs a forecasting one (see `tsforecast datasets`)."
        )
        raise ConfigError(msg)
    frame = loaded.df if spec.part == "full" else loaded.train
    return LoadedData(
        frame.reset_index(drop=True),
        source=f"data set {loaded.name!r} ({spec.part})",
        id_col=loaded.id_col,
        time_col=loaded.time_col,
        target_cols=_as_list(spec.target_col) if targets_given else list(loaded.target_cols),
        horizon=loaded.horizon,
        season_length=loaded.season_length,
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
