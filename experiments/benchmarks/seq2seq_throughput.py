"""Training steps per second of `seq2seq` (the decoder unrolls the horizon step by step).

    nice python experiments/benchmarks/seq2seq_throughput.py [--steps 30] [--repeats 3]
    nice python experiments/benchmarks/seq2seq_throughput.py --against /path/to/old/tree

On the M4 Hourly panel with the sizes `Seq2SeqForecaster(horizon=48)` picks there (input 168 in
patches of 24, hidden 64, 2 layers, dropout 0.1, batch 256), one thread by default:
- network: the bare `Seq2SeqNet` on random inputs; one training step = forward with teacher
  forcing 0.5 + backward + AdamW. With `--future-features F` the decoder also reads F
  known-future features per step (calendar features, known-future covariates). `--against TREE`
  also loads `tsforecast.nn.seq2seq` from another checkout (e.g. `git archive` of an older
  commit) and times the two in alternating blocks of 3 steps in this one process, so that the
  load of a shared machine drifts out of their ratio; the figures are medians over the blocks.
- estimator: `Seq2SeqForecaster(horizon=48).fit` without validation, the best of `--repeats`;
  the rate is read from the loop's evaluation time stamps, so it includes drawing and gathering
  the windows.
The package timed is whatever `import tsforecast` finds (the first line says which).
The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType

import torch

import tsforecast
import tsforecast.nn.seq2seq

INPUT, HORIZON, HIDDEN, LAYERS, PATCH, BATCH = 168, 48, 64, 2, 24, 256


def _seq2seq_module_from(tree: str) -> ModuleType:
    """`tsforecast.nn.seq2seq` as another checkout has it (its own blocks and all)."""
    ours = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "tsforecast"}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, tree)
    try:
        import tsforecast.nn.seq2seq as theirs
    finally:
        sys.path.remove(tree)
        sys.modules.update(ours)  # later imports get this checkout's modules again
    return theirs


def _training_step(module: ModuleType, n_future: int) -> Callable[[], None]:
    """One training step of a fresh `Seq2SeqNet` from `module` on fixed random inputs."""
    torch.manual_seed(0)
    config = module.Seq2SeqNetConfig(
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
    net = module.Seq2SeqNet(config)
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

    return step


def network_rates(modules: dict[str, ModuleType], steps: int, n_future: int) -> dict[str, float]:
    """Median steps/s of each module's network over alternating blocks of 3 steps."""
    step_of = {label: _training_step(module, n_future) for label, module in modules.items()}
    for step in step_of.values():  # warm-up: allocator, oneDNN primitives
        step()
        step()
    rates: dict[str, list[float]] = {label: [] for label in step_of}
    labels = list(step_of)
    for block in range(max(1, steps // 3)):
        for label in labels if block % 2 == 0 else labels[::-1]:
            start = time.perf_counter()
            for _ in range(3):
                step_of[label]()
            rates[label].append(3 / (time.perf_counter() - start))
    return {label: statistics.median(r) for label, r in rates.items()}


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
    parser.add_argument("--steps", type=int, default=30, help="timed steps per figure")
    parser.add_argument("--repeats", type=int, default=3, help="estimator fits")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--future-features", type=int, default=4)
    parser.add_argument("--against", default=None, help="another checkout to time alongside")
    parser.add_argument("--skip-estimator", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores visible, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"tsforecast from {os.path.dirname(tsforecast.__file__)}; {machine}")
    modules = {"this": tsforecast.nn.seq2seq}
    if args.against:
        modules["against"] = _seq2seq_module_from(args.against)
        print(f"against {os.path.dirname(modules['against'].__file__ or '')}")
    result: dict[str, object] = {"benchmark": "seq2seq_throughput", "machine": machine}
    for n_future in sorted({0, args.future_features}):
        rates = network_rates(modules, args.steps, n_future)
        for label, rate in rates.items():
            result[f"network_steps_per_s_f{n_future}_{label}"] = round(rate, 2)
        text = ", ".join(f"{label} {rate:.2f}" for label, rate in rates.items())
        if args.against:
            ratio = rates["this"] / rates["against"]
            result[f"network_ratio_f{n_future}"] = round(ratio, 3)
            text += f" (this / against: {ratio:.3f})"
        print(f"network, {n_future} future features, steps/s: {text}")
    if not args.skip_estimator:
        rates_fit = [estimator_steps_per_s(args.steps) for _ in range(args.repeats)]
        result["estimator_steps_per_s"] = round(max(rates_fit), 2)
        print(f"estimator on M4 Hourly: {max(rates_fit):.2f} steps/s (best of {args.repeats})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
