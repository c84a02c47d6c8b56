"""Saved models: a folder with `config.json` (JSON, no pickle) and `model.safetensors`.

Shared by the forecasters and the sequence classifier. The folder is written with
`tsforecast.atomic.atomic_dir`, so a crash never leaves half a model behind and a model saved
over an older one replaces it whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from tsforecast.atomic import atomic_dir
from tsforecast.errors import InputError

__all__ = ["check_saved_format", "read_model_folder", "write_model_folder"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def write_model_folder(
    path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], config: dict[str, Any]
) -> None:
    """Write `tensors` and `config` to the folder `path` (replacing it) atomically."""
    with atomic_dir(path) as folder:
        save_file(tensors, str(folder / WEIGHTS_FILE))
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")


def read_model_folder(
    path: str | os.PathLike[str], what: str
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(config, tensors) of a folder written by `write_model_folder`; `what` names the kind."""
    folder = Path(path)
    config_file, weights_file = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_file.is_file() or not weights_file.is_file():
        msg = (
            f"{str(folder)!r} is not a saved {what} (it needs {CONFIG_FILE} and "
            f"{WEIGHTS_FILE}); pass the folder given to `save`."
        )
        raise InputError(msg)
    config = json.loads(config_file.read_text(encoding="utf-8"))
    return config, load_file(str(weights_file))


def check_saved_format(
    path: str | os.PathLike[str],
    config: dict[str, Any],
    class_name: str,
    format_version: int | tuple[int, ...],
) -> None:
    """Refuse a saved folder of another class or of a format version this code cannot read
    (`format_version`: the one version it writes, or every version it reads), saying which."""
    if config.get("class") != class_name:
        msg = (
            f"{str(path)!r} holds a saved {config.get('class')!r}, not a {class_name}; "
            "load it with the loader of its own class (`tsforecast.models.load` for forecasters)."
        )
        raise InputError(msg)
    readable = (format_version,) if isinstance(format_version, int) else format_version
    version = config.get("format_version")
    if version not in readable:
        formats = " or ".join(str(v) for v in readable)
        msg = (
            f"{str(path)!r} holds a {class_name} saved in format version {version!r}; this "
            f"version of tsforecast reads format {formats} only. Fit the model again "
            "and save it with this version."
        )
        raise InputError(msg)
