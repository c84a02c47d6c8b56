"""No look-ahead: nothing at or after a cutoff reaches the network, the scaler or the forecast.

Checked at three levels: the estimator (forecasts from a cutoff are unchanged when every value
after it changes), the networks (outputs for a window gathered from the full panel tensor do not
move when the tensor changes after the window's cutoff), and the split of training/validation
windows (all inside the training range, validation cut from its end).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tsforecast.models as tm
from tests.conftest import make_long_frame
from tsforecast.estimators.neural import split_windows
from tsforecast.nn.lstm import LSTMNet, LSTMNetConfig
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig
from tsforecast.windows import gather, training_window_index

MODELS = [n for n in tm.names() if n != "auto"]
TINY = {
    "input_size": 12,
    "hidden_size": 8,
    "head_hidden_size": 8,
    "num_layers": 2,
    "max_steps": 5,
    "batch_size": 16,
    "progress": False,
}


def _model(name: str, **shared: object) -> tm.NeuralForecaster | tm.StatisticalForecaster:
    params = TINY if tm.spec(name).kind == "neural" else {}
    return tm.build(name, params, **shared)  # type: ignore[return-value]


def _frame(name: str, seed: int) -> pd.DataFrame:
    """Three series, with a covariate for the models that use covariates."""
    uses_covariates = tm.spec(name).capabilities.past_covariates
    return make_long_frame(
        {"a": 70, "b": 64, "c": 80}, n_covariates=int(uses_covariates), seed=seed
    )


def _scramble_after(df: pd.DataFrame, cutoff: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Every value after `cutoff` replaced by something wild."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    after = out["ds"] > cutoff
    for col in [c for c in out.columns if c not in ("unique_id", "ds")]:
        out.loc[after, col] = rng.normal(1e3, 1e3, size=int(after.sum()))
    return out


@pytest.mark.parametrize("name", MODELS)
def test_forecasts_ignore_everything_after_training_end_and_cutoffs(name: str) -> None:
    df = _frame(name, seed=5)
    train_end = pd.Timestamp("2024-01-03 08:00")  # 56 steps into each series
    cutoffs = [train_end, train_end + pd.Timedelta(hours=4), train_end + pd.Timedelta(hours=7)]

    def run(frame: pd.DataFrame) -> list[pd.DataFrame]:
        model = _model(name, horizon=4, seed=1, levels=(80,))
        model.fit(frame[frame["ds"] <= train_end])
        return [model.predict()] + [model.predict(frame[frame["ds"] <= c]) for c in cutoffs]

    base = run(df)
    # values after the training end change: the model and every forecast are the same
    changed = run(_scramble_after(df, cutoffs[-1], seed=1))
    for a, b in zip(base, changed, strict=True):
        pd.testing.assert_frame_equal(a, b)
    # for each cutoff, values after it change: that cutoff's forecast is the same
    for k, cutoff in enumerate(cutoffs):
        again = run(_scramble_after(df, cutoff, seed=2 + k))
        pd.testing.assert_frame_equal(base[1 + k], again[1 + k])


@pytest.mark.parametrize("name", MODELS)
def test_predict_cutoffs_matches_predict_and_ignores_the_future(name: str) -> None:
    df = _frame(name, seed=6)
    train_end = pd.Timestamp("2024-01-03 08:00")
    model = _model(name, horizon=4, seed=2, levels=(80,))
    model.fit(df[df["ds"] <= train_end])
    cutoffs = [train_end + pd.Timedelta(hours=k) for k in (0, 3, 6)]
    batched = model.predict_cutoffs(df, cutoffs)
    assert list(batched.columns[:3]) == ["unique_id", "ds", "cutoff"]
    for cutoff in cutoffs:
        one = batched[batched["cutoff"] == cutoff].drop(columns="cutoff").reset_index(drop=True)
        alone = model.predict(df[df["ds"] <= cutoff])
        pd.testing.assert_frame_equal(one, alone, rtol=1e-5, atol=1e-5)
        # every value after this cutoff changes: its forecasts do not
        moved = model.predict_cutoffs(_scramble_after(df, cutoff, seed=9), cutoffs)
        rows = batched["cutoff"] == cutoff
        pd.testing.assert_frame_equal(
            batched[rows].reset_index(drop=True),
            moved[moved["cutoff"] == cutoff].reset_index(drop=True),
        )


def _networks(n_targets: int, n_past: int, input_size: int, horizon: int) -> list[torch.nn.Module]:
    common = {
        "n_targets": n_targets,
        "n_past_features": n_past,
        "n_future_features": 0,
        "input_size": input_size,
        "horizon": horizon,
        "hidden_size": 8,
        "num_layers": 2,
        "dropout": 0.0,
        "norm_window": 4,
    }
    torch.manual_seed(0)
    return [
        LSTMNet(LSTMNetConfig(**common)),
        LSTMNet(LSTMNetConfig(**common, bidirectional=True)),
        LSTMNet(LSTMNetConfig(**common, bidirectional=True, patch_size=3)),
        Seq2SeqNet(Seq2SeqNetConfig(**common)),
        Seq2SeqNet(Seq2SeqNetConfig(**common, bidirectional=True, patch_size=2)),
    ]


@given(
    cutoff=st.integers(min_value=0, max_value=38),
    input_size=st.integers(min_value=1, max_value=16),
    seed=st.integers(min_value=0, max_value=10**6),
)
def test_network_outputs_depend_only_on_the_past(cutoff: int, input_size: int, seed: int) -> None:
    # A panel tensor of 2 series x 44 steps x (2 targets + 1 covariate).
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(2, 44, 3, generator=g)
    lengths = torch.tensor([44, 40])
    horizon = 4
    series_idx = torch.tensor([0, 1])
    cutoff_idx = torch.tensor([cutoff, min(cutoff, 35)])
    scrambled = values.clone()
    for s in range(2):
        scrambled[s, int(cutoff_idx[s]) + 1 :] = 1e3 * torch.randn(
            44 - int(cutoff_idx[s]) - 1, 3, generator=g
        )
    for net in _networks(2, 1, input_size, horizon):
        net.eval()
        outputs = []
        for tensor in (values, scrambled):
            w = gather(tensor, lengths, series_idx, cutoff_idx, input_size, horizon, 2)
            with torch.no_grad():
                outputs.append(net(w.past[..., :2], w.past_mask, w.past[..., 2:]))
        torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_bidirectional_backward_direction_sees_only_the_history() -> None:
    # The backward LSTM runs from the cutoff back to the window start: its final state must not
    # move when values after the cutoff change, and must move when the cutoff value changes.
    torch.manual_seed(0)
    net = LSTMNet(
        LSTMNetConfig(
            n_targets=1,
            n_past_features=0,
            n_future_features=0,
            input_size=10,
            horizon=3,
            hidden_size=6,
            num_layers=2,
            bidirectional=True,
            dropout=0.0,
        )
    ).eval()
    values = torch.randn(1, 30, 1)
    lengths = torch.tensor([30])
    cutoff = torch.tensor([17])

    def backward_state(tensor: torch.Tensor) -> torch.Tensor:
        w = gather(tensor, lengths, torch.tensor([0]), cutoff, 10, 3, 1)
        loc, scale = net.norm(w.past, w.past_mask)  # type: ignore[misc]
        x = torch.cat([(w.past - loc) / scale, w.past_mask[..., None].float()], dim=-1)
        with torch.no_grad():
            _, (h_n, _) = net.encoder(x)
        return h_n[-1]  # the last layer's backward final state

    base = backward_state(values)
    after = values.clone()
    after[:, 18:] = 1e3
    torch.testing.assert_close(backward_state(after), base, rtol=0, atol=0)
    at_cutoff = values.clone()
    at_cutoff[:, 17] += 5.0
    assert not torch.allclose(backward_state(at_cutoff), base)


def test_seq2seq_teacher_forcing_zero_equals_inference() -> None:
    torch.manual_seed(0)
    net = Seq2SeqNet(
        Seq2SeqNetConfig(
            n_targets=2,
            n_past_features=1,
            n_future_features=2,
            input_size=9,
            horizon=5,
            hidden_size=8,
            num_layers=2,
            dropout=0.0,
            n_quantiles=3,
            median_index=1,
        )
    ).eval()
    past = torch.randn(4, 9, 2)
    mask = torch.ones(4, 9, dtype=torch.bool)
    past_features = torch.randn(4, 9, 1)
    future_features = torch.randn(4, 5, 2)
    future_target = torch.randn(4, 5, 2)
    inference = net(past, mask, past_features, future_features)
    trained = net(
        past,
        mask,
        past_features,
        future_features,
        future_target=future_target,
        teacher_forcing_ratio=0.0,
        generator=torch.Generator().manual_seed(1),
    )
    torch.testing.assert_close(trained, inference, rtol=0, atol=0)
    # full teacher forcing takes the fused path and differs (it is fed the truth)
    forced = net(past, mask, past_features, future_features, future_target, 1.0)
    assert not torch.allclose(forced, inference)
    # ... and agrees with the step-by-step path when that is fed the truth at every step
    stepwise = net(past, mask, past_features, future_features, future_target, 0.999999)
    torch.testing.assert_close(forced, stepwise, rtol=1e-5, atol=1e-5)


def test_teacher_forcing_ratio_decays() -> None:
    model = tm.Seq2SeqForecaster(horizon=2, teacher_forcing=0.8, teacher_forcing_decay=0.5)
    assert model.teacher_forcing_ratio(0.0) == pytest.approx(0.8)
    assert model.teacher_forcing_ratio(0.25) == pytest.approx(0.4)
    assert model.teacher_forcing_ratio(0.5) == 0.0
    assert model.teacher_forcing_ratio(0.99) == 0.0
    constant = tm.Seq2SeqForecaster(horizon=2, teacher_forcing=0.3, teacher_forcing_decay=None)
    assert constant.teacher_forcing_ratio(0.99) == pytest.approx(0.3)


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=5),
    input_size=st.integers(min_value=1, max_value=12),
    horizon=st.integers(min_value=1, max_value=6),
    val_size=st.integers(min_value=0, max_value=10),
)
def test_validation_windows_come_from_the_end_of_the_training_range(
    lengths: list[int], input_size: int, horizon: int, val_size: int
) -> None:
    lengths_t = torch.tensor(lengths)
    min_past = max(1, input_size // 2)
    (t_series, t_cutoff), val = split_windows(lengths_t, input_size, horizon, val_size, min_past)
    n = lengths_t[t_series]
    # training futures end before the validation part
    assert bool((t_cutoff + horizon <= n - 1 - val_size).all())
    assert bool((t_cutoff >= min_past - 1).all())
    if val is None:
        return
    v_series, v_cutoff = val
    n_v = lengths_t[v_series]
    assert val_size > 0
    # validation futures lie in the last `val_size` steps, never after the series' end
    assert bool((v_cutoff + 1 >= n_v - val_size).all())
    assert bool((v_cutoff + horizon <= n_v - 1).all())
    # and they are every such window (up to the spread-out cap), in series then time order
    all_series, all_cutoff = training_window_index(
        lengths_t, input_size, horizon, min_past=min_past
    )
    last_part = all_cutoff >= lengths_t[all_series] - 1 - val_size
    assert torch.equal(v_series, all_series[last_part])
    assert torch.equal(v_cutoff, all_cutoff[last_part])
