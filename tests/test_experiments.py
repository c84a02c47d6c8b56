"""Every shipped experiment config runs, end to end, in smoke mode (`backtest CONFIG --smoke`).

The configs are found by glob, so a new `experiments/*.toml` is covered without editing this
file. Smoke mode shrinks the data and the budgets but runs every model of the config and writes
the results and the dashboard as a full run does, under the name `NAME-smoke`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsforecast.cli import main, smoke
from tsforecast.cli.config import load_config
from tsforecast.estimators import registry

EXPERIMENTS = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.toml"))


def test_there_are_experiments_to_run() -> None:
    assert EXPERIMENTS


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_the_experiment_runs_in_smoke_mode(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(path)
    out = ["--results-dir", str(tmp_path / "results"), "--dashboards-dir", str(tmp_path / "dash")]
    assert main(["backtest", str(path), "--smoke", "--quiet", *out]) == 0

    name = f"{config.name}-smoke"  # never the full run's results
    results = tmp_path / "results" / name
    dashboard = tmp_path / "dash" / f"{name}.html"
    assert f"dashboard: {dashboard}" in capsys.readouterr().out
    models = [m.name for m in config.models]
    forecasts = pd.read_parquet(results / "forecasts.parquet")
    assert sorted(forecasts["model"].unique()) == sorted(models)  # no model skipped
    id_col = forecasts.columns[0]
    assert forecasts.groupby(id_col)["cutoff"].nunique().max() <= smoke.WINDOWS
    metrics = pd.read_csv(results / "metrics.csv")
    assert sorted(metrics["model"].unique()) == sorted(models)
    assert "tsforecast backtest" in dashboard.read_text(encoding="utf-8")

    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["smoke"]["series"] <= smoke.SERIES
    assert manifest["data"]["series"] <= smoke.SERIES
    for model in manifest["resolved"]["models"]:
        if registry.spec(model["name"]).kind == "neural":
            assert model["params"]["max_steps"] == smoke.NEURAL_PARAMS["max_steps"]


@pytest.mark.parametrize(
    ("intervals", "series"), [("calibrated", 4), ("conformal", smoke.SERIES), ("auto", 4)]
)
def test_smoke_mode_keeps_the_data_calibrated_intervals_need(
    intervals: str, series: int, tmp_path: Path
) -> None:
    # the full run takes this config; smoke mode cut the series below the 10 horizons that
    # count every calibration window, and to 3 series, 15 pooled scores where 95 % needs 19
    rng = np.random.default_rng(0)
    length = 400
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(6)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), 6),
            "y": 50 + rng.normal(size=6 * length).cumsum(),
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    config = tmp_path / "cal.toml"
    config.write_text(
        '[data]\npath = "data.csv"\n[backtest]\nhorizon = 24\nn_windows = 2\n'
        f'season_length = 24\nlevels = [80, 95]\nintervals = "{intervals}"\n[models.theta]\n',
        encoding="utf-8",
    )
    out = ["--results-dir", str(tmp_path / "results"), "--dashboards-dir", str(tmp_path / "dash")]
    assert main(["backtest", str(config), "--smoke", "--quiet", *out]) == 0
    results = tmp_path / "results" / "cal-smoke"
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["smoke"]["series"] == series
    forecasts = pd.read_parquet(results / "forecasts.parquet")
    assert forecasts[["y_lo_95", "y_hi_95"]].notna().all().all()
