"""Mistakes a new user makes, refused at the boundary with what is wrong and how to fix it."""

from __future__ import annotations

import errno
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import atomic
from tsforecast.cli.main import main as cli_main
from tsforecast.errors import InputError
from tsforecast.estimators import registry


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["a"] * 30 + ["b"] * 30,
            "ds": list(pd.date_range("2020-01-01", periods=30)) * 2,
            "y": [np.nan] * 30 + list(np.arange(30.0) + 100),
        }
    )


@pytest.mark.parametrize("fill", ["zero", "ffill", "interpolate"])
def test_a_series_with_no_observed_value_is_refused_under_every_fill(fill: str) -> None:
    # fill="zero" used to forecast it as a confident 0 with zero-width intervals
    with pytest.raises(InputError, match="series 'a' has no observed value at all"):
        tsf.forecast(_frame(), 3, model="theta", fill=fill, progress=False)


def test_a_zero_fill_still_fills_gaps_of_an_observed_series() -> None:
    df = _frame()
    df.loc[30, "y"] = np.nan  # series b's first value
    fc = tsf.forecast(df[df["unique_id"] == "b"], 3, model="naive", fill="zero")
    assert np.isfinite(fc["y"]).all()


def test_an_estimator_class_instead_of_an_instance_is_refused() -> None:
    df = _frame().dropna()
    with pytest.raises(InputError, match=r"class ETSForecaster, not an estimator.*instance"):
        tsf.forecast(df, 3, model=tsf.models.ETSForecaster)
    with pytest.raises(InputError, match="class ETSForecaster"):
        tsf.backtest(df, [tsf.models.ETSForecaster], horizon=3)


def test_a_name_is_not_contradicted_by_its_parameters() -> None:
    with pytest.raises(InputError, match=r"'bilstm' is bidirectional=True.*use model 'lstm'"):
        registry.build("bilstm", {"bidirectional": False}, horizon=3)
    with pytest.raises(InputError, match=r"'lstm' is bidirectional=False.*use model 'bilstm'"):
        registry.build("lstm", {"bidirectional": True}, horizon=3)
    assert registry.build("bilstm", {"bidirectional": True}, horizon=3).bidirectional is True


def test_a_folder_that_refuses_new_files_is_found_before_any_work(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # permission bits can say writable where creating a file fails (root under /proc, a
    # read-only mount): the check creates a file, as the write will
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(InputError, match=r"cannot create a file in the folder .*Read-only"):
        atomic.check_writable(tmp_path / "out.csv", "`--out`")
    with pytest.raises(InputError, match=r"cannot write .*Read-only"):
        atomic.write_atomic(tmp_path / "out.csv", "x")


def test_the_cli_writes_nothing_when_one_output_cannot_be_written(
    monkeypatch, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "sales.csv"
    pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=40), "y": np.arange(40.0)}).to_csv(
        data, index=False
    )
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    real = tempfile.mkstemp

    def refuse_in_blocked(*args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(kwargs.get("dir", "")) == blocked:
            raise OSError(errno.EACCES, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse_in_blocked)
    report = tmp_path / "r.html"
    code = cli_main(
        ["forecast", str(data), "-H", "3", "--model", "naive", "--out",
         str(blocked / "x.csv"), "--report", str(report)]
    )  # fmt: skip
    assert code == 2
    assert "cannot create a file in the folder" in capsys.readouterr().err
    assert not report.exists()


def test_a_history_passed_as_the_forecast_to_report_is_refused(tmp_path: Path) -> None:
    # it used to be drawn as a 30-step "forecast" lying on top of its own history
    history = _frame().dropna()
    with pytest.raises(InputError, match="does not start after its history: series 'b'"):
        tsf.report(history, tmp_path / "page.html", history_df=history)
    assert not (tmp_path / "page.html").exists()
    fc = tsf.forecast(history, 3, model="naive")
    assert tsf.report(fc, tmp_path / "page.html", history_df=history).exists()


def test_a_calibration_fit_that_cannot_train_says_it_is_the_calibration_fit() -> None:
    # the lstm's own message counted the calibration fit's values as if they were the data's
    history = _frame().dropna()
    with pytest.raises(InputError) as refused:
        tsf.forecast(
            history, 3, model="lstm", levels=[80], intervals="calibrated",
            input_size=30, max_steps=2, progress=False,
        )  # fmt: skip
    message = str(refused.value)
    assert "the calibration fit of 'lstm'" in message
    assert "no series is long enough to train on" in message
    assert "intervals='model'" in message


def test_a_folder_given_as_the_data_file_is_named_a_folder(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli_main(["forecast", str(tmp_path), "-H", "3"]) == 2
    assert "is a folder; pass one .csv, .parquet or .pq file in it" in capsys.readouterr().err


def _one_short_series(tmp_path: Path) -> Path:
    path = tmp_path / "short.csv"
    frame = pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=30), "y": np.arange(30.0)})
    frame.to_csv(path, index=False)
    return path


def test_calibrated_intervals_on_too_short_data_point_elsewhere_than_calibrated() -> None:
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=30), "y": np.arange(30.0)}
    )
    with pytest.raises(InputError) as refused:
        tsf.forecast(df, 7, model="theta", levels=(80,), intervals="calibrated")
    message = str(refused.value)
    assert "fewer than the 38 values that 5 calibration windows" in message
    # the way out is the model's own intervals, not the mode that was refused
    assert "intervals='auto'" in message and "intervals='model'" in message
    assert "intervals='calibrated'" not in message


def test_the_command_line_names_its_own_option_in_a_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _one_short_series(tmp_path)
    arguments = ["forecast", str(path), "-H", "7", "--model", "theta", "--levels", "80"]
    assert cli_main([*arguments, "--intervals", "calibrated"]) == 2
    err = capsys.readouterr().err
    assert "`--intervals auto`" in err and "`--intervals model`" in err
    assert "intervals='" not in err  # the Python API's spelling, which a shell user cannot type
    assert cli_main([*arguments, "--intervals", "conformal"]) == 2
    assert "`--intervals calibrated` (pooled scores" in capsys.readouterr().err


def _daily(n: int = 120) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2020-01-01", periods=n),
            "y": 10.0 + np.sin(2 * np.pi * t / 7),
        }
    )


def test_a_backtest_labels_an_estimator_object_by_its_registered_name() -> None:
    # an LSTMForecaster(bidirectional=True) was labelled "lstm" (its class's name), and "lstm_2"
    # next to an lstm: the leaderboard's row said another model than the one that ran
    small = {"hidden_size": 8, "max_steps": 3, "time_budget_s": None}
    models = [registry.build(name, small, horizon=7) for name in ("bilstm", "lstm")]
    res = tsf.backtest(_daily(), models=[*models, "seasonal_naive"], horizon=7, season_length=7)
    assert sorted(res.leaderboard()["model"]) == ["bilstm", "lstm", "seasonal_naive"]
    assert registry.name_of(models[0]) == "bilstm" and registry.name_of(models[1]) == "lstm"


def test_a_backtest_refuses_to_drop_an_estimators_own_levels() -> None:
    model = registry.build("theta", horizon=7, levels=(80, 95))
    with pytest.raises(
        InputError, match=r"gives levels=\(80, 95\), but the backtest asks for none"
    ):
        tsf.backtest(_daily(), models=[model], horizon=7)
    res = tsf.backtest(_daily(), models=[model], horizon=7, levels=(80, 95))
    assert {"coverage_80", "coverage_95"} <= set(res.metrics["metric"])


def test_a_log_model_backtests_data_whose_zero_lies_only_after_every_cutoff() -> None:
    # the zero is the truth of the last fold, never an input: it was refused ("needs every
    # target value > 0 ... in `history_df`"); it is scored now, and changes no forecast
    df = pd.concat([_daily().assign(unique_id=name) for name in ("a", "b")], ignore_index=True)
    with_zero = df.copy()
    with_zero.loc[df.index[df["unique_id"] == "a"][-1], "y"] = 0.0
    small = {"hidden_size": 8, "max_steps": 5, "seed": 0, "time_budget_s": None}
    model = registry.build("lstm", {**small, "target_transform": "log"}, horizon=7)
    kept, zero = (
        tsf.backtest(data, models=[model], horizon=7, n_windows=2, refit=False)
        for data in (df, with_zero)
    )
    assert (zero.forecasts_pd["y_hat"].to_numpy() == kept.forecasts_pd["y_hat"].to_numpy()).all()
    fitted = model.clone().fit(df)
    with pytest.raises(InputError, match="in `df`: target_transform='log' needs every target"):
        fitted.predict_cutoffs(with_zero, [with_zero["ds"].max()])  # there it would be read


def test_a_global_model_backtested_on_series_that_end_apart_is_warned_of() -> None:
    # one lstm fit per fold learns from every series up to its own cutoff: a series that ends
    # 30 days earlier is forecast by a model that saw the others' later values
    df = pd.concat([_daily().assign(unique_id=name) for name in ("a", "b")], ignore_index=True)
    ragged = df[~((df["unique_id"] == "a") & (df["ds"] > df["ds"].max() - pd.Timedelta(days=30)))]
    small = {"hidden_size": 8, "max_steps": 3, "time_budget_s": None}
    lstm = registry.build("lstm", small, horizon=7)
    with pytest.warns(UserWarning, match="folds end on different dates") as caught:
        tsf.backtest(ragged, models=[lstm], horizon=7)
    assert "1 of 2 series have their cutoff before the last, 2020-04-22" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # per-series models, or series that end together: none
        tsf.backtest(ragged, models=["theta"], horizon=7)
        tsf.backtest(df, models=[lstm], horizon=7)


def test_a_forecast_from_a_history_shorter_than_every_training_window_is_warned_of() -> None:
    small = {"hidden_size": 8, "max_steps": 3, "input_size": 28, "time_budget_s": None}
    model = registry.build("lstm", small, horizon=7).fit(_daily())
    with pytest.warns(UserWarning, match=r"1 series of `history_df` have fewer than the 14 values"):
        model.predict(_daily().tail(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(_daily().tail(14))  # as long as a training window's past: no warning


def test_future_rows_of_a_series_df_does_not_have_are_warned_of() -> None:
    df = _daily().assign(promo=np.arange(120) % 3 == 0)
    future = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range(df["ds"].max(), periods=8)[1:], "promo": True}
    )
    small = {"hidden_size": 8, "max_steps": 3, "time_budget_s": None}
    model = registry.build("lstm", small, horizon=7).fit(df, future_df=future)
    typo = pd.concat([future, future.assign(unique_id="A")], ignore_index=True)
    with pytest.warns(UserWarning, match=r"rows for 1 series that `df` does not have: \['A'\]"):
        model.predict(future_df=typo)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(future_df=future)
