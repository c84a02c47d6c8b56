"""Windows: equal to a naive slicing loop, counted right, never mixing series or peeking ahead."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conftest import make_long_frame
from tsforecast.data.validation import to_panel
from tsforecast.errors import InputError
from tsforecast.windows import WindowSource, gather, training_window_index


@st.composite
def panels(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """A random padded panel [S, T, C] (padding filled with junk to catch leaks) and L, H."""
    n_series = draw(st.integers(1, 5))
    lengths = draw(st.lists(st.integers(1, 30), min_size=n_series, max_size=n_series))
    n_channels = draw(st.integers(1, 3))
    input_size = draw(st.integers(1, 12))
    horizon = draw(st.integers(1, 6))
    t_max = max(lengths)
    # every value encodes (series, time, channel), so a misplaced value is recognisable.
    s_idx = torch.arange(n_series)[:, None, None]
    t_idx = torch.arange(t_max)[None, :, None]
    c_idx = torch.arange(n_channels)[None, None, :]
    values = (s_idx * 10_000 + t_idx * 10 + c_idx + 1).float()
    lengths_t = torch.tensor(lengths)
    padding = t_idx >= lengths_t[:, None, None]
    values = torch.where(padding.expand_as(values), torch.full_like(values, -1e6), values)
    return values, lengths_t, input_size, horizon


def _naive_window(values, lengths, s, cutoff, input_size, horizon, n_targets):
    """The specification: plain slicing, padded on the left / NaN on the right."""
    n_channels = values.shape[2]
    past = torch.zeros(input_size, n_channels)
    mask = torch.zeros(input_size, dtype=torch.bool)
    for k in range(input_size):
        t = cutoff - input_size + 1 + k
        if t >= 0:
            past[k] = values[s, t]
            mask[k] = True
    future = torch.full((horizon, n_targets), float("nan"))
    for h in range(horizon):
        t = cutoff + 1 + h
        if t < lengths[s]:
            future[h] = values[s, t, :n_targets]
    return past, mask, future


@given(panels(), st.integers(1, 4))
def test_every_window_equals_a_naive_slicing_loop(panel, stride) -> None:
    values, lengths, input_size, horizon = panel
    n_targets = 1
    series_idx, cutoff_idx = training_window_index(
        lengths, input_size, horizon, stride=stride, min_past=1
    )
    windows = gather(values, lengths, series_idx, cutoff_idx, input_size, horizon, n_targets)
    for b in range(len(windows)):
        s, cutoff = int(series_idx[b]), int(cutoff_idx[b])
        past, mask, future = _naive_window(
            values, lengths, s, cutoff, input_size, horizon, n_targets
        )
        assert torch.equal(windows.past[b], past)
        assert torch.equal(windows.past_mask[b], mask)
        assert torch.equal(windows.future[b], future)  # a training future is always complete


@given(panels(), st.data())
def test_window_source_gathers_exactly_what_gather_does(panel, data) -> None:
    values, lengths, input_size, horizon = panel
    n_targets = data.draw(st.integers(1, values.shape[2]))
    n = data.draw(st.integers(1, 20))
    series_idx = torch.tensor(
        data.draw(st.lists(st.integers(0, len(lengths) - 1), min_size=n, max_size=n))
    )
    cutoff_idx = torch.tensor([data.draw(st.integers(0, int(lengths[s]) - 1)) for s in series_idx])
    expected = gather(values, lengths, series_idx, cutoff_idx, input_size, horizon, n_targets)
    source = WindowSource(values, lengths, input_size, horizon, n_targets)
    planned = source.plan(series_idx, cutoff_idx)
    pick = torch.tensor(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)))
    for got, want in (
        (source.gather(series_idx, cutoff_idx), expected),
        (source.take(planned, pick), _select(expected, pick)),
    ):
        assert torch.equal(got.past, want.past)
        assert torch.equal(got.past_mask, want.past_mask)
        assert torch.equal(got.series_idx, want.series_idx)
        assert torch.equal(got.cutoff_idx, want.cutoff_idx)
        torch.testing.assert_close(got.future, want.future, equal_nan=True, rtol=0, atol=0)


def _select(windows, pick):
    return type(windows)(
        windows.past[pick],
        windows.past_mask[pick],
        windows.future[pick],
        windows.series_idx[pick],
        windows.cutoff_idx[pick],
    )


@given(panels(), st.integers(1, 4))
def test_window_counts(panel, stride) -> None:
    _values, lengths, input_size, horizon = panel
    series_idx, cutoff_idx = training_window_index(lengths, input_size, horizon, stride=stride)
    for s, n in enumerate(lengths.tolist()):
        n_full = n - input_size - horizon + 1
        expected = 0 if n_full <= 0 else (n_full - 1) // stride + 1
        assert int((series_idx == s).sum()) == expected
    # the most recent window of each series is always among them
    for s, n in enumerate(lengths.tolist()):
        if n >= input_size + horizon:
            assert int(cutoff_idx[series_idx == s].max()) == n - horizon - 1


@given(panels())
def test_no_window_mixes_two_series_or_reads_padding(panel) -> None:
    values, lengths, input_size, horizon = panel
    series_idx, cutoff_idx = training_window_index(lengths, input_size, horizon, min_past=1)
    windows = gather(values, lengths, series_idx, cutoff_idx, input_size, horizon, 1)
    observed = windows.past[windows.past_mask]  # -> (n_observed, C)
    series_of_past = series_idx[:, None].expand_as(windows.past_mask)[windows.past_mask]
    assert torch.all(observed > 0)  # padding (-1e6) never reaches a window
    assert torch.equal((observed[:, 0] // 10_000).long(), series_of_past)
    assert torch.equal(
        (windows.future[..., 0] // 10_000).long(), series_idx[:, None].expand(-1, horizon)
    )


@given(panels(), st.data())
def test_no_look_ahead_changing_the_future_leaves_the_past_unchanged(panel, data) -> None:
    values, lengths, input_size, horizon = panel
    s = data.draw(st.integers(0, len(lengths) - 1))
    cutoff = data.draw(st.integers(0, int(lengths[s]) - 1))
    cutoffs = lengths - 1
    cutoffs[s] = cutoff
    changed = values.clone()
    changed[s, cutoff + 1 :] = torch.randn_like(changed[s, cutoff + 1 :]) * 1e3
    series_idx = torch.arange(len(lengths))
    before = gather(values, lengths, series_idx, cutoffs, input_size, horizon, 1)
    after = gather(changed, lengths, series_idx, cutoffs, input_size, horizon, 1)
    assert torch.equal(before.past, after.past)
    assert torch.equal(before.past_mask, after.past_mask)


def test_training_windows_respect_the_end_of_the_training_range() -> None:
    lengths = torch.tensor([50, 50])
    end_idx = torch.tensor([29, 39])
    series_idx, cutoff_idx = training_window_index(lengths, 10, 5, end_idx=end_idx)
    last_future = cutoff_idx + 5
    assert torch.all(last_future <= end_idx[series_idx])
    assert int(last_future[series_idx == 0].max()) == 29


def test_short_series_are_left_padded_with_a_mask() -> None:
    panel = to_panel(make_long_frame({"short": 3, "long": 20}))
    source = WindowSource(panel.values, panel.lengths, input_size=6, horizon=2, n_targets=1)
    windows = source.gather(torch.arange(panel.n_series), panel.lengths - 1)  # each series' end
    short = panel.ids.index("short")
    assert windows.past_mask[short].tolist() == [False, False, False, True, True, True]
    assert torch.all(windows.past[short, :3] == 0)
    assert torch.isnan(windows.future).all()  # nothing after the last observation


def test_windows_at_several_cutoffs_per_series() -> None:
    panel = to_panel(make_long_frame({"a": 30, "b": 30}, n_covariates=1))
    source = WindowSource(panel.values, panel.lengths, input_size=5, horizon=3, n_targets=1)
    windows = source.gather(torch.tensor([0, 0, 1, 1]), torch.tensor([9, 19, 14, 24]))
    assert windows.past.shape == (4, 5, 2)
    assert windows.future.shape == (4, 3, 1)
    assert windows.cutoff_idx.tolist() == [9, 19, 14, 24]
    np.testing.assert_array_equal(
        windows.future[1, :, 0].numpy(), panel.values[0, 20:23, 0].numpy()
    )
    np.testing.assert_array_equal(windows.past[2].numpy(), panel.values[1, 10:15].numpy())


@given(panels(), st.data())
def test_known_channels_are_read_up_to_horizon_steps_past_the_end(panel, data) -> None:
    values, lengths, input_size, horizon = panel
    n_channels = values.shape[2]
    assume(n_channels >= 2)  # the target first, then the known channels
    n_known = data.draw(st.integers(1, n_channels - 1))
    # known-future values after each series' end: room for `horizon` more steps
    room = values.new_full((values.shape[0], horizon, n_channels), 7.0)
    values = torch.cat([values, room], dim=1)
    source = WindowSource(values, lengths, input_size, horizon, 1, known_channels=n_known)
    series_idx = torch.arange(len(lengths)).repeat_interleave(2)
    cutoff_idx = torch.stack([lengths - 1, (lengths - 1) // 2], dim=1).reshape(-1)
    windows = source.gather(series_idx, cutoff_idx)
    assert windows.future_known is not None
    assert windows.future_known.shape == (len(series_idx), horizon, n_known)
    for b, (s, cutoff) in enumerate(zip(series_idx.tolist(), cutoff_idx.tolist(), strict=True)):
        _past, _mask, future = _naive_window(values, lengths, s, cutoff, input_size, horizon, 1)
        torch.testing.assert_close(windows.future[b], future, equal_nan=True, rtol=0, atol=0)
        for h in range(horizon):
            t = cutoff + 1 + h
            want = values[s, t, n_channels - n_known :] if t < lengths[s] + horizon else None
            got = windows.future_known[b, h]
            assert torch.isnan(got).all() if want is None else torch.equal(got, want)


@given(panels(), st.integers(1, 4))
def test_training_windows_are_int32_and_ordered_by_series_then_time(panel, stride) -> None:
    _values, lengths, input_size, horizon = panel
    series_idx, cutoff_idx = training_window_index(lengths, input_size, horizon, stride=stride)
    assert series_idx.dtype == cutoff_idx.dtype == torch.int32
    key = series_idx.long() * 1_000 + cutoff_idx.long()
    assert torch.equal(key, torch.unique(key))  # strictly increasing


def test_invalid_window_sizes_are_refused() -> None:
    with pytest.raises(InputError, match=r"`input_size` must be a positive integer, got 0"):
        training_window_index(torch.tensor([10]), 0, 2)
    with pytest.raises(InputError, match="`known_channels` must be between 0 and the 1 channels"):
        WindowSource(torch.zeros(1, 5, 2), torch.tensor([5]), 2, 1, 1, known_channels=2)
