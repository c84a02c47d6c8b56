"""The shipped data sets load with their documented shapes and standard splits."""

from __future__ import annotations

import numpy as np
import pytest

from tsforecast import datasets
from tsforecast.data.validation import to_panel
from tsforecast.errors import InputError


def test_names_lists_every_shipped_data_set() -> None:
    assert set(datasets.names()) == {
        "air_passengers",
        "m4_hourly",
        "m4_weekly",
        "etth1",
        "etth2",
        "gunpoint",
        "italy_power_demand",
        "basic_motions",
        "japanese_vowels",
    }


def test_m4_weekly_has_359_series_and_13_test_steps_each_scored_with_season_1() -> None:
    data = datasets.load("m4_weekly")
    assert isinstance(data, datasets.ForecastingDataset)
    lengths = data.train.groupby("unique_id").size()
    assert len(lengths) == 359 and lengths.min() == 80 and lengths.max() == 2597
    assert (data.test.groupby("unique_id").size() == 13).all()
    first_test = data.test.groupby("unique_id").ds.min()
    assert (first_test == data.train.groupby("unique_id").ds.max() + 1).all()
    assert (data.season_length, data.horizon, data.freq) == (1, 13, 1)
    assert list(data.train.unique_id.unique()[:3]) == ["W1", "W2", "W3"]


def test_m4_hourly_has_414_series_and_48_test_steps_each() -> None:
    data = datasets.load("m4_hourly")
    assert isinstance(data, datasets.ForecastingDataset)
    assert data.train.unique_id.nunique() == 414
    lengths = data.train.groupby("unique_id").size()
    assert lengths.min() == 700 and lengths.max() == 960
    assert lengths.mean() == pytest.approx(853.9, abs=0.05)
    assert (data.test.groupby("unique_id").size() == 48).all()
    # the test continues each training series without a gap
    first_test = data.test.groupby("unique_id").ds.min()
    assert (first_test == data.train.groupby("unique_id").ds.max() + 1).all()
    assert (data.season_length, data.horizon, data.freq) == (24, 48, 1)
    panel = to_panel(data.train)
    assert panel.values.shape == (414, 960, 1)


def test_ett_split_follows_the_informer_protocol() -> None:
    data = datasets.load("ETTh1")
    assert isinstance(data, datasets.ForecastingDataset)
    assert data.val is not None
    assert (len(data.train), len(data.val), len(data.test)) == (8640, 2880, 2880)
    assert data.target_cols == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert str(data.train.ds.iloc[0]) == "2016-07-01 00:00:00"
    assert to_panel(data.df, target_col=data.target_cols).freq == "h"


def test_air_passengers_holds_out_the_last_year() -> None:
    data = datasets.load("AirPassengers")
    assert isinstance(data, datasets.ForecastingDataset)
    assert len(data.train) == 132 and len(data.test) == 12
    assert data.train.y.iloc[0] == 112.0
    assert to_panel(data.train).freq == "MS"


@pytest.mark.parametrize(
    ("name", "n_train", "n_test", "n_channels", "n_classes", "equal"),
    [
        ("gunpoint", 50, 150, 1, 2, True),
        ("italy_power_demand", 67, 1029, 1, 2, True),
        ("basic_motions", 40, 40, 6, 4, True),
        ("japanese_vowels", 270, 370, 12, 9, False),
    ],
)
def test_classification_sets(name, n_train, n_test, n_channels, n_classes, equal) -> None:
    data = datasets.load(name)
    assert isinstance(data, datasets.ClassificationDataset)
    assert (len(data.X_train), len(data.X_test)) == (n_train, n_test)
    assert all(x.shape[1] == n_channels and x.dtype == np.float32 for x in data.X_train)
    assert len(data.classes) == n_classes
    assert set(data.y_train) <= set(data.classes)
    assert data.is_equal_length is equal


def test_japanese_vowels_lengths_vary_from_7_to_29() -> None:
    data = datasets.load("japanese_vowels")
    assert isinstance(data, datasets.ClassificationDataset)
    lengths = {len(x) for x in (*data.X_train, *data.X_test)}
    assert min(lengths) == 7 and max(lengths) == 29


def test_classification_as_a_long_frame() -> None:
    data = datasets.load("basic_motions")
    assert isinstance(data, datasets.ClassificationDataset)
    frame = data.to_frame("train")
    assert list(frame.columns) == ["unique_id", "ds", "c0", "c1", "c2", "c3", "c4", "c5", "label"]
    assert len(frame) == 40 * 100


def test_gunpoint_one_nn_euclidean_matches_the_published_error() -> None:
    data = datasets.load("gunpoint")
    assert isinstance(data, datasets.ClassificationDataset)
    train = np.stack([x[:, 0] for x in data.X_train])
    test = np.stack([x[:, 0] for x in data.X_test])
    distances = ((test[:, None, :] - train[None, :, :]) ** 2).sum(-1)
    predicted = data.y_train[distances.argmin(1)]
    assert (predicted != data.y_test).mean() == pytest.approx(0.0867, abs=1e-4)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown data set 'm5'; choose one of \["):
        datasets.load("m5")
