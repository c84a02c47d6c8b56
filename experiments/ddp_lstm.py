"""Train an LSTM on M4 Hourly with DistributedDataParallel and print each rank's throughput.

    torchrun --nproc-per-node 2 experiments/ddp_lstm.py       # 2 ranks (gloo on CPU, nccl on GPU)
    python experiments/ddp_lstm.py                            # the same fit in one process

`distributed="auto"` turns data-parallel training on only under torchrun (WORLD_SIZE > 1), so
the same script is the single-process reference. Every rank reads the whole panel and draws
its own `--batch-size` windows per step (the ranks' batches are disjoint slices of one shared
draw), so a step of W ranks trains on W x batch-size windows. Validation is off and the number
of steps fixed, so the rate is training throughput only: windows per second between the
loop's first and last evaluation time stamps (the first `eval_every` steps, which include
start-up, are left out). Rank 0 then forecasts the test horizon and prints its sMAPE.
The last line (rank 0) is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

import tsforecast as tsf
from tsforecast.metrics import smape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=128, help="windows per rank and step")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--device", default="cpu", help='"cpu", "cuda" or "auto"')
    args = parser.parse_args()

    m4 = tsf.datasets.load("m4_hourly")
    eval_every = max(1, args.steps // 10)
    model = tsf.models.LSTMForecaster(
        horizon=48,
        input_size=96,
        hidden_size=args.hidden_size,
        num_layers=2,
        dropout=0.0,
        batch_size=args.batch_size,
        max_steps=args.steps,
        eval_every=eval_every,
        val_size=0,
        device=args.device,
        progress=False,
        distributed="auto",
    )
    started = time.perf_counter()
    model.fit(m4.train)
    fit_s = time.perf_counter() - started

    run = model.distributed_run_
    rank, world = (run.rank, run.world_size) if run is not None else (0, 1)
    first, last = model.history_[0], model.history_[-1]
    n_windows = (last["step"] - first["step"]) * args.batch_size
    rate = n_windows / max(last["elapsed_s"] - first["elapsed_s"], 1e-9)
    threads = torch.get_num_threads()
    line = (
        f"rank {rank}/{world}: {last['step']} steps x {args.batch_size} windows, "
        f"{rate:,.0f} windows/s ({threads} thread{'s' * (threads > 1)}), fit {fit_s:.1f} s, "
        f"final train loss {last['train_loss']:.4f}\n"
    )
    sys.stdout.write(line)  # one write: the ranks' lines do not interleave
    sys.stdout.flush()
    total = rate
    if run is not None:
        rates = torch.tensor([rate], dtype=torch.float64)
        dist.all_reduce(rates)  # the group tsforecast made stays up until the process exits
        total = float(rates.item())

    if rank == 0:
        fc = model.predict()  # every rank could: each holds the same weights
        y = m4.test.sort_values(["unique_id", "ds"])["y"].to_numpy()
        y_hat = fc.sort_values(["unique_id", "ds"])["y"].to_numpy()
        score = smape(y, y_hat)
        print(f"all {world} ranks: {total:,.0f} windows/s; M4 Hourly test sMAPE {score:.3f}")
        summary = {
            "world_size": world,
            "windows_per_s_total": round(total, 1),
            "windows_per_s_per_rank": round(total / world, 1),
            "batch_per_rank": args.batch_size,
            "steps": int(last["step"]),
            "threads_per_rank": threads,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "smape": round(float(np.asarray(score)), 4),
            "fit_s": round(fit_s, 2),
        }
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
