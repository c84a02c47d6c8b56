"""The command line takes the Python API's arguments and reads the data as the API does.

Levels are percentages (a fraction is refused with the percentage it most likely meant, before
any data is read); `fill` and `freq` are accepted by `tsforecast forecast` (`--fill`, `--freq`)
and by a config's `[data]` table, and reach `forecast()` / `backtest()`; a CSV time column of
ISO stamps whose UTC offset changes (a DST switch) is read exactly as `tsf.to_panel` reads it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
import tsforecast.cli.forecast as cli_forecast
from tsforecast.cli import main

# the modules (`tsf.backtest` and `tsf.forecast` are the functions)
api_module = importlib.import_module("tsforecast.api")
backtest_module = importlib.import_module("tsforecast.backtest")


def write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def dst_frame() -> pd.DataFrame:
    """Hourly stamps over the 2021 spring-forward of Europe/Berlin, as ISO strings with offsets:
    ..., 2021-03-28T01:00:00+01:00, 2021-03-28T03:00:00+02:00, ..."""
    stamps = pd.date_range("2021-03-26", periods=120, freq="h", tz="Europe/Berlin")
    y = 10 + np.sin(np.arange(120) * 2 * np.pi / 24)
    return pd.DataFrame({"ds": [t.isoformat() for t in stamps], "y": y})


def as_read_by_the_cli(path: Path) -> pd.DataFrame:
    """The file as the API would get it: a file without an id column is one series, named
    after the file."""
    frame = pd.read_csv(path)
    frame.insert(0, "unique_id", path.stem)
    return frame


def every_other_day(with_gap: bool = False) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=40, freq="2D")
    frame = pd.DataFrame({"unique_id": "a", "ds": days.strftime("%Y-%m-%d"), "y": np.arange(40.0)})
    return frame.drop(index=10) if with_gap else frame


# --------------------------------------------------------------------------- levels
def test_forecast_refuses_fractions_as_levels_before_reading_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_read(*args: Any) -> Any:
        raise AssertionError("the data must not be read")

    monkeypatch.setattr(cli_forecast, "_forecast_data", no_read)
    assert main(["forecast", "air_passengers", "-H", "3", "--levels", "0.9"]) == 2
    err = capsys.readouterr().err
    assert "`--levels`" in err and "did you mean (90)?" in err and "--levels 80 95" in err
    assert "Traceback" not in err


def test_levels_without_a_value_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # `--levels` alone gave a forecast without intervals
    with pytest.raises(SystemExit) as exit_info:
        main(["forecast", "air_passengers", "-H", "3", "--model", "naive", "--levels"])
    assert exit_info.value.code == 2
    assert "--levels: expected at least one argument" in capsys.readouterr().err


# --------------------------------------------------------------------------- forecast()
def test_the_forecast_command_passes_the_api_arguments_to_forecast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def spy(df: Any, horizon: int, **kwargs: Any) -> pd.DataFrame:
        seen.update(kwargs, horizon=horizon)
        return pd.DataFrame({"unique_id": [], "ds": [], "y": []})

    monkeypatch.setattr(api_module, "forecast", spy)
    data = write(tmp_path / "sales.csv", every_other_day())
    args = ["forecast", str(data), "-H", "4", "-m", "theta", "--levels", "80", "95"]
    args += ["--fill", "interpolate", "--freq", "D", "--season-length", "7", "--seed", "3"]
    args += ["--engine", "dask"]
    args += ["--intervals", "conformal", "--time-budget-s", "30"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path / "fc.csv")]) == 0
    assert seen == {
        "horizon": 4,
        "model": "theta",
        "levels": [80, 95],
        "season_length": 7,
        "fill": "interpolate",
        "freq": "D",
        "device": "cpu",
        "seed": 3,
        "engine": "dask",
        "intervals": "conformal",
        "time_budget_s": 30.0,
        "id_col": "unique_id",
        "time_col": "ds",
        "target_col": "y",
    }


def test_the_time_budget_takes_seconds_auto_or_none_and_refuses_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(
        api_module,
        "forecast",
        lambda df, h, **kw: (
            seen.append(kw.get("time_budget_s", "-"))
            or pd.DataFrame({"unique_id": [], "ds": [], "y": []})
        ),
    )
    data = write(tmp_path / "sales.csv", every_other_day())
    base = ["forecast", str(data), "-H", "2", "--fill", "ffill", "--out", str(tmp_path / "f.csv")]
    for given in (["--time-budget-s", "2.5"], ["--time-budget-s", "none"], []):
        assert main([*base, *given]) == 0
    assert seen == [2.5, None, "-"]  # not given: forecast()'s own default
    for bad in ("0", "-1", "inf", "fast"):
        assert main([*base, "--time-budget-s", bad]) == 2
        assert (
            f"`--time-budget-s` must be a positive number of seconds, `auto` or `none`, got {bad!r}"
            in capsys.readouterr().err
        )
    assert len(seen) == 3  # refused before the forecast


def test_param_passes_model_parameters_read_as_toml_values_else_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(
        api_module,
        "forecast",
        lambda df, h, **kw: seen.append(kw) or pd.DataFrame({"unique_id": [], "ds": [], "y": []}),
    )
    data = write(tmp_path / "sales.csv", every_other_day())
    base = ["forecast", str(data), "-H", "2", "--out", str(tmp_path / "f.csv")]
    params = ["--param", "hidden_size=32", "-p", "dropout=0.1", "-p", "bidirectional=true"]
    params += ["-p", 'candidates=["theta", "ets"]', "-p", "target_transform=log"]
    assert main([*base, *params]) == 0
    flags = set(cli_forecast._FLAG_OF)
    assert {k: v for k, v in seen[0].items() if k not in flags} == {
        "hidden_size": 32,
        "dropout": 0.1,
        "bidirectional": True,
        "candidates": ["theta", "ets"],
        "target_transform": "log",
    }
    for bad, says in (
        ("hidden_size", "takes NAME=VALUE"),
        ("=3", "takes NAME=VALUE"),
        ("seed=3", "set it with `--seed` instead"),
        ("levels=[80]", "set it with `--levels` instead"),
    ):
        assert main([*base, "--param", bad]) == 2
        assert says in capsys.readouterr().err
    assert main([*base, "-p", "dropout=0.1", "-p", "dropout=0.2"]) == 2
    assert "given twice" in capsys.readouterr().err
    assert len(seen) == 1  # refused before the forecast


def test_an_unknown_param_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["forecast", "air_passengers", "-H", "3", "-m", "theta", "-p", "hiden=3"]) == 2
    err = capsys.readouterr().err
    assert "model 'theta' has no parameter 'hiden'" in err and "Traceback" not in err


def test_an_integer_freq_is_an_integer_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(api_module, "forecast", lambda df, h, **kw: seen.update(kw) or df)
    data = write(tmp_path / "t.csv", pd.DataFrame({"ds": [0, 5, 10, 15], "y": [1.0, 2, 3, 4]}))
    assert main(["forecast", str(data), "-H", "2", "--freq", "5"]) == 0
    assert seen["freq"] == 5


def test_fill_lets_a_series_with_a_gap_be_forecast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "gap.csv", every_other_day(with_gap=True))
    assert main(["forecast", str(data), "-H", "2", "-m", "naive"]) == 2
    assert "fill" in capsys.readouterr().err  # the refusal says how to fix it

    assert main(["forecast", str(data), "-H", "2", "-m", "naive", "--fill", "ffill"]) == 0
    printed = capsys.readouterr().out
    expected = tsf.forecast(pd.read_csv(data), 2, model="naive", fill="ffill")
    assert printed == expected.to_csv(index=False)


def test_freq_sets_the_grid_the_forecasts_are_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "two_days.csv", every_other_day())  # the last day is 2024-03-19
    assert main(["forecast", str(data), "-H", "2", "-m", "naive"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["a,2024-03-21,39.0", "a,2024-03-23,39.0"]
    args = ["forecast", str(data), "-H", "2", "-m", "naive", "--freq", "D", "--fill", "zero"]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["a,2024-03-20,39.0", "a,2024-03-21,39.0"]


# --------------------------------------------------------------------------- time stamps
def test_the_forecast_command_reads_utc_offset_changes_as_the_api_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "berlin.csv", dst_frame())
    assert "2021-03-28T01:00:00+01:00,10" in data.read_text()  # the offset changes in the file
    assert "2021-03-28T03:00:00+02:00,10" in data.read_text()
    assert main(["forecast", str(data), "-H", "3", "-m", "seasonal_naive"]) == 0
    printed = capsys.readouterr().out
    expected = tsf.forecast(as_read_by_the_cli(data), 3, model="seasonal_naive")
    assert printed == expected.to_csv(index=False)
    assert len(printed.splitlines()) == 4


def backtest_config(config: Path, text: str, *flags: str) -> int:
    """`tsforecast backtest` of a config written from `text`, its outputs beside it (r/, d/)."""
    config.write_text(text, encoding="utf-8")
    folder = config.parent
    out = ["--results-dir", str(folder / "r"), "--dashboards-dir", str(folder / "d")]
    return main(["backtest", str(config), *flags, *out])


def test_a_backtest_config_reads_utc_offset_changes_as_the_api_does(tmp_path: Path) -> None:
    data = write(tmp_path / "berlin.csv", dst_frame())
    text = (
        '[data]\npath = "berlin.csv"\n[backtest]\nhorizon = 6\nn_windows = 2\n'
        "[models.naive]\n[models.seasonal_naive]\n"
    )
    assert backtest_config(tmp_path / "berlin.toml", text, "--quiet") == 0
    written = pd.read_parquet(tmp_path / "r" / "berlin" / "forecasts.parquet")
    expected = tsf.backtest(
        as_read_by_the_cli(data),
        ["naive", "seasonal_naive"],
        horizon=6,
        n_windows=2,
    ).forecasts
    pd.testing.assert_frame_equal(written, expected)


# --------------------------------------------------------------------------- backtest()
FILL_FREQ = """
[data]
path = "two_days.csv"
fill = "interpolate"
freq = "D"

[backtest]
horizon = 3
n_windows = 2

[models.naive]
"""


def test_the_config_fill_and_freq_reach_backtest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    class Stop(Exception):
        pass

    def spy(df: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(backtest_module, "backtest", spy)
    write(tmp_path / "two_days.csv", every_other_day())
    (tmp_path / "exp.toml").write_text(FILL_FREQ, encoding="utf-8")
    with pytest.raises(Stop):
        main(["backtest", str(tmp_path / "exp.toml"), "--results-dir", str(tmp_path / "r")])
    assert (seen["fill"], seen["freq"]) == ("interpolate", "D")


def test_a_config_with_fill_and_freq_backtests_on_that_grid(tmp_path: Path) -> None:
    write(tmp_path / "two_days.csv", every_other_day())
    (tmp_path / "exp.toml").write_text(FILL_FREQ, encoding="utf-8")
    out = ["--results-dir", str(tmp_path / "r"), "--dashboards-dir", str(tmp_path / "d")]
    assert main(["backtest", str(tmp_path / "exp.toml"), "--quiet", *out]) == 0
    forecasts = pd.read_parquet(tmp_path / "r" / "exp" / "forecasts.parquet")
    steps = forecasts.groupby("cutoff")["ds"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(days=1)]  # daily, the interpolated grid


# --------------------------------------------------------------------------- data sets
@pytest.mark.parametrize("flag", ["--id-col", "--time-col"])
def test_a_column_name_a_data_set_does_not_have_is_refused_not_ignored(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `tsforecast forecast air_passengers --time-col month` once forecast with `ds` as if the
    # flag had not been given
    code = main(["forecast", "air_passengers", "-H", "2", "--model", "naive", flag, "month"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"`{flag} month` is for a data file" in err and "drop" in err


def test_a_data_set_takes_its_own_column_names(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["forecast", "air_passengers", "-H", "2", "--model", "naive"]
    assert main([*args, "--id-col", "unique_id", "--time-col", "ds"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "unique_id,ds,y"


@pytest.mark.parametrize("flag", ["--out", "--report"])
def test_an_output_path_that_is_a_folder_is_refused_before_anything_is_written(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--out x.csv` naming a folder once raised IsADirectoryError after `--report` was written
    folder = tmp_path / ("taken.csv" if flag == "--out" else "taken.html")
    folder.mkdir()
    out = ["--out", str(tmp_path / "fc.csv")] if flag == "--report" else []
    report = ["--report", str(tmp_path / "page.html")] if flag == "--out" else []
    argv = ["forecast", "air_passengers", "-H", "2", "--model", "naive", *out, *report]
    assert main([*argv, flag, str(folder)]) == 2
    assert f"`{flag}` {str(folder)!r} is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


@pytest.mark.parametrize("flag", ["--out", "--report"])
def test_an_output_path_under_a_file_is_refused_before_the_forecast(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was a FileExistsError traceback after the forecast, and the other output was written
    blocker = tmp_path / "afile"
    blocker.write_text("a file", encoding="utf-8")
    target = blocker / ("x.csv" if flag == "--out" else "page.html")
    other = ["--report", str(tmp_path / "page.html")] if flag == "--out" else []
    other += ["--out", str(tmp_path / "fc.csv")] if flag == "--report" else []
    argv = ["forecast", "air_passengers", "-H", "2", "--model", "naive", *other]
    assert main([*argv, flag, str(target)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("tsforecast: error: ") and f"{str(blocker)!r} is a file, not a folder" in err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_csv_files_ids_come_back_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # read as numbers, "001" came back as 1 and the series "1" and "01" were merged into one
    rows = [f"{sku},{step},{float(step)}" for sku in ("001", "1", "01") for step in range(12)]
    path = tmp_path / "skus.csv"
    path.write_text("sku,step,qty\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "fc.csv"
    argv = ["forecast", str(path), "--id-col", "sku", "--time-col", "step", "--target-col", "qty"]
    assert main([*argv, "-H", "2", "--model", "naive", "--out", str(out)]) == 0
    fc = pd.read_csv(out, dtype={"sku": str})
    assert list(fc["sku"].unique()) == ["001", "1", "01"]


def test_a_text_column_chosen_as_covariate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--covariates note` (text) was dropped: the forecast was the one without covariates
    rows = [f"a,{step},{float(step)},x{step % 2}" for step in range(12)]
    path = tmp_path / "notes.csv"
    path.write_text("unique_id,ds,y,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    argv = ["forecast", str(path), "-H", "2", "--model", "lstm", "--covariates", "note"]
    assert main(argv) == 2
    assert "`--covariates` names 'note', a column of dtype" in capsys.readouterr().err
    text = (
        '[data]\npath = "notes.csv"\ncovariates = ["note"]\n[backtest]\nhorizon = 2\n'
        "[models.lstm]\nmax_steps = 1\n"
    )
    assert backtest_config(tmp_path / "notes.toml", text) == 2
    assert "`data.covariates` names 'note'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("targets", "expected"),
    [(["y", "y"], r"names \['y'\] more than once"), (["ds"], r"names the time column")],
)
def test_target_flags_naming_a_column_twice_or_the_time_column_are_refused(
    targets: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the frame built from the flags was refused for "duplicated column names" the file lacks
    path = tmp_path / "one.csv"
    path.write_text("unique_id,ds,y\n" + "\n".join(f"a,{t},{t}.5" for t in range(9)) + "\n")
    assert (
        main(["forecast", str(path), "-H", "2", "--model", "naive", "--target-col", *targets]) == 2
    )
    assert re.search(expected, capsys.readouterr().err)


def test_covariates_flag_naming_a_column_twice_is_refused_as_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the frame cut to the flags' columns was refused for "duplicated column names" the file
    # does not have
    path = tmp_path / "promo.csv"
    rows = [f"a,{t},{t}.5,{t % 2}" for t in range(12)]
    path.write_text("unique_id,ds,y,promo\n" + "\n".join(rows) + "\n", encoding="utf-8")
    argv = ["forecast", str(path), "-H", "2", "--model", "lstm", "--covariates", "promo", "promo"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "`--covariates` names ['promo'] more than once; name each covariate once." in err
    assert "duplicated column names" not in err


def test_an_unknown_intervals_mode_ends_its_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    # with no close match the message stopped at "got 'bogus';"
    assert main(["forecast", "air_passengers", "-H", "2", "--intervals", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith(
        "must be one of ['auto', 'model', 'conformal', 'calibrated'], got 'bogus'."
    )
    assert main(["forecast", "air_passengers", "-H", "2", "--intervals", "conformall"]) == 2
    assert "got 'conformall'; did you mean 'conformal'?" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--time-col", "date", "--target-col", "sales"],
            "`--target-col` names 'sales', which the data lack (its columns: ['unique_id', "
            "'date', 'units'])",
        ),
        (
            ["--time-col", "date"],
            "the data lack the default target column 'y' (its columns: ['unique_id', 'date', "
            "'units']); name the target column with `--target-col`.",
        ),
        (["--time-col", "dates", "--target-col", "units"], "did you mean `--time-col date`?"),
    ],
)
def test_a_column_the_data_lack_is_refused_as_the_flag_that_names_it(
    flags: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # forecast()'s own refusal said "pass `target_col=`", which the command line has not
    path = tmp_path / "units.csv"
    path.write_text("date,units\n" + "\n".join(f"2024-01-0{d},{d}.5" for d in range(1, 9)) + "\n")
    assert main(["forecast", str(path), "-H", "2", "--model", "naive", *flags]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "target_col=" not in err


def test_a_device_this_machine_lacks_is_refused_as_the_flag_before_any_data_is_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(cli_forecast, "_forecast_data", lambda args: pytest.fail("data read"))
    assert main(["forecast", "air_passengers", "-H", "2", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "`--device` 'cuda' was asked for but CUDA is not available; use 'auto'" in err
    assert "device='auto'" not in err


def test_auto_refusing_covariates_names_the_flag_and_key_that_leave_them_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the statistical models' refusal named `--covariates` with no names and `covariates = []`;
    # default auto's said only "drop the columns or add a neural candidate"
    days = pd.date_range("2020-01-01", periods=40, freq="D")
    data = tmp_path / "sales.csv"
    pd.DataFrame({"date": days, "sales": np.arange(40.0), "rate": 1.0}).to_csv(data, index=False)
    argv = ["forecast", str(data), "--time-col", "date", "--target-col", "sales", "-H", "3"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "none of the candidates" in err
    assert "`tsforecast forecast ... --covariates` with no names" in err
    assert "`covariates = []` in a config's [data]" in err
    assert "add a neural candidate" in err


def test_an_out_suffix_refusal_lists_every_suffix_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ".pq" is written as parquet, but the message said "must end in .csv or .parquet"
    argv = ["forecast", "air_passengers", "-H", "2", "--model", "naive", "--out"]
    assert main([*argv, str(tmp_path / "fc.txt")]) == 2
    assert "`--out` must end in .csv, .parquet or .pq, got" in capsys.readouterr().err
    assert main([*argv, str(tmp_path / "fc.pq")]) == 0
    assert len(pd.read_parquet(tmp_path / "fc.pq")) == 2


# --------------------------------------------------------------------------- --future
def promo_history(n_series: int = 3, n_days: int = 40, horizon: int = 3) -> pd.DataFrame:
    """Daily sales of a few shops with a promotion flag, `horizon` days longer than a history
    of `n_days`: the last days are the known future (the flag, not the sales)."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=n_days + horizon, freq="D").strftime("%Y-%m-%d")
    frames = []
    for shop in [f"shop{i}" for i in range(n_series)]:
        promo = rng.integers(0, 2, n_days + horizon)
        y = 10 + 5 * promo + rng.normal(0, 0.5, n_days + horizon)
        frames.append(pd.DataFrame({"unique_id": shop, "ds": days, "y": y, "promo": promo}))
    return pd.concat(frames, ignore_index=True)


def promo_files(tmp_path: Path, horizon: int = 3) -> tuple[Path, Path, pd.DataFrame]:
    """sales.csv (the history) and promos.csv (the flag for the `horizon` days after it)."""
    full = promo_history(horizon=horizon)
    last = full.groupby("unique_id").cumcount(ascending=False) < horizon
    full[~last].to_csv(tmp_path / "sales.csv", index=False)
    full[last].drop(columns="y").to_csv(tmp_path / "promos.csv", index=False)
    return tmp_path / "sales.csv", tmp_path / "promos.csv", full[last].drop(columns="y")


def test_future_passes_known_future_covariates_as_forecast_future_df(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, future, future_frame = promo_files(tmp_path)
    argv = ["forecast", str(data), "-H", "3", "-m", "lstm", "-p", "max_steps=5"]
    assert main([*argv, "--future", str(future), "--out", str(tmp_path / "fc.csv")]) == 0
    cli = pd.read_csv(tmp_path / "fc.csv")
    api = tsf.forecast(
        pd.read_csv(data), 3, "lstm", future_df=pd.read_csv(future), max_steps=5
    ).astype({"ds": str})
    pd.testing.assert_frame_equal(cli, api)
    # a parquet file is read as DATA's parquet would be: the same forecast
    future_frame.to_parquet(tmp_path / "promos.parquet", index=False)
    assert (
        main([*argv, "--future", str(tmp_path / "promos.parquet"), "-o", str(tmp_path / "p.csv")])
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.csv"), cli)
    # the flag is read: without it, `promo` is a past covariate only and the forecast differs
    assert main([*argv, "--out", str(tmp_path / "past.csv")]) == 0
    assert not np.allclose(pd.read_csv(tmp_path / "past.csv")["y"], cli["y"])


def test_future_ids_are_read_as_the_data_has_them(tmp_path: Path) -> None:
    # a parquet history keeps integer ids, a CSV future's are text: 7 and '7' matched nothing
    full = promo_history(n_series=2).assign(unique_id=lambda d: d["unique_id"].str[-1].astype(int))
    last = full.groupby("unique_id").cumcount(ascending=False) < 3
    full[~last].to_parquet(tmp_path / "sales.parquet", index=False)
    full[last].drop(columns="y").to_csv(tmp_path / "promos.csv", index=False)
    argv = ["forecast", str(tmp_path / "sales.parquet"), "-H", "3", "-m", "lstm"]
    argv += ["-p", "max_steps=3", "--future", str(tmp_path / "promos.csv")]
    assert main([*argv, "-o", str(tmp_path / "fc.csv")]) == 0
    assert sorted(pd.read_csv(tmp_path / "fc.csv")["unique_id"].unique()) == [0, 1]


def test_future_without_an_id_column_is_the_future_of_the_only_series(tmp_path: Path) -> None:
    # as a data file without the id column is one series: here both files lack it
    full = promo_history(n_series=1).drop(columns="unique_id")
    full[:40].to_csv(tmp_path / "shop.csv", index=False)
    full[40:].drop(columns="y").to_csv(tmp_path / "promos.csv", index=False)
    argv = ["forecast", str(tmp_path / "shop.csv"), "-H", "3", "-m", "lstm", "-p", "max_steps=5"]
    assert (
        main([*argv, "--future", str(tmp_path / "promos.csv"), "-o", str(tmp_path / "fc.csv")]) == 0
    )
    cli = pd.read_csv(tmp_path / "fc.csv")
    history = full[:40].assign(unique_id="shop")
    future = full[40:].drop(columns="y").assign(unique_id="shop")
    api = tsf.forecast(history, 3, "lstm", future_df=future, max_steps=5).astype({"ds": str})
    pd.testing.assert_frame_equal(cli, api[cli.columns])


def _bad_future(tmp_path: Path, case: str) -> str:
    """The `--future` argument of each refused case, its file written under `tmp_path`."""
    _, _, future = promo_files(tmp_path)
    path = tmp_path / "bad.csv"
    if case == "missing":
        return str(tmp_path / "nope.csv")
    if case == "data-set-name":
        return "air_passengers"
    if case == "suffix":
        path = tmp_path / "promos.txt"
    changed = {
        "suffix": future,
        "no-id": future.drop(columns="unique_id"),
        "no-time": future.drop(columns="ds"),
        "no-rows": future.iloc[:0],
        "no-covariate": future[["unique_id", "ds"]],
        "a-target": future.assign(y=1.0),
        "not-in-the-data": future.assign(price=1.0),
        "text": future.assign(promo="yes"),
        "not-dates": future.assign(ds="soon"),
        "time-zone": future.assign(ds=pd.to_datetime(future["ds"]).dt.tz_localize("UTC")),
        "a-step-missing": future.iloc[1:],
        "unknown-ids": future.assign(unique_id=future["unique_id"].str.upper()),
    }[case]
    changed.to_csv(path, index=False)
    return str(path)


# each refused `--future` file, and what the message says of it
BAD_FUTURE = [
    ("missing", "`--future` file '{future}' does not exist (looked for"),
    (
        "data-set-name",
        "`--future` takes a .csv, .parquet or .pq file of known-future "
        "covariates, got the data set name 'air_passengers'; pass the path of your file.",
    ),
    ("suffix", "`--future` file '{future}' must be a .csv, .parquet or .pq file."),
    (
        "no-id",
        "the `--future` file '{future}' has no id column 'unique_id' (its columns: "
        "['ds', 'promo']); give it the id column of the data, or name it with `--id-col`.",
    ),
    (
        "no-time",
        "the `--future` file '{future}' has no time column 'ds' (its columns: "
        "['unique_id', 'promo']); give it the time column of the data, or name it with "
        "`--time-col`.",
    ),
    (
        "no-rows",
        "the `--future` file '{future}' has no data rows (its header: "
        "['unique_id', 'ds', 'promo']); add the rows under its header.",
    ),
    (
        "no-covariate",
        "the `--future` file '{future}' holds no covariate (its columns: ['unique_id', 'ds'])",
    ),
    (
        "a-target",
        "the `--future` file '{future}' holds the target columns ['y']: their "
        "future is what is forecast; leave them out of it.",
    ),
    (
        "not-in-the-data",
        "the `--future` file '{future}' has columns ['price'] that are not "
        "in the data (the data's columns: ['unique_id', 'ds', 'y', 'promo'])",
    ),
    ("text", "the `--future` file '{future}' holds 'promo' as"),
    (
        "not-dates",
        "the `--future` file '{future}': column 'ds' holds strings that are not "
        "dates (first: 'soon')",
    ),
    (
        "time-zone",
        "the time stamps of the `--future` file '{future}' carry a UTC offset or time zone "
        "and those of the data do not; write both files' stamps the same way",
    ),
    (
        "a-step-missing",
        "the `--future` file '{future}' lacks known-future covariates "
        "['promo'] for 1 of the 9 forecast steps (first: series 'shop0' at 2024-02-10",
    ),
    (
        "unknown-ids",
        ". The `--future` file '{future}' names 3 series that the data does "
        "not have (first: 'SHOP0', str).",
    ),
]


@pytest.mark.parametrize(("case", "expected"), BAD_FUTURE, ids=[c for c, _ in BAD_FUTURE])
def test_a_bad_future_file_is_refused_as_the_flag_and_nothing_is_written(
    case: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    future = _bad_future(tmp_path, case)
    out = tmp_path / "fc.csv"
    argv = ["forecast", str(tmp_path / "sales.csv"), "-H", "3", "-m", "lstm", "-p", "max_steps=2"]
    assert main([*argv, "--future", future, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected.format(future=future) in err
    assert "future_df" not in err and "`df`" not in err and "Traceback" not in err
    assert list(tmp_path.glob("fc*")) == []  # no output, not even a temporary file


def test_future_with_a_model_that_reads_no_known_future_is_refused_before_the_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, future, _ = promo_files(tmp_path)
    monkeypatch.setattr(cli_forecast, "_forecast_data", lambda args: pytest.fail("data read"))
    argv = ["forecast", str(tmp_path / "sales.csv"), "-H", "3", "-m", "theta"]
    assert main([*argv, "--future", str(future)]) == 2
    assert (
        "`--future` gives known-future covariates, which `--model theta` does not use; choose "
        "a model that does (--model lstm, bilstm or seq2seq), or drop `--future`."
    ) in capsys.readouterr().err


def test_future_df_is_set_with_the_future_flag_not_a_param(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["forecast", "air_passengers", "-H", "3", "-p", "future_df=x.csv"]) == 2
    assert "`--param future_df=...`: set it with `--future` instead." in capsys.readouterr().err


def test_forecast_help_describes_future(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["forecast", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--future PATH known-future covariates" in text
    assert "needs a model that reads them: lstm, bilstm, seq2seq" in text


# --------------------------------------------------------------------------- empty files
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("unique_id,ds,y\n", "has no data rows (its header: ['unique_id', 'ds', 'y'])"),
        ("", "is empty (not even a header line)"),
    ],
    ids=["header-only", "zero-bytes"],
)
def test_a_data_file_without_data_rows_is_named(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was "`df` is empty (0 rows); pass a frame with at least one series."
    path = tmp_path / "e.csv"
    path.write_text(content)
    assert main(["forecast", str(path), "-H", "2", "-m", "naive"]) == 2
    err = capsys.readouterr().err
    assert f"tsforecast: error: the data file {str(path)!r} {expected}" in err
    assert "`df`" not in err
