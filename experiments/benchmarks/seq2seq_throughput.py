"""Training steps per second of `seq2seq` (the decoder unrolls the horizon step by step).

    nice python experiments/benchmarks/seq2seq_throughput.py [--steps 30] [--repeats 3]
    PYTHONPATH=/path/to/another/tree nice python ...   # the same figures for another version

On the M4 Hourly panel with the sizes `Seq2SeqForecaster(horizon=48)` picks there (input 168 in
patches of 24, hidden 64, 2 layers, dropout 0.1, batch 256); each figure the best of `--repeats`:
- network: the bare `Seq2SeqNet` on random inputs; one training step = forward with teacher
  forcing 0.5 + backward + AdamW, per wall-clock second and per second of the process's CPU time
  (steadier on a shared machine). With `--future-features F` the decoder also reads F
  known-future features per step (calendar features, known-future covariates).
- estimator: `Seq2SeqForecaster(horizon=48).fit` without validation; the rate is read from the
  loop's evaluation time stamps, so it includes drawing and gathering the windows.
The package timed is whatever `import tsforecast` finds: the installed one unless PYTHONPATH
names another tree (the first line says which).
The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

import tsforecast
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig

INPUT, HORIZON, HIDDEN, LAYERS, PATCH, BATCH = 168, 48, 64, 2, 24, 256


def network_steps_per_s(steps: int, n_future: int) -> tuple[float, float]:
    """Training steps per second of the bare network on random inputs: per wall-clock second
    and per second of this process's CPU time (steadier on a shared machine)."""
    torch.manual_seed(0)
    config = Seq2SeqNetConfig(
        n_targets=1,
        n_past_features=n_future,
        n_future_features=n_future,
        input_size=INPUT,
        horizon=HORIZON,
        hidden_size=HIDDEN,
        num_layers=LAYERS,
        head_layers=1,
        head_hidden_size=2 * HIDDEN,
        patch_size=PATCH,
        norm_window=24,
    )
    net = Seq2SeqNet(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    past_target = torch.randn(BATCH, INPUT, 1).cumsum(1)  # -> (B, L, 1)
    past_mask = torch.ones(BATCH, INPUT, dtype=torch.bool)
    past_features = torch.randn(BATCH, INPUT, n_future) if n_future else None
    future_features = torch.randn(BATCH, HORIZON, n_future) if n_future else None
    future_target = past_target[:, -HORIZON:] + torch.randn(BATCH, HORIZON, 1)  # -> (B, H, 1)

    def step() -> None:
        y_hat = net(
            past_target,
            past_mask,
            past_features,
            future_features,
            future_target=future_target,
            teacher_forcing_ratio=0.5,
            generator=generator,
        )
        loss = torch.nn.functional.l1_loss(y_hat[..., 0], future_target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):  # warm-up: allocator, oneDNN primitives
        step()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start), steps / (time.process_time() - start_cpu)


def estimator_steps_per_s(steps: int) -> float:
    """Training steps per second of `Seq2SeqForecaster.fit` on M4 Hourly (default sizing)."""
    from tsforecast import datasets
    from tsforecast.models import Seq2SeqForecaster

    warm = 5
    model = Seq2SeqForecaster(
        horizon=HORIZON,
        max_steps=warm + steps,
        eval_every=warm,
        val_size=0,
        progress=False,
        device="cpu",
    )
    model.fit(datasets.load("m4_hourly").train)
    first, last = model.history_[0], model.history_[-1]
    return (last["step"] - first["step"]) / (last["elapsed_s"] - first["elapsed_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--future-features", type=int, default=4)
    parser.add_argument("--skip-estimator", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores visible, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"tsforecast from {os.path.dirname(tsforecast.__file__)}; {machine}")
    result: dict[str, object] = {"benchmark": "seq2seq_throughput", "machine": machine}
    for n_future in sorted({0, args.future_features}):
        runs = [network_steps_per_s(args.steps, n_future) for _ in range(args.repeats)]
        wall, cpu = max(r[0] for r in runs), max(r[1] for r in runs)
        result[f"network_steps_per_s_f{n_future}"] = round(wall, 2)
        result[f"network_steps_per_cpu_s_f{n_future}"] = round(cpu, 2)
        print(
            f"network, {n_future} future features: {wall:6.2f} steps/s, "
            f"{cpu:6.2f} steps per CPU second (best of {args.repeats})"
        )
    if not args.skip_estimator:
        rates = [estimator_steps_per_s(args.steps) for _ in range(args.repeats)]
        result["estimator_steps_per_s"] = round(max(rates), 2)
        print(f"estimator on M4 Hourly: {max(rates):6.2f} steps/s (best of {args.repeats})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
