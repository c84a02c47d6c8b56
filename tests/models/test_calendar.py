"""Calendar features (tsforecast/calendar.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsforecast.data.calendar import FEATURES, calendar_features, default_features
from tsforecast.errors import InputError


def test_values_lie_in_half_unit_range_and_follow_the_clock() -> None:
    times = pd.date_range("2024-01-01", periods=24 * 400, freq="h")
    features = calendar_features(times, list(FEATURES))
    assert features.shape == (len(times), len(FEATURES))
    assert features.dtype == np.float32
    assert features.min() >= -0.5 and features.max() <= 0.5
    hour = features[:, list(FEATURES).index("hour_of_day")]
    assert hour[0] == -0.5 and hour[23] == 0.5 and hour[24] == -0.5
    dow = features[:, list(FEATURES).index("day_of_week")]
    assert dow[0] == -0.5  # 2024-01-01 is a Monday


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", ["hour_of_day", "day_of_week", "day_of_month", "day_of_year"]),
        ("15min", ["minute_of_hour", "hour_of_day", "day_of_week", "day_of_month", "day_of_year"]),
        ("D", ["day_of_week", "day_of_month", "day_of_year"]),
        ("B", ["day_of_week", "day_of_month", "day_of_year"]),
        ("W-SUN", ["week_of_year", "month_of_year"]),
        ("MS", ["month_of_year"]),
        ("QS", ["month_of_year"]),
        ("YS", []),
    ],
)
def test_default_features_by_frequency(freq: str, expected: list[str]) -> None:
    assert default_features(freq) == expected


def test_unknown_feature_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown calendar features \['hour'\]"):
        calendar_features(pd.date_range("2024-01-01", periods=3, freq="h"), ["hour"])
    assert calendar_features(pd.date_range("2024-01-01", periods=3, freq="h"), []).shape == (3, 0)
