"""Training throughput of `lstm` against a minimal pure-PyTorch loop (the floor cost).

Run under the shared lock:
    flock /tmp/tsforecast-bench.lock python experiments/benchmarks/training_throughput.py

Both train the same network on the M4 Hourly panel: LSTM hidden 128, 2 layers, input 96,
horizon 48, batch 256, AdamW, L1 loss.
- floor: nn.LSTM + nn.Linear over windows already materialised in memory as one tensor (no
  sampling, no clipping, no schedule, no validation): what the model itself costs.
- tsforecast: `LSTMForecaster.fit` with the same sizes (patch_size=1, no window normalisation,
  no highway, a linear head, dropout 0, no validation), i.e. the real engine: windows drawn and
  gathered on the device every step, warm-up + cosine schedule, gradient clipping, the loop's
  bookkeeping. Its rate is read from the loop's own evaluation time stamps, which the loop
  takes after waiting for the device (before that fix, CUDA rates counted queued work).
Each variant runs in a fresh subprocess (so its peak RSS is its own), alternately: floor, then
tsforecast, `--repeats` times. The machine is shared with other work whose load drifts, so
`ratio` is the median over the repeats of tsforecast / floor windows per second within each
adjacent pair (drift cancels inside a pair); the best rate of each variant is reported too.
Each variant also reports windows per CPU-second of its own process (`time.process_time`; the
loop's history records it as `cpu_s`), and `cpu_ratio` is the same median of pairs in CPU time.
Other processes' load stretches wall time more than CPU time, but not CPU time alone: shared
caches and memory bandwidth slow the work itself (measured here: both ratios vary by about
+-5 % from pair to pair on the 2 shared cores). The goal (ratio >= 1.0) is read from wall time,
as the issue set it; CPU time is printed beside it.
On CUDA both use bf16 autocast and peak memory is `torch.cuda.max_memory_allocated`.
The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

INPUT, HORIZON, HIDDEN, LAYERS, BATCH = 96, 48, 128, 2, 256


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _m4_panel(device: object) -> object:
    from tsforecast import datasets
    from tsforecast.data.validation import to_panel

    return to_panel(datasets.load("m4_hourly").train, device=device)  # type: ignore[arg-type]


def run_floor(warm: int, steps: int, device_name: str) -> dict:
    import torch
    from torch import nn

    from tsforecast.scaling import fit_scaler
    from tsforecast.windows import gather, training_window_index

    device = torch.device(device_name)
    panel = _m4_panel(device)
    scaler = fit_scaler(panel.values, panel.lengths)  # type: ignore[attr-defined]
    values = scaler.transform(panel.values)  # type: ignore[attr-defined]
    series_idx, cutoff_idx = training_window_index(panel.lengths, INPUT, HORIZON)  # type: ignore[attr-defined]
    g = torch.Generator(device=device).manual_seed(0)
    pick = torch.randint(0, len(series_idx), ((warm + steps) * BATCH,), generator=g, device=device)
    # every batch materialised up front: the loop below only runs the model
    w = gather(values, panel.lengths, series_idx[pick], cutoff_idx[pick], INPUT, HORIZON, 1)  # type: ignore[attr-defined]
    x_all = w.past.contiguous()  # -> (N, L, 1)
    y_all = w.future[..., 0].contiguous()  # -> (N, H)
    rss_before = _peak_rss_mb()

    torch.manual_seed(0)
    lstm = nn.LSTM(1, HIDDEN, LAYERS, batch_first=True).to(device)
    head = nn.Linear(HIDDEN, HORIZON).to(device)
    optimizer = torch.optim.AdamW([*lstm.parameters(), *head.parameters()], lr=1e-3)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else torch.autocast("cpu", enabled=False)
    )
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = cpu_start = 0.0
    for i in range(warm + steps):
        if i == warm:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start, cpu_start = time.perf_counter(), time.process_time()
        x = x_all[i * BATCH : (i + 1) * BATCH]
        y = y_all[i * BATCH : (i + 1) * BATCH]
        with autocast:
            _, (h_n, _) = lstm(x)
            loss = nn.functional.l1_loss(head(h_n[-1]).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    out = {
        "windows_per_s": steps * BATCH / elapsed,
        "windows_per_cpu_s": steps * BATCH / cpu,
        "peak_rss_mb": _peak_rss_mb(),
    }
    out["rss_increase_mb"] = out["peak_rss_mb"] - rss_before
    if device.type == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def run_tsforecast(warm: int, steps: int, device_name: str) -> dict:
    import torch

    from tsforecast import datasets
    from tsforecast.models import LSTMForecaster

    train = datasets.load("m4_hourly").train
    model = LSTMForecaster(
        horizon=HORIZON,
        input_size=INPUT,
        hidden_size=HIDDEN,
        num_layers=LAYERS,
        batch_size=BATCH,
        patch_size=1,
        window_norm=False,
        highway=False,
        head_layers=0,
        dropout=0.0,
        val_size=0,
        max_steps=warm + steps,
        eval_every=warm,
        loss="mae",
        device=device_name,
        progress=False,
    )
    rss_before = _peak_rss_mb()
    if device_name.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    model.fit(train)
    history = model.history_
    first, last = history[0], history[-1]
    windows = (last["step"] - first["step"]) * BATCH
    out = {
        "windows_per_s": windows / (last["elapsed_s"] - first["elapsed_s"]),
        "windows_per_cpu_s": windows / (last["cpu_s"] - first["cpu_s"]),
        "peak_rss_mb": _peak_rss_mb(),
    }
    out["rss_increase_mb"] = out["peak_rss_mb"] - rss_before
    if device_name.startswith("cuda"):
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=25, help="timed steps per run")
    parser.add_argument("--warm", type=int, default=5, help="untimed warm-up steps")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--child", choices=["floor", "tsforecast"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    threads = args.threads or torch.get_num_threads()
    if args.child:
        torch.set_num_threads(threads)
        run = run_floor if args.child == "floor" else run_tsforecast
        print(json.dumps(run(args.warm, args.steps, device)))
        return

    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores visible, torch threads {threads}"
        if device == "cpu"
        else f"{torch.cuda.get_device_name()} (bf16 autocast)"
    )
    print(
        f"lstm hidden {HIDDEN} x {LAYERS} layers, input {INPUT}, horizon {HORIZON}, "
        f"batch {BATCH} on the M4 Hourly panel; machine: {machine}"
    )
    runs: dict[str, list[dict]] = {"floor": [], "tsforecast": []}
    for _ in range(args.repeats):
        for variant in ("floor", "tsforecast"):
            command = [
                sys.executable,
                __file__,
                f"--child={variant}",
                f"--steps={args.steps}",
                f"--warm={args.warm}",
                f"--threads={threads}",
                f"--device={device}",
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(output.strip().splitlines()[-1])
            runs[variant].append(result)
            print(
                f"{variant:10s} {result['windows_per_s']:9.1f} windows/s  "
                f"{result['windows_per_cpu_s']:9.1f} windows/CPU-s  "
                f"peak RSS {result['peak_rss_mb']:7.1f} MB "
                f"(+{result['rss_increase_mb']:.1f} MB while training)"
                + (f"  peak GPU {result['peak_gpu_mb']:.1f} MB" if "peak_gpu_mb" in result else ""),
                flush=True,
            )
    best = {k: max(v, key=lambda r: r["windows_per_s"]) for k, v in runs.items()}
    pair_ratios = [
        t["windows_per_s"] / f["windows_per_s"]
        for f, t in zip(runs["floor"], runs["tsforecast"], strict=True)
    ]
    cpu_pair_ratios = [
        t["windows_per_cpu_s"] / f["windows_per_cpu_s"]
        for f, t in zip(runs["floor"], runs["tsforecast"], strict=True)
    ]
    ratio = float(sorted(pair_ratios)[len(pair_ratios) // 2])
    cpu_ratio = float(sorted(cpu_pair_ratios)[len(cpu_pair_ratios) // 2])
    ratio_of_best = best["tsforecast"]["windows_per_s"] / best["floor"]["windows_per_s"]
    goal = "met" if ratio >= 1.0 else "NOT met"
    print(
        f"tsforecast / floor, median of {args.repeats} pairs: wall time {ratio:.3f} "
        f"(pairs {', '.join(f'{r:.3f}' for r in pair_ratios)}), CPU time {cpu_ratio:.3f} "
        f"(pairs {', '.join(f'{r:.3f}' for r in cpu_pair_ratios)}); goal >= 1.0 (wall time): {goal}"
    )
    print(
        json.dumps(
            {
                "benchmark": "training_throughput",
                "machine": machine,
                "device": device,
                "config": {
                    "hidden_size": HIDDEN,
                    "num_layers": LAYERS,
                    "input_size": INPUT,
                    "horizon": HORIZON,
                    "batch_size": BATCH,
                },
                "floor_windows_per_s": round(best["floor"]["windows_per_s"], 1),
                "tsforecast_windows_per_s": round(best["tsforecast"]["windows_per_s"], 1),
                "floor_peak_rss_mb": round(best["floor"]["peak_rss_mb"], 1),
                "tsforecast_peak_rss_mb": round(best["tsforecast"]["peak_rss_mb"], 1),
                "floor_peak_gpu_mb": best["floor"].get("peak_gpu_mb"),
                "tsforecast_peak_gpu_mb": best["tsforecast"].get("peak_gpu_mb"),
                "all_runs": runs,
                "pair_ratios": [round(r, 3) for r in pair_ratios],
                "ratio_of_best": round(ratio_of_best, 3),
                "ratio": round(ratio, 3),
                "cpu_pair_ratios": [round(r, 3) for r in cpu_pair_ratios],
                "cpu_ratio": round(cpu_ratio, 3),
                "goal": goal,
            }
        )
    )


if __name__ == "__main__":
    main()
