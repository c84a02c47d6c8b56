"""Scalers: right statistics, exact inverse, fitted on the training past only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tsforecast.data.ragged import ragged_from_padded
from tsforecast.errors import InputError
from tsforecast.scaling import fit_scaler, fit_scaler_ragged


def _panel(lengths: list[int], n_channels: int = 2, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(len(lengths), max(lengths), n_channels, generator=generator) * 5 + 3
    lengths_t = torch.tensor(lengths)
    pad = torch.arange(max(lengths))[None, :, None] >= lengths_t[:, None, None]
    return values.masked_fill(pad, 0.0), lengths_t


def test_standard_scaler_matches_numpy_on_each_series() -> None:
    values, lengths = _panel([20, 12])
    scaler = fit_scaler(values, lengths, "standard")
    for s, n in enumerate(lengths.tolist()):
        data = values[s, :n].numpy()
        np.testing.assert_allclose(scaler.loc[s, 0].numpy(), data.mean(0), rtol=1e-5)
        np.testing.assert_allclose(scaler.scale[s, 0].numpy(), data.std(0), rtol=1e-4)


def test_robust_scaler_uses_median_and_iqr() -> None:
    values, lengths = _panel([21, 9])
    scaler = fit_scaler(values, lengths, "robust")
    for s, n in enumerate(lengths.tolist()):
        data = values[s, :n].numpy()
        q25, q50, q75 = np.quantile(data, [0.25, 0.5, 0.75], axis=0)
        np.testing.assert_allclose(scaler.loc[s, 0].numpy(), q50, rtol=1e-5)
        np.testing.assert_allclose(scaler.scale[s, 0].numpy(), q75 - q25, rtol=1e-4)


@pytest.mark.parametrize("method", ["standard", "robust", "none"])
def test_inverse_is_exact(method) -> None:
    values, lengths = _panel([15, 30, 7])
    scaler = fit_scaler(values, lengths, method)
    restored = scaler.inverse_transform(scaler.transform(values))
    torch.testing.assert_close(restored, values, rtol=1e-5, atol=1e-4)
    batch = torch.tensor([2, 0])
    x = values[batch, :5, :1]
    torch.testing.assert_close(
        scaler.inverse_transform(scaler.transform(x, batch), batch), x, rtol=1e-5, atol=1e-4
    )


def test_constant_series_keeps_scale_one() -> None:
    values = torch.full((1, 10, 1), 4.0)
    scaler = fit_scaler(values, torch.tensor([10]), "standard")
    assert scaler.scale.item() == 1.0
    assert scaler.transform(values).abs().max().item() == 0.0


@given(st.lists(st.integers(3, 25), min_size=1, max_size=4), st.data())
def test_no_look_ahead_statistics_ignore_everything_after_the_cutoff(lengths, data) -> None:
    values, lengths_t = _panel(lengths, seed=data.draw(st.integers(0, 100)))
    end_idx = torch.tensor([data.draw(st.integers(0, n - 1)) for n in lengths])
    changed = values.clone()
    for s, end in enumerate(end_idx.tolist()):
        changed[s, end + 1 :] = torch.randn_like(changed[s, end + 1 :]) * 1e4
    for method in ("standard", "robust"):
        before = fit_scaler(values, lengths_t, method, end_idx=end_idx)
        after = fit_scaler(changed, lengths_t, method, end_idx=end_idx)
        assert torch.equal(before.loc, after.loc)
        assert torch.equal(before.scale, after.scale)


def test_state_dict_round_trip() -> None:
    values, lengths = _panel([10, 12])
    scaler = fit_scaler(values, lengths, "robust")
    restored = type(scaler).from_state_dict("robust", scaler.state_dict())
    assert torch.equal(restored.loc, scaler.loc)


def test_unknown_method_is_refused() -> None:
    values, lengths = _panel([10])
    with pytest.raises(
        InputError, match=r"`scaler` must be one of \['standard', 'robust', 'none'\]"
    ):
        fit_scaler(values, lengths, "minmax")  # type: ignore[arg-type]


def test_robust_scaler_handles_panels_over_torchs_quantile_limit(monkeypatch) -> None:
    import tsforecast.scaling as scaling

    monkeypatch.setattr(scaling, "_QUANTILE_MAX_ELEMENTS", 40)  # forces chunks of 2 series
    values, lengths = _panel([21, 9, 15, 30, 12])
    chunked = fit_scaler(values, lengths, "robust")
    monkeypatch.setattr(scaling, "_QUANTILE_MAX_ELEMENTS", 2**24)
    whole = fit_scaler(values, lengths, "robust")
    assert torch.equal(chunked.loc, whole.loc) and torch.equal(chunked.scale, whole.scale)


@given(st.lists(st.integers(1, 30), min_size=1, max_size=6), st.integers(1, 200), st.data())
def test_the_ragged_scaler_equals_the_padded_one_whatever_the_chunk_size(
    lengths, chunk_cells, data
) -> None:
    import tsforecast.scaling as scaling

    values, lengths_t = _panel(lengths, seed=data.draw(st.integers(0, 100)))
    ragged, offsets = ragged_from_padded(values, lengths_t)
    end_idx = torch.tensor([data.draw(st.integers(0, n - 1)) for n in lengths])
    for method in ("standard", "robust", "none"):
        for end in (None, end_idx):
            want = fit_scaler(values, lengths_t, method, end_idx=end)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(scaling, "_RAGGED_CHUNK_CELLS", chunk_cells)  # chunks of few series
                got = fit_scaler_ragged(ragged, offsets, method, end_idx=end)
            assert torch.equal(got.loc, want.loc) and torch.equal(got.scale, want.scale)


@given(st.lists(st.integers(3, 25), min_size=1, max_size=4), st.data())
def test_the_ragged_scaler_ignores_everything_after_the_cutoff(lengths, data) -> None:
    values, lengths_t = _panel(lengths, seed=data.draw(st.integers(0, 100)))
    end_idx = torch.tensor([data.draw(st.integers(0, n - 1)) for n in lengths])
    ragged, offsets = ragged_from_padded(values, lengths_t)
    changed = ragged.clone()
    for s, end in enumerate(end_idx.tolist()):
        after = slice(int(offsets[s]) + end + 1, int(offsets[s + 1]))
        changed[after] = torch.randn_like(changed[after]) * 1e4
    for method in ("standard", "robust"):
        before = fit_scaler_ragged(ragged, offsets, method, end_idx=end_idx)
        later = fit_scaler_ragged(changed, offsets, method, end_idx=end_idx)
        assert torch.equal(before.loc, later.loc) and torch.equal(before.scale, later.scale)


def test_the_ragged_scaler_refuses_an_unknown_method() -> None:
    values, lengths = _panel([10])
    ragged, offsets = ragged_from_padded(values, lengths)
    with pytest.raises(InputError, match=r"`scaler` must be one of"):
        fit_scaler_ragged(ragged, offsets, "minmax")  # type: ignore[arg-type]


@pytest.mark.parametrize("factor", [1e-20, 1e-9, 1e20])
@pytest.mark.parametrize("method", ["standard", "robust"])
def test_statistics_are_scale_equivariant_for_tiny_and_huge_series(factor, method) -> None:
    # a series of 1e-9s has a spread of its own (not "constant"), and the squares of 1e20s
    # must not overflow float32 into a scale of inf
    values, lengths = _panel([20, 12], n_channels=1)
    unit = fit_scaler(values, lengths, method)
    scaled = fit_scaler(values * factor, lengths, method)
    assert torch.isfinite(scaled.scale).all() and (scaled.scale > 0).all()
    torch.testing.assert_close(scaled.loc / factor, unit.loc, rtol=1e-5, atol=0.0)
    torch.testing.assert_close(scaled.scale / factor, unit.scale, rtol=1e-5, atol=0.0)


def test_a_constant_series_below_one_is_scaled_by_its_own_level() -> None:
    # scale 1 would turn a network's output of 1e-4 into a forecast 1e5 times the level
    values = torch.full((1, 10, 1), 3e-9)
    scaler = fit_scaler(values, torch.tensor([10]), "standard")
    assert scaler.scale.item() == pytest.approx(3e-9, rel=1e-6)
    assert scaler.transform(values).abs().max().item() == 0.0
    zeros = fit_scaler(torch.zeros((1, 10, 1)), torch.tensor([10]), "robust")
    assert zeros.scale.item() == 1.0
