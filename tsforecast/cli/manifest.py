"""`results/NAME/manifest.json`: what a backtest ran on and with, enough to rerun and compare it.

The config as written and as resolved, the seed, sha256 of the data, the package versions, the
machine and device, the timings, the number of fallbacks, the smoke settings of a smoke run.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from tsforecast.cli.config import ExperimentConfig
from tsforecast.cli.data import LoadedData

__all__ = ["build"]

_VERSIONED = (
    "tsforecast",
    "torch",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "statsmodels",
    "scipy",
    "plotly",
    "safetensors",
)


def build(
    config: ExperimentConfig,
    data: LoadedData,
    result: Any,
    timings: dict[str, float],
    dashboard: Path,
    smoke: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of one run, as JSON-able values."""
    settings = dict(getattr(result, "settings", {}) or {})
    failures = result.failures
    return {
        "name": config.name,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "config_file": str(config.source),
        "config": config.raw,
        "resolved": config.to_dict(),
        "smoke": smoke,
        "seed": config.seed,
        "data": {
            "source": data.source,
            "rows": len(data.frame),
            "series": int(data.frame[data.id_col].nunique()),
            "columns": [str(c) for c in data.frame.columns],
            "sha256": data.frame_sha256(),
            "sha256_of": "column names, dtypes and pandas' per-row hashes of the frame",
            "file_sha256": data.file_sha256,
        },
        "settings": settings,
        "device": _device_info(config.device),
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "model_timings_s": settings.get("timings_s", {}),
        "n_failures": 0 if failures is None else len(failures),
        "dashboard": str(dashboard),
    }


def _device_info(requested: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "requested": requested,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        import torch

        from tsforecast.devices import resolve_device

        device = resolve_device(requested)
        info["resolved"] = str(device)
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
        info["torch_threads"] = torch.get_num_threads()
    except Exception as error:  # the manifest describes the machine; it must not fail the run
        info["resolved"] = f"unknown ({error})"
    return info


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    if out.get("tsforecast") is None:
        from tsforecast import __version__

        out["tsforecast"] = __version__
    return out
