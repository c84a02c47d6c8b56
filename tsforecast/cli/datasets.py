"""`tsforecast datasets`: the shipped data sets, one line each."""

from __future__ import annotations

import argparse

__all__ = ["cmd_datasets"]


def cmd_datasets(args: argparse.Namespace) -> int:
    """Print each data set's name, description and shape."""
    from tsforecast import datasets

    rows = []
    for name in datasets.names():
        loaded = datasets.load(name)
        if isinstance(loaded, datasets.ForecastingDataset):
            n_series = loaded.df[loaded.id_col].nunique()
            kind = f"forecasting, {n_series} series, freq {loaded.freq}, horizon {loaded.horizon}"
        else:
            n_cases = len(loaded.X_train) + len(loaded.X_test)
            kind = f"classification, {n_cases} cases, {len(loaded.classes)} classes"
        rows.append((name, kind, loaded.description))
    width = max(len(r[0]) for r in rows)
    for name, kind, description in rows:
        print(f"{name:<{width}}  {description} [{kind}]")
    return 0
