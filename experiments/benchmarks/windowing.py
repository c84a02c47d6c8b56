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
import time

import torch
from torch.utils.data import DataLoader, Dataset

from tsforecast import datasets
from tsforecast.panel import to_panel
from tsforecast.windows import gather, training_window_index

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


def time_gather(panel, series_idx, cutoff_idx, n_batches: int, seed: int) -> float:
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(n_batches):
        pick = torch.randint(len(series_idx), (BATCH_SIZE,), generator=generator)
        windows = gather(
            panel.values,
            panel.lengths,
            series_idx[pick],
            cutoff_idx[pick],
            INPUT_SIZE,
            HORIZON,
            panel.n_targets,
        )
        assert windows.past.shape == (BATCH_SIZE, INPUT_SIZE, panel.n_channels)
    return n_batches * BATCH_SIZE / (time.perf_counter() - start)


def time_dataloader(panel, series_idx, cutoff_idx, n_batches: int, seed: int) -> float:
    dataset = SlicingDataset(panel.values, series_idx, cutoff_idx)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        dataset, batch_size=BATCH_SIZE, shuffle=True, generator=generator, num_workers=0
    )
    start = time.perf_counter()
    for seen, (past, _future) in enumerate(loader, start=1):
        assert past.shape == (BATCH_SIZE, INPUT_SIZE, panel.n_channels)
        if seen == n_batches:
            break
    return n_batches * BATCH_SIZE / (time.perf_counter() - start)


def main() -> None:
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
    # warm up both paths, then take the best of three timings of each (less noise from others)
    time_gather(panel, series_idx, cutoff_idx, 20, seed=1)
    time_dataloader(panel, series_idx, cutoff_idx, 5, seed=1)
    ours = max(time_gather(panel, series_idx, cutoff_idx, 400, seed=k) for k in range(3))
    theirs = max(time_dataloader(panel, series_idx, cutoff_idx, 40, seed=k) for k in range(3))
    ratio = ours / theirs
    print(f"tsforecast.windows.gather : {ours:14,.0f} windows/s")
    print(f"Dataset + DataLoader      : {theirs:14,.0f} windows/s")
    print(f"ratio                     : {ratio:14.1f}x  (goal >= 20x)")
    print(
        json.dumps(
            {
                "benchmark": "windowing",
                "dataset": "m4_hourly",
                "batch_size": BATCH_SIZE,
                "input_size": INPUT_SIZE,
                "horizon": HORIZON,
                "device": "cpu",
                "gather_windows_per_s": round(ours),
                "dataloader_windows_per_s": round(theirs),
                "ratio": round(ratio, 2),
                "goal_ratio": 20,
                "goal_met": ratio >= 20,
            }
        )
    )


if __name__ == "__main__":
    main()
