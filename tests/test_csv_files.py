"""CSV files read back the floats that were written, on pandas 2 as on pandas 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tsforecast.cli.data import read_table
from tsforecast.data.csv_files import read_csv


def test_floats_written_by_to_csv_read_back_as_the_same_numbers(tmp_path: Path) -> None:
    # full-precision floats: pandas 2's default parser reads many of them one ulp off
    y = np.random.default_rng(0).normal(1000.0, 100.0, size=2000)
    path = tmp_path / "s.csv"
    pd.DataFrame({"ds": np.arange(len(y)), "y": y}).to_csv(path, index=False)
    assert np.array_equal(read_csv(path)["y"].to_numpy(), y)
    # the command line reads its data files the same way
    assert np.array_equal(read_table(path, "unique_id", id_col_given=False)["y"].to_numpy(), y)
