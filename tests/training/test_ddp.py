"""Data-parallel training: two CPU processes (gloo) fit one model as one process would.

One module fixture spawns 2 processes (`torch.multiprocessing.spawn`, one intra-op thread
each) that run every scenario in turn, first in a process group the caller made, then in one
tsforecast makes from torchrun's environment variables; each rank writes what it ended with
under a temporary folder and the tests compare. A rank that waits in a collective for a rank
that has left fails on the group's timeout, and the fixture gives up after `_TIMEOUT_S`, so a
hang is a failure, never a stuck run.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import tsforecast
from tests.conftest import make_long_frame
from tsforecast.errors import InputError
from tsforecast.estimators.lstm import LSTMForecaster
from tsforecast.estimators.seq2seq import Seq2SeqForecaster
from tsforecast.training import distributed as distributed_module

_WORLD = 2
_TIMEOUT_S = 120.0
_BATCH = 8  # per rank

# Small enough for a few seconds per test on two busy cores; patience=None and a fixed number
# of steps so that both sides of a comparison run the same steps.
_MODEL: dict[str, Any] = dict(
    horizon=4,
    input_size=8,
    hidden_size=8,
    num_layers=1,
    head_layers=1,
    max_steps=12,
    eval_every=4,
    patience=None,
    val_size=4,
    learning_rate=1e-2,
    device="cpu",
    progress=False,
    seed=3,
)


def _frame(n_series: int) -> pd.DataFrame:
    return make_long_frame({f"s{i}": 40 + 3 * i for i in range(n_series)}, seed=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _state(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.network_.state_dict().items()}


def _worker(rank: int, tmp: str, port: int) -> None:
    """One rank of every scenario, in turn; writes `{scenario}_rank{r}.pt` for each."""
    torch.set_num_threads(1)
    out = Path(tmp)
    # first a group the caller made: tsforecast uses it and leaves it alone
    store, timeout = f"file://{out / 'store'}", timedelta(seconds=60)
    dist.init_process_group(
        "gloo", init_method=store, rank=rank, world_size=_WORLD, timeout=timeout
    )
    for scenario, run in _SCENARIOS.items():
        torch.save(run(rank, out), out / f"{scenario}_rank{rank}.pt")
    assert dist.is_initialized()  # not destroyed by the fits
    dist.destroy_process_group()
    # then the environment torchrun sets: tsforecast creates (and destroys) the group itself
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(_WORLD),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.save(_save_on_rank_zero(rank, out), out / f"torchrun_rank{rank}.pt")
    distributed_module.leave_process_group()
    torch.save(dist.is_initialized(), out / f"left_rank{rank}.pt")


def _fit_seq2seq_with_dropout(rank: int, out: Path) -> dict[str, Any]:
    model = Seq2SeqForecaster(**_MODEL, dropout=0.2, batch_size=_BATCH, distributed=True)
    model.fit(_frame(4))
    return {"state": _state(model), "history": model.history_}


def _fit_lstm_without_dropout(rank: int, out: Path) -> dict[str, Any]:
    model = LSTMForecaster(**_MODEL, dropout=0.0, batch_size=_BATCH, distributed=True)
    model.fit(_frame(5))
    return {"state": _state(model), "forecast": model.predict(), "history": model.history_}


def _fit_lstm_with_weight_averaging(rank: int, out: Path) -> dict[str, Any]:
    model = LSTMForecaster(
        **_MODEL, dropout=0.0, ema_decay=0.9, batch_size=_BATCH, distributed=True
    )
    model.fit(_frame(5))
    return {"state": _state(model), "forecast": model.predict()}


def _uneven(n_series: int) -> Any:
    def fit(rank: int, out: Path) -> dict[str, Any]:
        # rank 1 reads a clock running twice as fast: without an agreed clock it would leave
        # the loop (out of time) while rank 0 waits for it in the next gradient all-reduce
        from types import SimpleNamespace

        from tsforecast.training import loop

        if rank == 1:
            loop.time = SimpleNamespace(  # type: ignore[assignment]
                perf_counter=lambda: 2.0 * time.perf_counter(), process_time=time.process_time
            )
        params = {
            **_MODEL,
            "max_steps": 10**6,
            "time_budget_s": 1.5,
            "eval_every": 3,
            "patience": 2,
        }
        model = LSTMForecaster(**params, batch_size=_BATCH, distributed=True)
        try:
            model.fit(_frame(n_series))
        finally:
            loop.time = time  # type: ignore[assignment]
        steps = [entry["step"] for entry in model.history_]
        result = model.training_result_
        return {"state": _state(model), "steps": steps, "reason": result.stopped_reason}

    return fit


def _save_on_rank_zero(rank: int, out: Path) -> dict[str, Any]:
    from tsforecast.estimators import neural_base

    save_neural = neural_base.save_neural

    def counted(model: Any, path: Any) -> None:
        with open(out / "writes.txt", "a") as log:
            log.write(f"{rank}\n")
        save_neural(model, path)

    neural_base.save_neural = counted  # type: ignore[assignment]
    model = LSTMForecaster(**_MODEL, batch_size=_BATCH, distributed="auto")
    model.fit(_frame(3))
    model.save(out / "model")
    # every rank may read the folder once `save` has returned: rank 0 wrote it before that
    loaded = tsforecast.models.load(out / "model")
    return {"forecast": model.predict(), "loaded_forecast": loaded.predict()}


def _fit_different_frames(rank: int, out: Path) -> str:
    model = LSTMForecaster(**_MODEL, batch_size=_BATCH, distributed=True)
    try:
        model.fit(_frame(3 + rank))
    except InputError as error:
        return str(error)
    return "no error"


_SCENARIOS = {
    "seq2seq_dropout": _fit_seq2seq_with_dropout,
    "lstm_no_dropout": _fit_lstm_without_dropout,
    "lstm_ema": _fit_lstm_with_weight_averaging,
    "uneven_1": _uneven(1),
    "uneven_3": _uneven(3),
    "different_frames": _fit_different_frames,
}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """What each of the 2 ranks ended with, per scenario: one spawn for all of them (starting
    a process that imports torch costs seconds). Fails, not hangs, if not done in time."""
    tmp_path = tmp_path_factory.mktemp("ddp")
    os.environ["OMP_NUM_THREADS"] = "1"
    context = mp.spawn(_worker, args=(str(tmp_path), _free_port()), nprocs=_WORLD, join=False)
    deadline = time.monotonic() + _TIMEOUT_S
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the ranks did not finish within {_TIMEOUT_S} s (a hang)")
    names = [*_SCENARIOS, "torchrun", "left"]
    results: dict[str, list[Any]] = {
        name: [
            torch.load(tmp_path / f"{name}_rank{r}.pt", weights_only=False) for r in range(_WORLD)
        ]
        for name in names
    }
    results["dir"] = [tmp_path]
    return results


def _load(path: Path) -> Any:
    return torch.load(path, weights_only=False)  # our own files: frames and tensors


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_both_ranks_end_with_identical_parameters(ranks: dict[str, list[Any]]) -> None:
    # dropout on: the ranks draw different masks on different windows, yet the averaged
    # gradients keep the weights the same, bit for bit
    rank0, rank1 = ranks["seq2seq_dropout"]
    _assert_same_state(rank0["state"], rank1["state"])
    # the same training and validation losses and learning rates, evaluation by evaluation
    untimed = [
        [{k: v for k, v in e.items() if k not in ("elapsed_s", "cpu_s")} for e in r["history"]]
        for r in (rank0, rank1)
    ]
    assert untimed[0] == untimed[1]


def test_two_ranks_equal_one_process_training_on_the_combined_batch(
    ranks: dict[str, list[Any]],
) -> None:
    rank0, rank1 = ranks["lstm_no_dropout"]
    single = LSTMForecaster(**_MODEL, dropout=0.0, batch_size=_WORLD * _BATCH)
    single.fit(_frame(5))
    _assert_same_state(rank0["state"], rank1["state"])
    # the losses the loop records, as one process computes them: training averaged over the
    # ranks, validation count-weighted over uneven shards (5 windows: 3 on rank 0, 2 on rank 1)
    for name in ("train_loss", "val_loss"):
        ours = [entry[name] for entry in rank0["history"]]
        assert ours == pytest.approx([entry[name] for entry in single.history_], rel=1e-4)
    for key, value in _state(single).items():
        torch.testing.assert_close(rank0["state"][key], value, rtol=1e-4, atol=1e-5)
    pd.testing.assert_frame_equal(rank0["forecast"], rank1["forecast"])
    pd.testing.assert_frame_equal(rank0["forecast"], single.predict(), rtol=1e-4)


def test_weight_averaging_agrees_over_ranks_and_with_one_process(
    ranks: dict[str, list[Any]],
) -> None:
    # every rank averages the same synchronised weights: the same average, which is the one
    # a single process training on the combined batch ends with
    rank0, rank1 = ranks["lstm_ema"]
    _assert_same_state(rank0["state"], rank1["state"])
    single = LSTMForecaster(**_MODEL, dropout=0.0, ema_decay=0.9, batch_size=_WORLD * _BATCH)
    single.fit(_frame(5))
    for key, value in _state(single).items():
        torch.testing.assert_close(rank0["state"][key], value, rtol=1e-4, atol=1e-5)
    plain = ranks["lstm_no_dropout"][0]["state"]
    assert any(not torch.allclose(rank0["state"][k], plain[k]) for k in plain)


@pytest.mark.parametrize("n_series", [1, 3])
def test_uneven_shards_and_unequal_clocks_neither_hang_nor_crash(
    ranks: dict[str, list[Any]], n_series: int
) -> None:
    # 1 series: one validation window, so rank 1 has none; 3 series: 2 against 1
    rank0, rank1 = ranks[f"uneven_{n_series}"]
    _assert_same_state(rank0["state"], rank1["state"])
    assert rank0["steps"] == rank1["steps"]
    assert rank0["reason"] == rank1["reason"]
    assert rank0["reason"] in ("early_stopping", "time_budget")


def test_torchrun_launch_saves_once_on_rank_zero_and_every_rank_predicts(
    ranks: dict[str, list[Any]],
) -> None:
    rank0, rank1 = ranks["torchrun"]
    tmp_path = ranks["dir"][0]
    assert (tmp_path / "writes.txt").read_text().split() == ["0"]
    assert json.loads((tmp_path / "model" / "config.json").read_text())["params"]["distributed"]
    pd.testing.assert_frame_equal(rank0["forecast"], rank1["forecast"])
    pd.testing.assert_frame_equal(rank0["forecast"], rank1["loaded_forecast"])
    assert ranks["left"] == [False, False]  # the group tsforecast created is destroyed


def test_ranks_that_read_different_frames_are_all_refused(ranks: dict[str, list[Any]]) -> None:
    for message in ranks["different_frames"]:
        assert "every rank of a distributed fit must read the same frame" in message


# ----------------------------------------------------------------- without a process group
def test_auto_stays_off_when_not_launched_by_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    model = LSTMForecaster(**_MODEL, batch_size=_BATCH, distributed="auto").fit(_frame(2))
    assert model.distributed_run_ is None
    assert not dist.is_initialized()


def test_the_default_never_joins_a_group_even_under_torchrun_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    model = LSTMForecaster(**_MODEL, batch_size=_BATCH).fit(_frame(2))
    assert model.distributed_run_ is None
    assert not dist.is_initialized()


def test_distributed_true_without_a_launch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    model = LSTMForecaster(**_MODEL, distributed=True)
    with pytest.raises(InputError, match="torchrun"):
        model.fit(_frame(2))


def test_an_unknown_distributed_value_is_refused() -> None:
    with pytest.raises(InputError, match='`distributed` must be False, True or "auto"'):
        LSTMForecaster(**_MODEL).set_params(distributed="yes")
