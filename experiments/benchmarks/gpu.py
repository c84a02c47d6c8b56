"""One run on one GPU (at most ~5 minutes) of the figures issue 11 asks for.

    PYTHONUNBUFFERED=1 PYTHONPATH=. python experiments/benchmarks/gpu.py [--dry] [--out FILE]

`--dry` runs a tiny CPU version of every part (12 series, a narrow net, a few steps): a smoke
test of this script, not figures. Parts, each printed as it finishes:
1. env: the device, torch, cuDNN, TF32 settings, native bf16.
2. training windows/s on M4 Hourly, fp32 and mixed (bf16 autocast; the LSTMs stay fp32) at
   batch 256 / 1024 / 4096, for the W1 model (`training_throughput.py`'s: LSTM 128 x 2, input 96,
   horizon 48, patch 1, no window norm or highway, a linear head) and the defaults
   (`LSTMForecaster(horizon=48)`, `Seq2SeqForecaster(horizon=48)`, sizes picked from the data),
   with each run's peak GPU memory; and W1 on this machine's CPU (all cores) for reference.
   Rates come from the loop's time stamps between its first and last evaluation, which it
   takes after the device has caught up.
3. kernels per training step (torch.profiler; the difference of a long and a short fit, so
   set-up and the final evaluation cancel); `--dry` counts CPU aten ops instead.
4. CPU/GPU agreement of the same weights' forecasts (mixed-trained W1), cuDNN TF32 on and off.
5. whole-M4-Hourly `forecast(train, 48, model)` wall time and sMAPE on the test part, for
   `lstm` and `seq2seq` with their defaults.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

import tsforecast as tsf
from tsforecast import datasets
from tsforecast.metrics import smape
from tsforecast.models import LSTMForecaster, NeuralForecaster, Seq2SeqForecaster, load

HORIZON = 48
W1 = {
    "horizon": HORIZON,
    "input_size": 96,
    "hidden_size": 128,
    "num_layers": 2,
    "patch_size": 1,
    "window_norm": False,
    "highway": False,
    "head_layers": 0,
    "dropout": 0.0,
    "loss": "mae",
}


@dataclass
class Run:
    """What a benchmark run uses: the device, the data and the sizes (`--dry` shrinks them)."""

    dry: bool
    device: str
    train: pd.DataFrame
    test: pd.DataFrame
    batches: tuple[int, ...]
    steps: int  # timed optimizer steps of a throughput fit (seq2seq: a third)
    w1: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)

    def emit(self, key: str, value: Any) -> None:
        self.figures[key] = value
        print(f"{key}: {json.dumps(value)}", flush=True)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _fit(
    run: Run, cls: type[NeuralForecaster], params: dict[str, Any], steps: int, **kw: Any
) -> tuple[NeuralForecaster, dict[str, Any]]:
    """Fit `cls` on M4 Hourly for `steps` + a warm-up of steps; its windows/s and peak memory."""
    device = kw.pop("device", run.device)
    warm = max(2, steps // 5)
    model = cls(
        **params,
        max_steps=warm + steps,
        eval_every=warm,
        val_size=0,
        device=device,
        progress=False,
        **kw,
    )
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    started = time.perf_counter()
    model.fit(run.train)
    _sync(device)
    wall = time.perf_counter() - started
    first, last = model.history_[0], model.history_[-1]
    batch = model.params_["batch_size"]
    rate = (last["step"] - first["step"]) * batch / (last["elapsed_s"] - first["elapsed_s"])
    return model, {
        "windows_per_s": round(rate),
        "batch": batch,
        "steps": warm + steps,
        "fit_wall_s": round(wall, 2),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)
        if device.startswith("cuda")
        else None,
        "final_train_loss": round(float(last["train_loss"]), 4),
    }


def _models(run: Run) -> dict[str, tuple[type[NeuralForecaster], dict[str, Any], int]]:
    """name -> (class, parameters, timed steps) of the models the throughput part trains."""
    lstm, s2s = {"horizon": HORIZON}, {"horizon": HORIZON}
    if run.dry:
        lstm = s2s = {"horizon": HORIZON, "hidden_size": 16}
    return {
        "w1": (LSTMForecaster, run.w1, run.steps),
        "lstm_default": (LSTMForecaster, lstm, run.steps),
        "seq2seq_default": (Seq2SeqForecaster, s2s, max(3, run.steps // 3)),
    }


def training_rates(run: Run) -> NeuralForecaster:
    """Part 2; returns the mixed-precision W1 model at the first batch size (for part 4)."""
    kept = None
    for name, (cls, params, steps) in _models(run).items():
        for precision in ("fp32", "mixed"):
            for batch in run.batches:
                model, figures = _fit(
                    run,
                    cls,
                    {**params, "batch_size": batch},
                    steps,
                    precision="fp32" if precision == "fp32" else "bf16",
                )
                run.emit(f"train_{name}_{precision}_b{batch}", figures)
                if kept is None and name == "w1" and precision == "mixed":
                    kept = model
    threads = torch.get_num_threads()
    if not run.dry:  # the reference: every core of this machine (the dry run keeps to one)
        torch.set_num_threads(os.cpu_count() or 1)
    _, figures = _fit(run, LSTMForecaster, {**run.w1, "batch_size": 256}, 10, device="cpu")
    run.emit("train_w1_cpu_b256", {**figures, "threads": torch.get_num_threads()})
    torch.set_num_threads(threads)
    assert kept is not None
    return kept


def kernels_per_step(run: Run) -> None:
    """Part 3: device kernels (or, on a CPU, aten ops) per training step of each model."""
    from torch.profiler import ProfilerActivity, profile

    on_cuda = run.device.startswith("cuda")
    activity = ProfilerActivity.CUDA if on_cuda else ProfilerActivity.CPU

    def count(cls: type[NeuralForecaster], params: dict[str, Any], steps: int) -> int:
        fixed = {"max_steps": steps, "eval_every": steps, "val_size": 0, "progress": False}
        model = cls(**params, **fixed, device=run.device)
        with profile(activities=[activity]) as prof:
            model.fit(run.train)
            _sync(run.device)
        if on_cuda:
            return sum(e.device_type == torch.autograd.DeviceType.CUDA for e in prof.events())
        return sum(e.name.startswith("aten::") for e in prof.events())

    short, long = (1, 2) if run.dry else (10, 30)
    for name, (cls, params, _) in _models(run).items():
        for precision in ("fp32", "bf16"):
            kw = {**params, "batch_size": run.batches[0], "precision": precision}
            per_step = (count(cls, kw, long) - count(cls, kw, short)) / (long - short)
            unit = "kernels" if on_cuda else "aten_ops"
            run.emit(f"{unit}_per_step_{name}_{precision}", round(per_step, 1))


def agreement(run: Run, model: NeuralForecaster) -> None:
    """Part 4: the same weights on the CPU and on the training device (fp32 inference)."""
    with tempfile.TemporaryDirectory() as folder:
        model.save(f"{folder}/m")
        on_cpu = load(f"{folder}/m", device="cpu").predict()["y"].to_numpy()
    scale = float(np.abs(on_cpu).max())
    figures = {}
    for tf32 in (True, False):
        torch.backends.cudnn.allow_tf32 = tf32
        error = np.abs(model.predict()["y"].to_numpy() - on_cpu)
        figures[f"cudnn_tf32={tf32}"] = {
            "max_abs": float(error.max()),
            "max_abs_over_scale": float(error.max() / scale),
        }
    torch.backends.cudnn.allow_tf32 = True
    run.emit("cpu_gpu_agreement", figures)


def forecast_m4(run: Run) -> None:
    """Part 5: the whole panel through `forecast()` with default sizing."""
    for name in ("lstm", "seq2seq"):
        extra: dict[str, Any] = {"max_steps": 6, "hidden_size": 16} if run.dry else {}
        _sync(run.device)
        started = time.perf_counter()
        fc = tsf.forecast(run.train, HORIZON, name, device=run.device, progress=False, **extra)
        _sync(run.device)
        wall = time.perf_counter() - started
        joined = run.test.merge(fc, on=["unique_id", "ds"], suffixes=("", "_hat"))
        figures = {
            "wall_s": round(wall, 1),
            "smape": round(smape(joined["y"], joined["y_hat"]), 3),
            "rows": len(joined),
        }
        run.emit(f"forecast_m4_{name}", figures)


def _environment(run: Run) -> dict[str, Any]:
    from tsforecast.training.precision import has_native_bf16

    device = torch.device(run.device)
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "native_bf16": has_native_bf16(device),
        "cpu_cores": os.cpu_count(),
        "dry": run.dry,
    }


def _setup(dry: bool) -> Run:
    data = datasets.load("m4_hourly")
    train, test = data.train, data.test
    if dry:
        # One thread: the smoke run shares its machine, and a second thread waiting on a busy
        # core slows small kernels tenfold.
        torch.set_num_threads(1)
        keep = train["unique_id"].unique()[:12]
        train, test = (f[f["unique_id"].isin(keep)] for f in (train, test))
        return Run(True, "cpu", train, test, (32, 64), 4, {**W1, "hidden_size": 16})
    if not torch.cuda.is_available():
        msg = "no CUDA device here: run with --dry for the CPU smoke version"
        raise SystemExit(msg)
    return Run(False, "cuda", train, test, (256, 1024, 4096), 100, dict(W1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry", action="store_true", help="a tiny CPU smoke run of every part")
    parser.add_argument("--out", default=None, help="also write the JSON object to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    run = _setup(args.dry)
    run.emit("env", _environment(run))
    _fit(run, LSTMForecaster, {**run.w1, "batch_size": run.batches[0]}, 4)  # CUDA/cuDNN set-up
    agreement(run, training_rates(run))
    kernels_per_step(run)
    forecast_m4(run)
    run.figures["total_wall_s"] = round(time.perf_counter() - started, 1)
    line = json.dumps({"benchmark": "gpu", **run.figures})
    if args.out:
        with open(args.out, "w") as f:
            f.write(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
