"""Saved models: a folder with `config.json` (JSON, no pickle) and `model.safetensors`.

Shared by the forecasters and the sequence classifier. A folder is written under a temporary
name beside the target and moved into place, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from tsforecast.errors import InputError

__all__ = ["read_model_folder", "write_model_folder"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def write_model_folder(
    path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], config: dict[str, Any]
) -> None:
    """Write `tensors` and `config` to the folder `path` (replacing it) atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_file(tensors, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
