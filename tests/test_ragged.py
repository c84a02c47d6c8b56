"""Ragged storage: the panel holds observations only, and windows from it are the padded ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tsforecast as tsf
import tsforecast.models as tm
from tests.conftest import make_long_frame
from tests.test_windows import _naive_window, panels
from tsforecast.data.panel import Panel
from tsforecast.data.ragged import (
    SeriesTimes,
    padded_from_ragged,
    ragged_from_padded,
    take_spans,
)
from tsforecast.data.validation import to_panel
from tsforecast.errors import InputError
from tsforecast.windows import WindowSource, gather, training_window_index


@given(panels())
def test_ragged_and_padded_layouts_convert_both_ways_exactly(panel) -> None:
    values, lengths, _, _ = panel
    data, offsets = ragged_from_padded(values, lengths)
    assert data.shape == (int(lengths.sum()), values.shape[2])  # observations only
    assert offsets.tolist() == [0, *np.cumsum(lengths.tolist()).tolist()]
    for s, n in enumerate(lengths.tolist()):
        assert torch.equal(data[offsets[s] : offsets[s + 1]], values[s, :n])
    padded = padded_from_ragged(data, offsets, n_steps=values.shape[1], fill=-1e6)
    assert torch.equal(padded, values)  # the junk padding of `panels` is -1e6 too


@given(panels(), st.data())
def test_take_spans_cuts_every_series_to_its_own_range(panel, data) -> None:
    values, lengths, _, _ = panel
    ragged, offsets = ragged_from_padded(values, lengths)
    start = torch.tensor([data.draw(st.integers(0, int(n) - 1)) for n in lengths])
    counts = torch.tensor(
        [data.draw(st.integers(0, int(n) - int(a))) for n, a in zip(lengths, start, strict=True)]
    )
    cut, cut_offsets = take_spans(ragged, offsets, start, counts)
    for s in range(len(lengths)):
        a, n = int(start[s]), int(counts[s])
        assert torch.equal(cut[cut_offsets[s] : cut_offsets[s + 1]], values[s, a : a + n])


def test_the_panel_stores_observations_and_builds_the_padded_tensor_only_on_request() -> None:
    frame = make_long_frame({"a": 30, "b": 5, "c": 400})
    panel = to_panel(frame)
    assert panel.data.shape == (435, 1) and panel.data.dtype == torch.float32
    assert panel.offsets.tolist() == [0, 30, 35, 435]
    assert panel.lengths.tolist() == [30, 5, 400]
    assert "values" not in vars(panel)  # not built by validation
    for s, name in enumerate(["a", "b", "c"]):
        rows = frame[frame.unique_id == name].y.to_numpy()
        np.testing.assert_array_equal(panel.series_values(s)[:, 0], rows)
    assert panel.values.shape == (3, 400, 1)
    assert torch.all(panel.values[1, 5:] == 0)


def test_a_statistical_forecast_never_builds_the_padded_tensor(monkeypatch) -> None:
    def refuse(self):  # the padded property, replaced: reading it fails the test
        raise AssertionError("the padded [S, T_max, C] tensor was built")

    monkeypatch.setattr(Panel, "values", property(refuse))
    frame = make_long_frame({"a": 30, "b": 50, "c": 400})
    for model in ("seasonal_naive", "theta"):
        fc = tsf.forecast(frame, horizon=4, model=model, season_length=4, levels=(80,))
        assert len(fc) == 12 and np.isfinite(fc["y"]).all()


@pytest.mark.parametrize("name", ["lstm", "seq2seq"])
def test_a_neural_fit_predict_and_backtest_never_build_the_padded_tensor(monkeypatch, name) -> None:
    def refuse(self):  # the padded property, replaced: reading it fails the test
        raise AssertionError("the padded [S, T_max, C] tensor was built")

    monkeypatch.setattr(Panel, "values", property(refuse))
    # x0 is known in advance (in future_df), x1 a past covariate; calendar features on
    frame = make_long_frame({"a": 40, "b": 25, "c": 90}, n_covariates=2)
    horizon = 3
    last = frame.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": k,
                    "ds": pd.date_range(v + pd.Timedelta(hours=1), periods=horizon, freq="h"),
                    "x0": np.linspace(-1, 1, horizon),
                }
            )
            for k, v in last.items()
        ],
        ignore_index=True,
    )
    model = tm.build(
        name,
        horizon=horizon,
        calendar=True,
        input_size=8,
        hidden_size=4,
        max_steps=3,
        batch_size=8,
        progress=False,
    ).fit(frame, future_df=future)
    assert model.layout_.future_cols == ["x0"] and model.layout_.past_cols == ["x1"]
    assert len(model.predict()) == 3 * horizon
    assert len(model.predict(frame, future_df=future)) == 3 * horizon
    cutoffs = sorted(frame["ds"].unique())[12:24:4]  # inside every series
    backtest = model.predict_cutoffs(frame, cutoffs, future_df=future)
    assert len(backtest) == 3 * len(cutoffs) * horizon
    assert np.isfinite(backtest["y"]).all()


def test_select_and_steps_keep_ids_times_and_exact_values_together() -> None:
    frame = make_long_frame({"a": 10, "b": 6, "c": 8})
    panel = to_panel(frame)
    picked = panel.select([2, 0])
    assert picked.ids == ["c", "a"] and picked.lengths.tolist() == [8, 10]
    np.testing.assert_array_equal(picked.series_values(0), panel.series_values(2))
    assert picked.times[0].equals(panel.times[2])
    cut = panel.steps(np.array([2, 0, 3]), np.array([5, 0, 7]))
    assert cut.lengths.tolist() == [4, 1, 5]
    np.testing.assert_array_equal(cut.series_values(0), panel.series_values(0)[2:6])
    assert cut.times[2].equals(panel.times[2][3:8])
    pd.testing.assert_frame_equal(
        panel.select([1]).to_pandas(),
        panel.to_pandas().query("unique_id == 'b'").reset_index(drop=True),
    )


def test_series_times_is_a_sequence_of_per_series_indexes() -> None:
    flat = pd.Index(np.arange(100, 112))
    times = SeriesTimes(flat, np.array([0, 5, 5, 12]))
    assert len(times) == 3
    assert list(times[0]) == [100, 101, 102, 103, 104]
    assert len(times[1]) == 0 and list(times[-1]) == list(range(105, 112))
    assert [len(t) for t in times] == [5, 0, 7]
    assert list(times.last()[[0, 2]]) == [104, 111]
    assert list(times.at(np.array([2, 0]), np.array([1, 3]))) == [106, 103]
    with pytest.raises(IndexError):
        times[3]


@given(panels(), st.data())
def test_windows_from_ragged_storage_equal_the_padded_ones_and_the_naive_loop(panel, data) -> None:
    values, lengths, input_size, horizon = panel
    n_targets = data.draw(st.integers(1, values.shape[2]))
    ragged, offsets = ragged_from_padded(values, lengths)
    source = WindowSource.from_ragged(ragged, offsets, input_size, horizon, n_targets)
    series_idx, cutoff_idx = training_window_index(lengths, 1, 1, min_past=1)
    got = source.gather(series_idx, cutoff_idx)
    want = gather(values, lengths, series_idx, cutoff_idx, input_size, horizon, n_targets)
    assert torch.equal(got.past, want.past) and torch.equal(got.past_mask, want.past_mask)
    torch.testing.assert_close(got.future, want.future, equal_nan=True, rtol=0, atol=0)
    for b in range(0, len(series_idx), 7):
        s, cutoff = int(series_idx[b]), int(cutoff_idx[b])
        past, _, future = _naive_window(values, lengths, s, cutoff, input_size, horizon, n_targets)
        assert torch.equal(got.past[b], past)
        torch.testing.assert_close(got.future[b], future, equal_nan=True, rtol=0, atol=0)


@given(panels(), st.data())
def test_ragged_windows_never_see_values_after_their_cutoff(panel, data) -> None:
    values, lengths, input_size, horizon = panel
    s = data.draw(st.integers(0, len(lengths) - 1))
    cutoff = data.draw(st.integers(0, int(lengths[s]) - 1))
    changed = values.clone()
    changed[s, cutoff + 1 :] = 12345.0  # every value after the cutoff
    windows = []
    for v in (values, changed):
        ragged, offsets = ragged_from_padded(v, lengths)
        source = WindowSource.from_ragged(ragged, offsets, input_size, horizon, 1)
        windows.append(source.gather(torch.tensor([s]), torch.tensor([cutoff])))
    assert torch.equal(windows[0].past, windows[1].past)


def test_the_window_source_follows_the_observations_not_the_longest_series() -> None:
    lengths = torch.tensor([2000] + [20] * 99)
    data = torch.ones(int(lengths.sum()), 1)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    source = WindowSource.from_ragged(data, offsets, input_size=8, horizon=4, n_targets=1)
    n_obs, n_series = int(lengths.sum()), len(lengths)
    assert source.n_bytes == (n_obs + n_series * (8 - 1 + 4)) * 4
    assert source.n_bytes < n_series * 2000 * 4 / 20  # padded: S x T_max cells
    assert source.index_dtype == torch.int32


def test_a_cutoff_outside_its_series_is_refused() -> None:
    values = torch.arange(10.0).reshape(2, 5, 1)
    source = WindowSource(values, torch.tensor([5, 3]), input_size=2, horizon=1, n_targets=1)
    for cutoff in (3, -1):  # series 1 has 3 steps: 3 would read the next series' segment
        with pytest.raises(InputError, match="cutoff outside their series"):
            source.gather(torch.tensor([1]), torch.tensor([cutoff]))
        with pytest.raises(InputError, match="cutoff outside their series"):
            source.plan(torch.tensor([0, 1]), torch.tensor([0, cutoff]))


def test_rows_in_any_order_give_the_panel_of_the_sorted_rows() -> None:
    frame = make_long_frame({"a": 12, "b": 7, "c": 9})
    shuffled = frame.sample(frac=1.0, random_state=0)
    expected, panel = to_panel(frame), to_panel(shuffled)
    order = [panel.ids.index(i) for i in expected.ids]
    for s, t in enumerate(order):
        np.testing.assert_array_equal(panel.series_values(t), expected.series_values(s))
        assert panel.times[t].equals(expected.times[s])


def test_a_series_whose_rows_come_back_later_is_one_series() -> None:
    frame = make_long_frame({"a": 6, "b": 6})
    split = pd.concat([frame.iloc[:3], frame.iloc[6:], frame.iloc[3:6]], ignore_index=True)
    panel = to_panel(split)
    assert panel.ids == ["a", "b"] and panel.lengths.tolist() == [6, 6]
    np.testing.assert_array_equal(panel.series_values(0)[:, 0], frame.y.iloc[:6].to_numpy())


def test_cutoffs_that_no_series_holds_are_refused_with_what_was_given_and_the_range() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a"] * 10,
            "ds": pd.date_range("2020-01-01", periods=10, freq="D"),
            "y": np.arange(10.0),
        }
    )
    model = tm.NaiveForecaster(horizon=2).fit(frame)
    with pytest.raises(
        InputError,
        match=r"got \['2021-01-01'\]\); its time stamps run from 2020-01-01 00:00:00 to "
        r"2020-01-10 00:00:00",
    ):
        model.predict_cutoffs(frame, ["2021-01-01"])
    # a frame of exact pairs: an unknown id is named (the old message blamed the time stamp,
    # which lies inside the range), and so is a pair its series does not hold
    pairs = pd.DataFrame({"unique_id": ["zz"], "cutoff": [pd.Timestamp("2020-01-05")]})
    with pytest.raises(InputError, match=r"the ids \['zz'\] of the `cutoffs` frame are not"):
        model.predict_cutoffs(frame, pairs)
    pairs = pd.DataFrame(
        {"unique_id": ["a", "a"], "cutoff": pd.to_datetime(["2020-01-05", "2020-03-01"])}
    )
    with pytest.raises(InputError, match=r"1 \(id, cutoff\) pairs .*\('a', Timestamp\('2020-03"):
        model.predict_cutoffs(frame, pairs)
