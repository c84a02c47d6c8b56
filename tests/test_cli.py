"""The `tsforecast` command line: backtest, forecast, datasets; exit codes; atomic writes; the
same arguments and the same reading of the data as the Python API."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast.cli.backtest as cli_backtest
import tsforecast.cli.manifest as cli_manifest
from tsforecast import datasets
from tsforecast.cli import main
from tsforecast.cli.data import LoadedData

ROOT = Path(__file__).resolve().parent.parent

FAST = """
name = "{name}"
seed = 7

[data]
dataset = "air_passengers"

[backtest]
horizon = 12
n_windows = 2
season_length = 12
levels = [80]

[models.naive]
[models.seasonal_naive]
[models.naive2]
"""


def write_config(tmp_path: Path, name: str = "fast", text: str = FAST) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.format(name=name), encoding="utf-8")
    return path


def run_cli(tmp_path: Path, *args: str) -> int:
    return main(
        [
            *args,
            "--results-dir",
            str(tmp_path / "results"),
            "--dashboards-dir",
            str(tmp_path / "dashboards"),
        ]
    )


def listing(folder: Path) -> list[str]:
    """Every file and folder under `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_backtest_writes_results_and_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert run_cli(tmp_path, "backtest", str(config), "--quiet") == 0
    out = capsys.readouterr().out
    results = tmp_path / "results" / "fast"
    dashboard = tmp_path / "dashboards" / "fast.html"
    assert "leaderboard (fast):" in out
    assert f"dashboard: {dashboard}" in out
    for model in ("naive", "seasonal_naive", "naive2"):
        assert model in out

    assert listing(tmp_path / "results") == [
        "fast",
        "fast/forecasts.parquet",
        "fast/manifest.json",
        "fast/metrics.csv",
    ]
    assert listing(tmp_path / "dashboards") == ["fast.html"]
    forecasts = pd.read_parquet(results / "forecasts.parquet")
    assert list(forecasts.columns[:7]) == [
        "unique_id",
        "ds",
        "cutoff",
        "model",
        "target",
        "y",
        "y_hat",
    ]
    assert {"y_lo_80", "y_hi_80"} <= set(forecasts.columns)
    assert len(forecasts) == 3 * 2 * 12  # models x windows x horizon
    metrics = pd.read_csv(results / "metrics.csv")
    assert list(metrics.columns) == ["model", "target", "metric", "value"]
    # the printed leaderboard is the metrics frame's: seasonal naive's sMAPE is in it
    smape = metrics.query("model == 'seasonal_naive' and metric == 'smape'")["value"].item()
    assert f"{smape:.4g}" in out

    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["models"] == {"naive": {}, "seasonal_naive": {}, "naive2": {}}
    assert manifest["seed"] == 7 and manifest["settings"]["seed"] == 7
    expected_hash = LoadedData(
        datasets.load("air_passengers").df,  # type: ignore[union-attr]
        source="",
        id_col="unique_id",
        time_col="ds",
        target_cols=["y"],
    ).frame_sha256()
    assert manifest["data"]["sha256"] == expected_hash
    assert manifest["versions"]["tsforecast"] and manifest["versions"]["torch"]
    assert manifest["device"]["resolved"] == "cpu" or manifest["device"]["resolved"].startswith(
        ("cuda", "mps")
    )
    assert {"load_s", "backtest_s", "report_s", "total_s"} <= set(manifest["timings_s"])
    html = dashboard.read_text(encoding="utf-8")
    assert "tsforecast backtest — fast" in html and 'id="tsf-s-0"' in html


def test_a_failed_run_leaves_the_previous_results_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    assert run_cli(tmp_path, "backtest", str(config), "--quiet") == 0
    before = {p: (tmp_path / p).read_bytes() for p in ("dashboards/fast.html",)}
    before.update(
        {
            f"results/fast/{name}": (tmp_path / "results" / "fast" / name).read_bytes()
            for name in ("forecasts.parquet", "metrics.csv", "manifest.json")
        }
    )

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the machine fell over while writing")

    # fails after forecasts.parquet and metrics.csv were written, before the manifest
    monkeypatch.setattr(cli_manifest, "build", boom)
    with pytest.raises(RuntimeError, match="fell over"):
        run_cli(tmp_path, "backtest", str(config), "--quiet")
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
    assert listing(tmp_path / "results") == [
        "fast",
        "fast/forecasts.parquet",
        "fast/manifest.json",
        "fast/metrics.csv",
    ]
    assert listing(tmp_path / "dashboards") == ["fast.html"]

    # a first run that fails leaves nothing at all under its name
    other = write_config(tmp_path, "other")
    with pytest.raises(RuntimeError, match="fell over"):
        run_cli(tmp_path, "backtest", str(other), "--quiet")
    assert not (tmp_path / "results" / "other").exists()
    assert not (tmp_path / "dashboards" / "other.html").exists()
    assert ".other" not in " ".join(listing(tmp_path))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("horizon = 12", "horizn = 12"), "unknown key `backtest.horizn`; did you mean 'horizon'?"),
        (("horizon = 12", 'horizon = "12"'), "`backtest.horizon` must be a positive integer"),
        (('dataset = "air_passengers"', 'path = "missing.csv"'), "data file 'missing.csv'"),
        (("levels = [80]", "levels = [0.8]"), "`backtest.levels`: `levels` are percentages"),
        (
            ("[models.naive2]", "[models.naive2]\n[models.seq2seq]\nteacher_forcing = 1.5"),
            "`models.seq2seq`: `teacher_forcing` must be a number in [0, 1], got 1.5.",
        ),
    ],
)
def test_bad_configs_exit_2_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    edit: tuple[str, str],
    expected: str,
) -> None:
    config = write_config(tmp_path, text=FAST.replace(*edit))
    monkeypatch.chdir(tmp_path)

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the backtest must not start")

    monkeypatch.setattr(cli_backtest, "run_backtest", no_work)
    assert main(["backtest", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tsforecast: error: {config}: ")
    assert expected in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [config.name]  # nothing written


def _run_command(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m tsforecast.cli ARGUMENTS` in `cwd`, with this checkout's package, whatever
    is installed."""
    return subprocess.run(
        [sys.executable, "-m", "tsforecast.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )


def test_the_command_says_a_warning_in_one_line_of_its_own(tmp_path: Path) -> None:
    # Python's format showed the library's file, line number and source line
    dates = list(pd.date_range("2020-01-01", periods=40, freq="MS"))
    frame = pd.DataFrame(
        {"store": ["a"] * 12 + ["b"] * 40, "date": dates[:12] + dates, "sales": range(52)}
    )
    frame.to_csv(tmp_path / "sales.csv", index=False)
    columns = ["--id-col", "store", "--time-col", "date", "--target-col", "sales"]
    model = ["-H", "3", "--model", "theta", "--season-length", "12", "--out", "fc.csv"]
    done = _run_command(["forecast", "sales.csv", *columns, *model], tmp_path)
    assert done.returncode == 0, done.stderr
    warning = "tsforecast: warning: 1 of 2 series are shorter than 3 seasons (season_length=12"
    assert warning in done.stderr
    assert ".py:" not in done.stderr


def test_a_warning_on_the_command_line_names_the_commands_own_option() -> None:
    from tsforecast.cli.main import _one_line_warning
    from tsforecast.errors import TsforecastWarning

    advice = TsforecastWarning("the errors may be far wider; or use intervals='calibrated'.")
    line = _one_line_warning("forecast", advice, TsforecastWarning, "conformal.py", 1)
    assert (
        line
        == "tsforecast: warning: the errors may be far wider; or use `--intervals calibrated`.\n"
    )
    line = _one_line_warning("backtest", advice, TsforecastWarning, "conformal.py", 1)
    assert '`intervals = "calibrated"` in [backtest]' in line


def test_the_installed_command_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, text=FAST.replace("[models.naive2]", "[models.naiv2]"))
    done = _run_command(["backtest", str(config)], tmp_path)
    assert done.returncode == 2
    assert "unknown model `models.naiv2`; did you mean 'naive2'?" in done.stderr
    assert str(config) in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [config.name]


def test_backtest_of_a_csv_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    rows = [
        {"store": store, "date": day, "sales": 100 + 10 * np.sin(k / 7 * 2 * np.pi) + rng.normal()}
        for store in ("north", "south")
        for k, day in enumerate(pd.date_range("2024-01-01", periods=70, freq="D"))
    ]
    data = tmp_path / "data" / "sales.csv"
    data.parent.mkdir()
    pd.DataFrame(rows).to_csv(data, index=False)
    text = (
        FAST.replace('dataset = "air_passengers"', 'path = "data/sales.csv"\nid_col = "store"')
        .replace("[data]", '[data]\ntime_col = "date"\ntarget_col = "sales"')
        .replace("horizon = 12", "horizon = 7")
        .replace("season_length = 12", "season_length = 7")
    )
    config = write_config(tmp_path, "sales", text)
    assert run_cli(tmp_path, "backtest", str(config), "--quiet") == 0
    forecasts = pd.read_parquet(tmp_path / "results" / "sales" / "forecasts.parquet")
    assert set(forecasts["store"]) == {"north", "south"}
    assert pd.api.types.is_datetime64_any_dtype(forecasts["date"])
    manifest = json.loads(
        (tmp_path / "results" / "sales" / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["data"]["file_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert "dashboard:" in capsys.readouterr().out


def test_forecast_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fc.csv"
    args = ["air_passengers", "--horizon", "6", "--model", "seasonal_naive", "--levels", "80"]
    code = main(["forecast", *args, "--out", str(out)])
    assert code == 0
    assert f"forecasts: {out}" in capsys.readouterr().out
    fc = pd.read_csv(out, parse_dates=["ds"])
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80"]
    assert list(fc["ds"].dt.strftime("%Y-%m")) == [f"1961-0{m}" for m in range(1, 7)]
    history = datasets.load("air_passengers").df  # type: ignore[union-attr]
    np.testing.assert_allclose(fc["y"], history["y"].iloc[-12:-6])  # the same months of 1960
    assert (fc["y_lo_80"] < fc["y"]).all() and (fc["y"] < fc["y_hi_80"]).all()

    # a CSV in, the forecasts on stdout
    data = tmp_path / "two.csv"
    pd.DataFrame(
        {"unique_id": ["a"] * 5 + ["b"] * 5, "ds": list(range(5)) * 2, "y": np.arange(10.0)}
    ).to_csv(data, index=False)
    assert main(["forecast", str(data), "-H", "2", "-m", "naive"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == ["unique_id,ds,y", "a,5,4.0", "a,6,4.0", "b,5,9.0", "b,6,9.0"]

    assert main(["forecast", str(tmp_path / "none.csv"), "-H", "2"]) == 2
    assert main(["forecast", "air_passengers", "-H", "0"]) == 2
    assert "does not exist" not in capsys.readouterr().out


def test_forecast_command_writes_parquet_when_the_forecast_carries_attrs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a fallback (the constant series 'b') puts records with time stamps into `attrs`, as
    # `model="auto"` puts its AutoSelection there: pandas' parquet writer JSON-encodes `attrs`
    # and used to raise TypeError after the forecast was made
    data = tmp_path / "two.csv"
    days = pd.date_range("2020-01-01", periods=30, freq="D")
    pd.DataFrame(
        {
            "unique_id": ["a"] * 30 + ["b"] * 30,
            "ds": list(days) * 2,
            "y": np.r_[np.sin(np.arange(30.0)) + 5.0, np.full(30, 2.0)],
        }
    ).to_csv(data, index=False)
    out = tmp_path / "fc.parquet"
    with pytest.warns(UserWarning, match="fell back"):
        assert main(["forecast", str(data), "-H", "3", "-m", "ets", "--out", str(out)]) == 0
    assert f"forecasts: {out}" in capsys.readouterr().out
    written = pd.read_parquet(out)
    assert list(written.columns) == ["unique_id", "ds", "y"]
    assert written["unique_id"].tolist() == ["a"] * 3 + ["b"] * 3
    np.testing.assert_allclose(written["y"].iloc[3:], 2.0)  # the constant series' fallback
    # the file carries how the forecast was made, the fallback's cutoff as an ISO string
    assert written.attrs["settings"]["model"] == "ets"
    assert [f["unique_id"] for f in written.attrs["failures"]] == ["b"]
    assert written.attrs["failures"][0]["cutoff"] == "2020-01-30T00:00:00"


def test_datasets_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == datasets.names()
    assert all(len(line.split()) > 2 for line in lines)  # each with a description


def test_a_missing_column_of_the_data_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "sales.csv"
    pd.DataFrame({"unique_id": ["a"] * 30, "ds": range(30), "sales": np.arange(30.0)}).to_csv(
        data, index=False
    )
    text = FAST.replace('dataset = "air_passengers"', 'path = "sales.csv"\ntarget_col = "revenue"')
    config = write_config(tmp_path, "sales", text)
    assert run_cli(tmp_path, "backtest", str(config)) == 2
    err = capsys.readouterr().err
    assert "has no column 'revenue' (found: ['unique_id', 'ds', 'sales'])" in err
    assert "`data.target_col`" in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "taken",
    ["results", "dashboards", "results/fast", "dashboards/fast.html"],
    ids=["results-dir-is-a-file", "dashboards-dir-is-a-file", "results-is-a-file", "page-is-a-dir"],
)
def test_output_paths_that_cannot_be_written_are_refused_before_the_backtest(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    taken: str,
) -> None:
    # they were an OSError traceback once the backtest had run
    config = write_config(tmp_path)
    blocker = tmp_path / taken
    blocker.parent.mkdir(parents=True, exist_ok=True)
    if taken.endswith(".html"):
        blocker.mkdir()
    else:
        blocker.write_text("not a folder", encoding="utf-8")

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the data must not be read")

    monkeypatch.setattr(cli_backtest, "load_data", no_work)
    assert run_cli(tmp_path, "backtest", str(config)) == 2
    err = capsys.readouterr().err
    assert err.startswith("tsforecast: error: ") and str(blocker) in err


def test_forecast_command_chooses_the_covariates_of_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a file's other numeric and boolean columns are covariates, which a statistical model
    # refuses; `--covariates` with no names leaves them out, with names keeps those only
    days = pd.date_range("2020-01-01", periods=40, freq="D")
    data = tmp_path / "sales.csv"
    pd.DataFrame(
        {
            "store": "a",
            "date": days,
            "sales": 100 + np.sin(np.arange(40.0)),
            "rate": np.arange(40.0),
            "promo": np.arange(40) % 7 == 0,
        }
    ).to_csv(data, index=False)
    base = ["forecast", str(data), "--id-col", "store", "--time-col", "date"]
    base += ["--target-col", "sales", "-H", "3", "-m", "naive"]
    assert main(base) == 2
    assert "--covariates" in capsys.readouterr().err
    assert main([*base, "--covariates"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(out.columns) == ["store", "date", "sales"]
    np.testing.assert_allclose(out["sales"], 100 + np.sin(39.0))
    assert main([*base, "--covariates", "rate"]) == 2  # naive uses none: still refused
    assert main([*base, "--covariates", "price"]) == 2
    assert "`--covariates` names 'price', which the data lack" in capsys.readouterr().err


def test_the_readme_future_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Command line section's snippet writes sales.csv and promos.csv, and its `--future`
    command forecasts from them (here with a few training steps, to keep the test short)."""
    import re
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "promos" in b)
    command = next(
        line
        for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
        for line in block.splitlines()
        if "--future" in line
    )
    monkeypatch.chdir(tmp_path)
    exec(snippet, {})
    words = shlex.split(command)
    assert words[:2] == ["tsforecast", "forecast"]
    assert main([*words[1:], "-p", "max_steps=3"]) == 0
    assert "forecasts: forecast.csv" in capsys.readouterr().out
    fc = pd.read_csv(tmp_path / "forecast.csv")
    assert fc["ds"].tolist() == pd.read_csv(tmp_path / "promos.csv")["ds"].tolist()
    assert fc["unique_id"].eq("shop").all() and np.isfinite(fc["y"]).all()


def test_a_config_naming_a_file_without_data_rows_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was "`df` is empty (0 rows)", after the results folder was prepared
    (tmp_path / "sales.csv").write_text("unique_id,ds,y\n")
    text = FAST.replace('dataset = "air_passengers"', 'path = "sales.csv"')
    config = write_config(tmp_path, "sales", text)
    assert run_cli(tmp_path, "backtest", str(config)) == 2
    err = capsys.readouterr().err
    assert "sales.toml: the data file" in err and "sales.csv' has no data rows" in err
    assert "`df`" not in err and not (tmp_path / "results").exists()
