"""Metrics: array definitions, the M4 golden numbers, and `evaluate` on forecasts frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tsforecast import datasets, metrics
from tsforecast.errors import InputError


def test_point_metrics_match_their_definitions() -> None:
    y = np.array([1.0, 2.0, 4.0, 0.0])
    f = np.array([2.0, 2.0, 1.0, 0.0])
    assert metrics.mae(y, f) == pytest.approx(1.0)
    assert metrics.rmse(y, f) == pytest.approx(np.sqrt(10.0 / 4))
    # 0/0 counts as a perfect forecast in sMAPE (M4 has no zeros; ETT-like data has)
    assert metrics.smape(y, f) == pytest.approx((200 / 3 + 0 + 200 * 3 / 5 + 0) / 4)
    assert metrics.mape(y[:3], f[:3]) == pytest.approx((100 + 0 + 75) / 3)


def test_scaled_errors_use_the_seasonal_naive_scale_of_the_training_part() -> None:
    train = np.array([1.0, 5.0, 2.0, 7.0, 4.0, 6.0])  # m = 2 diffs: 1, 2, 2, -1
    y, f = np.array([3.0, 5.0]), np.array([4.0, 3.0])
    assert metrics.mase_scale(train, 2) == pytest.approx(1.5)
    assert metrics.mase(y, f, train, 2) == pytest.approx(1.5 / 1.5)
    assert metrics.rmsse_scale(train, 2) == pytest.approx(10.0 / 4)
    assert metrics.rmsse(y, f, train, 2) == pytest.approx(np.sqrt(2.5 / 2.5))
    assert np.isnan(metrics.mase_scale(train[:2], 2))


def test_pinball_coverage_and_owa() -> None:
    y = np.array([1.0, 2.0, 3.0, 10.0])
    q = np.array([2.0, 2.0, 2.0, 2.0])
    # under-forecast costs q, over-forecast costs 1 - q
    assert metrics.pinball(y, q, 0.9) == pytest.approx((0.1 * 1 + 0 + 0.9 * 1 + 0.9 * 8) / 4)
    assert metrics.coverage(y, y - 1, np.array([1.0, 1.0, 5.0, 5.0])) == pytest.approx(0.5)
    # the M4 check from published-results.md: SES hourly
    assert metrics.owa(18.094, 2.385, 18.383, 2.395) == pytest.approx(0.99005, abs=1e-5)
    with pytest.raises(InputError, match="quantile"):
        metrics.pinball(y, q, 1.5)
    with pytest.raises(InputError, match="same shape"):
        metrics.mae(y, q[:2])


@pytest.fixture(scope="module")
def m4() -> datasets.ForecastingDataset:
    ds = datasets.load("m4_hourly")
    assert isinstance(ds, datasets.ForecastingDataset)
    return ds


def _m4_forecasts(ds: datasets.ForecastingDataset) -> pd.DataFrame:
    """naive and seasonal naive forecasts of the M4 Hourly test part, as a forecasts frame."""
    train = ds.train.sort_values(["unique_id", "ds"], kind="stable")
    test = ds.test.sort_values(["unique_id", "ds"], kind="stable")
    ends = np.flatnonzero(
        np.r_[train["unique_id"].to_numpy()[1:] != train["unique_id"].to_numpy()[:-1], True]
    )
    y_train = train["y"].to_numpy()
    last = y_train[ends]  # -> (414,)
    season = np.stack([y_train[e - 23 : e + 1] for e in ends])  # -> (414, 24)
    parts = []
    for model, y_hat in (
        ("naive", np.repeat(last, 48)),
        ("seasonal_naive", np.tile(season, 2).reshape(-1)),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": test["unique_id"].to_numpy(),
                    "ds": test["ds"].to_numpy(),
                    "cutoff": np.repeat(train["ds"].to_numpy()[ends], 48),
                    "model": model,
                    "target": "y",
                    "y": test["y"].to_numpy(),
                    "y_hat": y_hat,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_m4_hourly_golden_naive_and_seasonal_naive(m4: datasets.ForecastingDataset) -> None:
    """The organisers' published Naive1 / sNaive scores, to three decimals."""
    fc = _m4_forecasts(m4)
    out = metrics.evaluate(fc, m4.train, season_length=24)
    got = {(r.model, r.metric): round(r.value, 3) for r in out.itertuples()}
    assert got[("naive", "smape")] == 43.003
    assert got[("naive", "mase")] == 11.608
    assert got[("seasonal_naive", "smape")] == 13.912
    assert got[("seasonal_naive", "mase")] == 1.193
    # no naive2 among the forecasts: no OWA rather than a wrong one
    assert "owa" not in set(out["metric"])


def test_evaluate_groups_and_owa_against_the_baseline(m4: datasets.ForecastingDataset) -> None:
    fc = _m4_forecasts(m4)
    # treat seasonal naive as the baseline to check the OWA arithmetic on aggregates
    out = metrics.evaluate(fc, m4.train, season_length=24, baseline="seasonal_naive")
    v = {(r.model, r.metric): r.value for r in out.itertuples()}
    expected = 0.5 * (
        v[("naive", "smape")] / v[("seasonal_naive", "smape")]
        + v[("naive", "mase")] / v[("seasonal_naive", "mase")]
    )
    assert v[("naive", "owa")] == pytest.approx(expected)
    assert v[("seasonal_naive", "owa")] == pytest.approx(1.0)

    by_h = metrics.evaluate(fc, m4.train, season_length=24, by="horizon")
    assert sorted(by_h["horizon"].unique()) == list(range(1, 49))
    # the mean of the per-step MAE equals the overall MAE (every series has 48 steps)
    mae_h = by_h[(by_h["metric"] == "mae") & (by_h["model"] == "naive")]["value"].mean()
    assert mae_h == pytest.approx(v[("naive", "mae")])
    by_id = metrics.evaluate(fc, m4.train, season_length=24, by="unique_id")
    smape_id = by_id[(by_id["metric"] == "smape") & (by_id["model"] == "naive")]
    assert len(smape_id) == 414
    assert smape_id["value"].mean() == pytest.approx(v[("naive", "smape")])


def test_evaluate_intervals_polars_and_errors() -> None:
    fc = pd.DataFrame(
        {
            "unique_id": ["a"] * 4,
            "ds": [5, 6, 7, 8],
            "cutoff": [4] * 4,
            "model": ["m"] * 4,
            "target": ["y"] * 4,
            "y": [1.0, 2.0, 3.0, 4.0],
            "y_hat": [1.0, 2.0, 2.0, 2.0],
            "y_lo_80": [0.0, 0.0, 0.0, 0.0],
            "y_hi_80": [1.5, 2.5, 2.5, 5.0],
        }
    )
    train = pd.DataFrame({"unique_id": "a", "ds": [1, 2, 3, 4], "y": [1.0, 2.0, 4.0, 3.0]})
    out = metrics.evaluate(fc, train, season_length=1)
    v = dict(zip(out["metric"], out["value"], strict=True))
    assert v["coverage_80"] == pytest.approx(0.75)
    assert v["mase"] == pytest.approx(0.75 / np.mean([1.0, 2.0, 1.0]))
    lo_q, hi_q = 0.1, 0.9
    y, f = fc["y"].to_numpy(), fc["y_hat"].to_numpy()
    expected = np.mean(
        [
            metrics.pinball(y, f, 0.5),
            metrics.pinball(y, fc["y_lo_80"], lo_q),
            metrics.pinball(y, fc["y_hi_80"], hi_q),
        ]
    )
    assert v["pinball"] == pytest.approx(expected)
    out_pl = metrics.evaluate(pl.from_pandas(fc), pl.from_pandas(train), season_length=1)
    assert isinstance(out_pl, pl.DataFrame)
    assert out_pl.to_pandas()["value"].to_numpy() == pytest.approx(out["value"].to_numpy())
    with pytest.raises(InputError, match="y_hat"):
        metrics.evaluate(fc.drop(columns="y_hat"), train)
    with pytest.raises(InputError, match="`by`"):
        metrics.evaluate(fc, train, by="week")


@pytest.mark.parametrize(("train_unit", "forecast_unit"), [("ns", "ns"), ("ns", "s"), ("us", "ns")])
def test_scaled_errors_take_datetime_stamps_of_any_resolution(
    train_unit: str, forecast_unit: str
) -> None:
    stamps = pd.date_range("2024-01-01", periods=6, freq="D", unit=train_unit)
    train = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": [1.0, 2.0, 4.0, 3.0, 9.0, 9.0]})
    ahead = pd.date_range("2024-01-05", periods=2, freq="D", unit=forecast_unit)
    fc = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": ahead,
            "cutoff": pd.Timestamp("2024-01-04").as_unit(forecast_unit),
            "model": "m",
            "target": "y",
            "y": [9.0, 9.0],
            "y_hat": [3.0, 3.0],
        }
    )
    out = metrics.evaluate(fc, train, season_length=1, metrics=["mase"])
    # the scale comes from the rows up to the cutoff only: 1, 2, 4, 3
    assert out["value"].iloc[0] == pytest.approx(6.0 / np.mean([1.0, 2.0, 1.0]))


def test_msis_is_m4_s_scaled_interval_score() -> None:
    # one forecast of two steps, a 95 % interval: alpha = 0.05, penalty 2 / alpha = 40
    fc = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": [5, 6],
            "cutoff": 4,
            "model": "m",
            "target": "y",
            "y": [10.0, 20.0],
            "y_hat": [10.0, 15.0],
            "y_lo_95": [8.0, 12.0],
            "y_hi_95": [12.0, 18.0],
        }
    )
    train = pd.DataFrame({"unique_id": "a", "ds": range(5), "y": [0.0, 2.0, 4.0, 6.0, 8.0]})
    m = metrics.evaluate(fc, train, season_length=1, metrics=["mae"])
    value = m.loc[m["metric"] == "msis_95", "value"].item()
    # step 1: width 4, inside; step 2: width 6, 2 above the upper bound -> 6 + 40 * 2 = 86
    # mean 45, scaled by the mean absolute one-step change of the training part (2)
    assert value == pytest.approx(45.0 / 2.0)
