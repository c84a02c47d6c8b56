"""Windows per second: on-device index-arithmetic gathering vs a per-sample Dataset + DataLoader.

Both sides draw the same random batches of 256 training windows (input 96, horizon 48) from the
whole M4 Hourly panel and produce the same (past [B, L, C], future [B, H, C]) tensors; the
DataLoader side is the usual PyTorch recipe (a map-style Dataset whose __getitem__ slices one
window, default collate, no workers). Last output line: one JSON object with the key `ratio`.

    python experiments/benchmarks/windowing.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import torch
from torch.utils.data import DataLoader, Dataset

from tsforecast import datasets
from tsforecast.data.validation import to_panel
from tsforecast.windows import WindowSource, training_window_index

INPUT_SIZE, HORIZON, BATCH_SIZE = 96, 48, 256


class SlicingDataset(Dataset):
    """The per-sample baseline: one window per __getitem__ call."""

    def __init__(self, values: torch.Tensor, series_idx: torch.Tensor, cutoff_idx: torch.Tensor):
        self.values, self.series_idx, self.cutoff_idx = values, series_idx, cutoff_idx

    def __len__(self) -> int:
        return len(self.series_idx)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s, c = int(self.series_idx[i]), int(self.cutoff_idx[i])
        past = self.values[s, c - INPUT_SIZE + 1 : c + 1]
        future = self.values[s, c + 1 : c + 1 + HORIZON, :1]
        return past, future


def time_gather(panel, series_idx, cutoff_idx, n_batches: int, seed: int) -> list[float]:
    """Seconds per batch, one entry per batch (the one-off set-up copy is timed separately)."""
    generator = torch.Generator().manual_seed(seed)
    source = WindowSource(panel.values, panel.lengths, INPUT_SIZE, HORIZON, panel.n_targets)
    plan = source.plan(series_idx, cutoff_idx)  # once per training run, like the set-up copy
    seconds = []
    for _ in range(n_batches):
        start = time.perf_counter()
        pick = torch.randint(len(series_idx), (BATCH_SIZE,), generator=generator)
        windows = source.take(plan, pick)
        seconds.append(time.perf_counter() - start)
        assert windows.past.shape == (BATCH_SIZE, INPUT_SIZE, panel.n_channels)
    return seconds


def make_loader(panel, series_idx, cutoff_idx, seed: int) -> DataLoader:
    """The usual per-sample recipe: a map-style Dataset, shuffled, default collate, no workers."""
    dataset = SlicingDataset(panel.values, series_idx, cutoff_idx)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, generator=generator, num_workers=0
    )


def time_dataloader(iterator, n_batches: int, n_channels: int) -> list[float]:
    """Seconds per batch drawn from a running DataLoader iterator (one epoch's shuffle is
    paid once, as in training, not once per timing round)."""
    seconds = []
    for _ in range(n_batches):
        start = time.perf_counter()
        past, _future = next(iterator)
        seconds.append(time.perf_counter() - start)
        assert past.shape == (BATCH_SIZE, INPUT_SIZE, n_channels)
    return seconds


def main() -> None:
    # One intra-op thread on both sides: a batch gather is a ~150 KB memory copy, where a thread
    # pool only adds synchronisation (and stalls when another process holds the second core);
    # the DataLoader side (num_workers=0) runs its Python per sample on one thread as well.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = datasets.load("m4_hourly")
    panel = to_panel(data.train)
    series_idx, cutoff_idx = training_window_index(panel.lengths, INPUT_SIZE, HORIZON)
    print(
        f"M4 Hourly panel {tuple(panel.values.shape)}, {len(series_idx):,} training windows "
        f"(input {INPUT_SIZE}, horizon {HORIZON}), batch {BATCH_SIZE}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device cpu"
    )
    # windows/s = windows gathered / time spent (the throughput a training loop sees); the
    # median batch is printed too, as a check that is robust to another process taking a core.
    time_gather(panel, series_idx, cutoff_idx, 20, seed=1)  # warm-up
    iterator = iter(make_loader(panel, series_idx, cutoff_idx, seed=0))
    time_dataloader(iterator, 5, panel.n_channels)  # warm-up
    setup_start = time.perf_counter()
    source = WindowSource(panel.values, panel.lengths, INPUT_SIZE, HORIZON, panel.n_targets)
    source.plan(series_idx, cutoff_idx)
    setup_s = time.perf_counter() - setup_start
    # interleaved rounds, so that both sides see the same load from other processes
    ours_s: list[float] = []
    theirs_s: list[float] = []
    for k in range(10):
        ours_s += time_gather(panel, series_idx, cutoff_idx, 100, seed=k)
        theirs_s += time_dataloader(iterator, 10, panel.n_channels)
    ours = BATCH_SIZE / statistics.median(ours_s)
    theirs = BATCH_SIZE / statistics.median(theirs_s)
    ours_mean = BATCH_SIZE / statistics.mean(ours_s)
    theirs_mean = BATCH_SIZE / statistics.mean(theirs_s)
    ratio = ours_mean / theirs_mean
    print(f"WindowSource + plan set-up (once per training run): {setup_s * 1e3:.1f} ms")
    print(f"tsforecast WindowSource: {ours_mean:12,.0f} windows/s ({ours:12,.0f} median batch)")
    print(f"Dataset + DataLoader   : {theirs_mean:12,.0f} windows/s ({theirs:12,.0f} median batch)")
    print(f"ratio                  : {ratio:12.1f}x        ({ours / theirs:12.1f}x median batch)")
    print(
        json.dumps(
            {
                "benchmark": "windowing",
                "dataset": "m4_hourly",
                "batch_size": BATCH_SIZE,
                "input_size": INPUT_SIZE,
                "horizon": HORIZON,
                "device": "cpu",
                "gather_windows_per_s": round(ours_mean),
                "gather_windows_per_s_median_batch": round(ours),
                "gather_setup_ms": round(setup_s * 1e3, 2),
                "dataloader_windows_per_s": round(theirs_mean),
                "dataloader_windows_per_s_median_batch": round(theirs),
                "ratio_median_batch": round(ours / theirs, 2),
                "ratio": round(ratio, 2),
                "goal_ratio": 20,
                "goal_met": ratio >= 20,
            }
        )
    )


if __name__ == "__main__":
    main()
