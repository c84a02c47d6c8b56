"""One contract check applied to every registered neural forecaster.

Shapes, finite output, same seed -> same forecasts, save/load round trip, 1 and several targets,
with and without covariates, with and without levels, and overfitting one tiny batch.
Models are tiny and trained for a few steps: these tests check the contract, not accuracy.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast.models as tm
from tests.conftest import make_long_frame
from tsforecast.errors import InputError, NotFittedError
from tsforecast.estimators.base import FORMAT_VERSION

MODELS = tm.names("neural")
TINY = {
    "input_size": 12,
    "hidden_size": 8,
    "head_hidden_size": 8,
    "num_layers": 1,
    "max_steps": 6,
    "batch_size": 16,
    "progress": False,
}


def _frame(n_targets: int, n_covariates: int, seed: int = 0) -> pd.DataFrame:
    df = make_long_frame({"a": 60, "b": 45, "c": 52}, n_covariates=n_covariates, seed=seed)
    if n_targets > 1:
        rng = np.random.default_rng(seed + 1)
        df["y2"] = rng.normal(size=len(df)).cumsum() + 10.0
    return df


def _targets(n_targets: int) -> list[str]:
    return ["y", "y2"][:n_targets]


def test_registry_names_and_defaults() -> None:
    assert set(MODELS) == {"lstm", "bilstm", "seq2seq"}
    assert tm.build("bilstm", horizon=3).bidirectional is True
    assert tm.build("lstm", horizon=3).bidirectional is False
    assert isinstance(tm.build("seq2seq", horizon=3), tm.Seq2SeqForecaster)
    with pytest.raises(InputError, match="unknown model 'gru'"):
        tm.build("gru")


def test_a_candidate_parameter_given_to_auto_says_where_it_goes() -> None:
    with pytest.raises(InputError, match=r"candidate_params=\{'bilstm': \{'max_steps': 7\}\}"):
        tm.build("auto", {"max_steps": 7}, horizon=3)
    with pytest.raises(InputError, match=r"candidate_params=\{'ets': \{'combine': 'aicc'\}\}"):
        tm.build("auto", {"combine": "aicc"}, horizon=3)
    model = tm.build("auto", {"candidate_params": {"bilstm": {"max_steps": 7}}}, horizon=3)
    assert model.candidate_params == {"bilstm": {"max_steps": 7}}


@pytest.mark.parametrize("name", ["naive", "theta", "lstm", "auto"])
def test_build_says_how_to_give_what_the_call_sets(name: str) -> None:
    with pytest.raises(
        InputError, match=rf"'{name}' needs `horizon`: .*build\('{name}', params, horizon=\.\.\.\)"
    ):
        tm.build(name)  # not the constructor's TypeError
    with pytest.raises(InputError, match=rf"build\('{name}', params, target_col=\.\.\.\)"):
        tm.build(name, {"target_col": ["y", "z"]}, horizon=3)
    assert tm.build(name, target_col=["y", "z"], horizon=3).target_col == ["y", "z"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(
    ("n_targets", "n_covariates", "levels"),
    [(1, 0, None), (1, 1, (80, 95)), (2, 0, (90,)), (2, 2, None)],
)
def test_contract(
    name: str, n_targets: int, n_covariates: int, levels: tuple | None, tmp_path: Path
) -> None:
    df = _frame(n_targets, n_covariates)
    targets = _targets(n_targets)
    horizon = 4
    model = tm.build(name, horizon=horizon, target_col=targets, levels=levels, seed=3, **TINY)
    with pytest.raises(NotFittedError):
        model.predict()
    fc = model.fit(df).predict()

    # shapes and schema: id, time, and per target the point + interval columns
    expected_cols = ["unique_id", "ds"]
    for t in targets:
        expected_cols.append(t)
        for level in levels or ():
            expected_cols += [f"{t}_lo_{level}", f"{t}_hi_{level}"]
    assert list(fc.columns) == expected_cols
    assert len(fc) == 3 * horizon
    assert fc.groupby("unique_id").size().to_dict() == {"a": 4, "b": 4, "c": 4}
    last = df.groupby("unique_id")["ds"].max()
    first_future = fc.groupby("unique_id")["ds"].min()
    assert ((first_future - last) == pd.Timedelta(hours=1)).all()
    values = fc[expected_cols[2:]].to_numpy()
    assert np.isfinite(values).all()
    for t in targets:
        for level in levels or ():
            assert (fc[f"{t}_lo_{level}"] <= fc[t] + 1e-6).all()
            assert (fc[t] <= fc[f"{t}_hi_{level}"] + 1e-6).all()
    assert len(model.history_) >= 1 and "train_loss" in model.history_[0]

    # same seed -> the very same forecasts; another seed -> different ones
    again = tm.build(name, horizon=horizon, target_col=targets, levels=levels, seed=3, **TINY)
    pd.testing.assert_frame_equal(fc, again.fit(df).predict())
    other = tm.build(name, horizon=horizon, target_col=targets, levels=levels, seed=4, **TINY)
    assert not np.allclose(values, other.fit(df).predict()[expected_cols[2:]].to_numpy())

    # save / load round trip: identical forecasts, from the stored history and a new one
    model.save(tmp_path / "model")
    loaded = tm.load(tmp_path / "model")
    assert type(loaded) is type(model)
    pd.testing.assert_frame_equal(fc, loaded.predict())
    history = df[df["ds"] < df["ds"].max() - pd.Timedelta(hours=5)]
    pd.testing.assert_frame_equal(model.predict(history), loaded.predict(history))


@pytest.mark.parametrize("name", MODELS)
def test_overfits_one_tiny_batch(name: str) -> None:
    # One short series, 8 training windows, every step sees all of them: the training loss
    # must fall far below its starting value.
    t = np.arange(30, dtype=np.float64)
    df = pd.DataFrame({"unique_id": "s", "ds": t.astype(np.int64), "y": np.sin(t / 2.0) + t / 10})
    model = tm.build(
        name,
        horizon=3,
        input_size=8,
        hidden_size=32,
        head_hidden_size=32,
        num_layers=1,
        dropout=0.0,
        max_steps=300,
        batch_size=64,
        learning_rate=1e-2,
        val_size=0,
        eval_every=50,
        progress=False,
    )
    model.fit(df)
    losses = [h["train_loss"] for h in model.history_]
    assert losses[-1] < 0.1 * losses[0]
    assert losses[-1] < 0.05


def test_polars_in_polars_out_and_integer_time() -> None:
    pdf = _frame(1, 0)
    pdf["ds"] = pdf.groupby("unique_id").cumcount().astype("int64") + 1
    model = tm.build("lstm", horizon=3, **TINY).fit(pl.from_pandas(pdf))
    fc = model.predict()
    assert isinstance(fc, pl.DataFrame)
    assert fc.columns == ["unique_id", "ds", "y"]
    last = pdf.groupby("unique_id")["ds"].max().to_dict()
    out = fc.to_pandas()
    assert (out.groupby("unique_id")["ds"].min() == pd.Series(last) + 1).all()
    # a pandas history gives a pandas frame back
    assert isinstance(model.predict(pdf), pd.DataFrame)


def test_known_future_covariates_enter_the_forecast() -> None:
    df = _frame(1, 1)  # column x0, here known in advance
    last = df.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": k,
                    "ds": pd.date_range(v + pd.Timedelta(hours=1), periods=4, freq="h"),
                    "x0": np.linspace(-1, 1, 4),
                }
            )
            for k, v in last.items()
        ],
        ignore_index=True,
    )
    for name in MODELS:
        model = tm.build(name, horizon=4, calendar=True, **TINY).fit(df, future_df=future)
        fc = model.predict()
        assert model.layout_.future_cols == ["x0"]
        assert model.layout_.calendar  # hourly stamps -> hour of day, day of week, ...
        shifted = future.assign(x0=future["x0"] + 5.0)
        assert not np.allclose(fc["y"], model.predict(future_df=shifted)["y"])
        with pytest.raises(InputError, match=r"lacks known-future covariates.*: no row\)"):
            model.predict(future_df=future.iloc[:-1])
        renamed = future.assign(unique_id=future["unique_id"].map(lambda u: f"s{u}"))
        with pytest.raises(InputError, match=r"names 3 series that `df` does not have"):
            model.predict(future_df=renamed)  # why no row matches is said, not only that
        twice = pd.concat([future.iloc[:1].assign(x0=-50.0), future], ignore_index=True)
        with pytest.raises(InputError, match=r"1 duplicated \(unique_id, ds\) rows"):
            model.predict(future_df=twice)  # which value to use would be a silent guess
        holed = future.assign(x0=future["x0"].where(future.index != 1))
        with pytest.raises(InputError, match=r"1 of the 12 forecast steps .*: NaN in \['x0'\]\)"):
            model.predict(future_df=holed)
        with pytest.raises(InputError, match="known-future covariates"):
            model.predict(df, future_df=None)


def test_future_df_stamps_are_read_as_df_stamps_are() -> None:
    # ISO strings whose offset changes at a DST switch: pandas' to_datetime raised "Mixed
    # timezones detected"; `to_panel` reads them, and so must the future's reading
    stamps = pd.date_range("2021-03-24", periods=100, freq="h", tz="Europe/Berlin")
    iso = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S%z")).str.replace(
        r"(\d\d)$", r":\1", regex=True
    )  # ..., 2021-03-28T01:00:00+01:00, 2021-03-28T03:00:00+02:00, ...
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"unique_id": "a", "ds": iso, "y": rng.random(100), "x0": rng.random(100)})
    df, future = frame.iloc[:97], frame.iloc[97:].drop(columns="y")
    assert future["ds"].str[-6:].tolist() == ["+01:00", "+02:00", "+02:00"]
    fc = tm.build("lstm", horizon=3, **TINY).fit(df, future_df=future).predict()
    assert list(pd.DatetimeIndex(fc["ds"])) == list(pd.to_datetime(future["ds"], utc=True))
    with pytest.raises(InputError, match=r"`future_df\['ds'\]` holds integers but `df`'s"):
        tm.build("lstm", horizon=3, **TINY).fit(df, future_df=future.assign(ds=[1, 2, 3]))


def test_future_df_ids_of_another_type_are_named() -> None:
    df = _frame(1, 1).assign(unique_id=lambda d: d["unique_id"].map({"a": "1", "b": "2", "c": "3"}))
    last = df.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": int(k), "ds": v + pd.to_timedelta(range(1, 5), "h"), "x0": 0.0}
            )
            for k, v in last.items()
        ],
        ignore_index=True,
    )
    model = tm.build("lstm", horizon=4, **TINY).fit(df, future_df=future.astype({"unique_id": str}))
    with pytest.raises(InputError, match=r"\(first: 1, int\)\. `df` has '1' \(str\): convert"):
        model.predict(future_df=future)  # 1 and '1' look alike in a message about missing rows


def test_a_boolean_flag_is_the_same_covariate_as_its_zeros_and_ones() -> None:
    # a holiday-style flag in df and in future_df, as bool and as float: the same forecasts
    df = _frame(1, 0)
    df["flag"] = df["ds"].dt.hour < 12
    last = df.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": pd.date_range(v, periods=5, freq="h")[1:]})
            for k, v in last.items()
        ],
        ignore_index=True,
    )
    future["flag"] = future["ds"].dt.hour < 12
    as_float = {"df": df.assign(flag=df["flag"].astype(float))}
    as_float["future"] = future.assign(flag=future["flag"].astype(float))
    for name in MODELS:
        with_bool = tm.build(name, horizon=4, **TINY).fit(df, future_df=future)
        with_float = tm.build(name, horizon=4, **TINY).fit(
            as_float["df"], future_df=as_float["future"]
        )
        assert with_bool.layout_.future_cols == ["flag"]
        pd.testing.assert_frame_equal(with_bool.predict(), with_float.predict())


def test_decimal_covariates_in_df_and_future_df_are_the_floats_they_hold() -> None:
    # polars Decimal (what SQL NUMERIC columns become) and pandas Decimal objects: the same
    # forecasts as float columns (a Decimal column was silently left out, as if it were text)
    df = _frame(1, 0)
    df["price"] = np.round(np.sin(np.arange(len(df))), 3)
    last = df.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": pd.date_range(v, periods=5, freq="h")[1:]})
            for k, v in last.items()
        ],
        ignore_index=True,
    )
    future["price"] = np.round(np.cos(np.arange(len(future))), 3)
    as_float = tm.build("lstm", horizon=4, **TINY).fit(df, future_df=future)
    expected = as_float.predict()

    def to_decimal(frame: pd.DataFrame) -> pl.DataFrame:
        return pl.from_pandas(frame).with_columns(pl.col("price").cast(pl.Decimal(10, 3)))

    polars = tm.build("lstm", horizon=4, **TINY).fit(to_decimal(df), future_df=to_decimal(future))
    assert polars.layout_.future_cols == ["price"]
    pd.testing.assert_frame_equal(polars.predict().to_pandas(), expected)
    objects = {
        name: frame.assign(price=[Decimal(str(v)) for v in frame["price"]])
        for name, frame in (("df", df), ("future", future))
    }
    pandas = tm.build("lstm", horizon=4, **TINY).fit(objects["df"], future_df=objects["future"])
    pd.testing.assert_frame_equal(pandas.predict(), expected)


def test_input_errors() -> None:
    df = _frame(1, 0)
    with pytest.raises(InputError, match="`horizon` must be a positive integer, got 0"):
        tm.LSTMForecaster(horizon=0).fit(df)
    with pytest.raises(InputError, match="`dropout`"):
        tm.LSTMForecaster(horizon=2, dropout=1.5).fit(df)
    with pytest.raises(InputError, match="`levels`"):
        tm.LSTMForecaster(horizon=2, levels=(80, 120)).fit(df)
    with pytest.raises(InputError, match="`loss`"):
        tm.LSTMForecaster(horizon=2, loss="mape").fit(df)
    with pytest.raises(InputError, match="`teacher_forcing`"):
        tm.Seq2SeqForecaster(horizon=2, teacher_forcing=2.0).fit(df)
    with pytest.raises(InputError, match="column 'value' is missing"):
        tm.LSTMForecaster(horizon=2, target_col="value").fit(df)
    int_time = df.assign(ds=df.groupby("unique_id").cumcount().astype("int64"))
    with pytest.raises(InputError, match="`calendar` features need datetime"):
        tm.LSTMForecaster(horizon=2, calendar=True).fit(int_time)
    with pytest.raises(InputError, match="unknown calendar features"):
        tm.LSTMForecaster(horizon=2, calendar=["hour"]).fit(df)
    with pytest.raises(InputError, match="no series is long enough"):
        tm.LSTMForecaster(horizon=80, input_size=10, **{"progress": False}).fit(df)
    with pytest.raises(InputError, match="not a saved tsforecast model"):
        tm.load("/nonexistent/model")


def test_load_refuses_another_format_version(tmp_path: Path) -> None:
    model = tm.build("lstm", horizon=2, **TINY).fit(_frame(1, 0))
    model.save(tmp_path / "model")
    config_file = tmp_path / "model" / "config.json"
    config = json.loads(config_file.read_text())
    assert config["format_version"] == FORMAT_VERSION
    config_file.write_text(json.dumps({**config, "format_version": FORMAT_VERSION - 1}))
    with pytest.raises(
        InputError, match=rf"format version {FORMAT_VERSION - 1}.*reads format {FORMAT_VERSION}"
    ):
        tm.load(tmp_path / "model")


def test_defaults_follow_the_data() -> None:
    model = tm.LSTMForecaster(horizon=4, max_steps=2, progress=False).fit(_frame(1, 0))
    params = model.params_
    assert params["season_length"] == 24  # hourly stamps: the daily cycle
    assert params["input_size"] >= 8  # two horizons at least, within the series' length
    assert params["hidden_size"] == 32  # little data -> a small network
    assert params["input_size"] % params["patch_size"] == 0 or params["patch_size"] == 1


def test_neural_fits_on_two_threads_at_once_give_the_forecasts_of_one_at_a_time() -> None:
    # a fit seeds torch's process-wide random state: two threads fitting at once (a Dask
    # worker with two threads) interleaved it, and the forecasts moved by up to 3 on series
    # of level 100-300; fits take turns, so the numbers are those of sequential fits
    from concurrent.futures import ThreadPoolExecutor

    df = make_long_frame({"a": 60, "b": 50}, seed=3)
    params = {**TINY, "dropout": 0.1, "max_steps": 8}

    def forecast(seed: int) -> np.ndarray:
        model = tm.build("lstm", horizon=4, seed=seed, **params).fit(df)
        return model.predict()["y"].to_numpy()

    alone = [forecast(seed) for seed in (0, 1, 0, 1)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(forecast, (0, 1, 0, 1)))
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["lstm", "theta", "naive"])
def test_a_history_of_another_grid_is_refused_and_one_row_needs_no_freq(name: str) -> None:
    # a daily model forecast an hourly or an integer-time history without a word (its season
    # and calendar features describe neither); a one-row history asked for `freq`
    t = np.arange(60)
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-01-01", periods=60, freq="D"),
            "y": 100 + 10 * np.sin(2 * np.pi * t / 7),
        }
    )
    params = {**TINY, "calendar": True} if tm.spec(name).kind == "neural" else {}
    model = tm.build(name, params, horizon=4).fit(df)
    hourly = df.assign(ds=pd.date_range("2021-01-01", periods=60, freq="h"))
    with pytest.raises(InputError, match=r"fitted on \(datetime \('D'\)"):
        model.predict(history_df=hourly)
    with pytest.raises(InputError, match="fitted on"):
        model.predict(history_df=df.assign(ds=t))
    one_row = model.predict(history_df=df.tail(1))
    assert one_row["ds"].tolist() == list(pd.date_range("2021-03-02", periods=4, freq="D"))


def _weekly_flag_frame() -> pd.DataFrame:
    """60 days of one weekly-seasonal series with a weekly flag `k`."""
    t = np.arange(60)
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-01-01", periods=60, freq="D"),
            "y": 100 + 10 * np.sin(2 * np.pi * t / 7),
            "k": (t % 7 == 0) * 1.0,
        }
    )


def test_a_future_df_the_fit_did_not_use_is_refused_at_predict() -> None:
    # fitted without `future_df`, `k` is a past covariate: a `future_df` of k = 1000 at
    # predict changed nothing, without a word
    df = _weekly_flag_frame().assign(j=np.arange(60.0))
    future = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-03-02", periods=4, freq="D"),
            "k": [1000.0, 0.0, 0.0, 0.0],
        }
    )
    plain = tm.build("lstm", horizon=4, **TINY).fit(df)
    with pytest.raises(InputError, match=r"holds \['k'\].*fitted with none"):
        plain.predict(future_df=future)
    known = tm.build("lstm", horizon=4, **TINY).fit(df, future_df=future)
    assert len(known.predict(future_df=future)) == 4
    with pytest.raises(InputError, match=r"holds \['j'\].*fitted with \['k'\]"):
        known.predict(future_df=future.assign(j=1.0))


@pytest.mark.parametrize("name", MODELS)
def test_a_history_with_covariates_the_fit_did_not_use_is_refused(name: str) -> None:
    # fitted on y alone, a new column `x` in the history changed nothing, without a word
    df = _frame(1, 0)
    model = tm.build(name, horizon=4, **TINY).fit(df)
    with pytest.raises(InputError, match=r"covariate columns \['x'\].*reads no covariates"):
        model.predict(df.assign(x=1.0))
    with pytest.raises(InputError, match=r"covariate columns \['x'\]"):
        model.predict_cutoffs(df.assign(x=1.0), [df["ds"].iloc[40]])
    assert len(model.predict(df)) == 4 * 3


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_a_point_loss_with_levels_is_refused_and_applies_under_conformal_intervals(
    loss: str,
) -> None:
    # with levels the network trains on the pinball loss: loss='mse' changed nothing
    import tsforecast as tsf

    df = _frame(1, 0)  # its shortest series, 45 values, calibrates 20 windows of horizon 3
    with pytest.raises(InputError, match=rf"loss='{loss}'.*pinball loss.*intervals='conformal'"):
        tm.build("lstm", horizon=3, levels=(80,), loss=loss, **TINY).fit(df)
    fc = tsf.forecast(df, 3, "lstm", levels=(80,), intervals="conformal", loss=loss, **TINY)
    point = tsf.forecast(df, 3, "lstm", loss=loss, **TINY)
    np.testing.assert_allclose(fc["y"], point["y"], rtol=1e-5)


def test_a_future_df_with_text_covariates_or_targets_is_refused() -> None:
    # text values of a known-future covariate were dropped: the forecast was the one without it
    df = _weekly_flag_frame()
    future = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-03-02", periods=4, freq="D"), "k": 1.0}
    )
    model = tm.build("lstm", horizon=4, **TINY)
    with pytest.raises(InputError, match=r"\['k'\] of `future_df` are not numbers.*'abc'"):
        model.fit(df, future_df=future.assign(k="abc"))
    with pytest.raises(InputError, match=r"`future_df` holds the target columns \['y'\]"):
        model.fit(df, future_df=future.assign(y=1.0))
    assert len(model.fit(df, future_df=future).predict(future_df=future)) == 4
    # the reverse, text in `df` and numbers in `future_df`: it was "missing from `df`"
    with pytest.raises(
        InputError, match=r"\['k'\] of `future_df` are not covariates of `df`.*text"
    ):
        model.fit(df.assign(k="abc"), future_df=future)


def test_a_future_df_with_time_zone_aware_stamps_for_naive_ones_is_refused() -> None:
    # it failed inside a pandas merge
    df = _weekly_flag_frame()
    future = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-03-02", periods=4, freq="D"), "k": 1.0}
    )
    aware = future.assign(ds=future["ds"].dt.tz_localize("UTC"))
    with pytest.raises(InputError, match=r"'ds' stamps are time-zone-aware \(UTC\).*naive"):
        tm.build("lstm", horizon=4, **TINY).fit(df, future_df=aware)


@pytest.mark.parametrize("name", MODELS)
def test_a_seeded_fit_gives_the_same_forecasts_whatever_the_row_order(name: str) -> None:
    # the panel keeps the series in first-appearance order; the training windows are laid out
    # in id order, so the batches a seed draws (and the validation subsample) hold the same
    # windows: before, shuffling the series moved one forecast by 0.32
    df = _frame(1, 1, seed=5)
    params = {**TINY, "max_steps": 10, "batch_size": 8, "val_size": 6}
    reordered = pd.concat(
        [df[df["unique_id"] == uid] for uid in ["c", "a", "b"]], ignore_index=True
    )
    shuffled_rows = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    forecasts = []
    for frame in (df, reordered, shuffled_rows):
        fc = tm.build(name, horizon=4, seed=0, levels=(80,), **params).fit(frame).predict()
        forecasts.append(fc.sort_values(["unique_id", "ds"]).reset_index(drop=True))
    for other in forecasts[1:]:
        pd.testing.assert_frame_equal(forecasts[0], other, check_exact=False, rtol=1e-5)
