"""Saving and loading a fitted `auto`: its parameters, what it chose, one folder per chosen
member, and the history a reused neural member forecasts from."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from tsforecast.errors import InputError
from tsforecast.estimators.auto_selection import AutoSelection
from tsforecast.estimators.base import FORMAT_VERSION, Forecaster

if TYPE_CHECKING:
    from tsforecast.estimators.auto import AutoForecaster

__all__ = ["AUTO_FORMAT_VERSION", "load_auto", "member_failures", "member_training", "save_auto"]

# The format of an `auto` folder. 3: the selection holds the weighted-mean and OWA fields
# (`weights`, `criterion`, `owa_reference`, `inner_owa`); a tsforecast that reads format 2 only
# refuses it with a clear message instead of failing on fields it does not know. Format 2
# folders (no such fields: a median or one model, chosen by MASE) are still read. The members
# inside keep the estimators' `FORMAT_VERSION`.
AUTO_FORMAT_VERSION = 3
_AUTO_FORMATS_READ = (FORMAT_VERSION, AUTO_FORMAT_VERSION)


def save_auto(model: AutoForecaster, path: str | os.PathLike[str]) -> None:
    """A folder with `config.json` (parameters, what was chosen) and one saved folder per
    chosen member, written under a temporary name and swapped into place."""
    from safetensors.torch import save_file

    from tsforecast.atomic import atomic_dir
    from tsforecast.estimators.history import panel_to_saved
    from tsforecast.persistence import CONFIG_FILE, WEIGHTS_FILE

    config = {
        "format_version": AUTO_FORMAT_VERSION,
        "class": type(model).__name__,
        "params": _jsonable(model.get_params()),
        "selection": _jsonable(asdict(model.selection_)),
        "season_length": model.season_length_,
        "members": [f"member_{k}" for k in range(len(model.members_))],
        "frame_kind": model.frame_kind_,
    }
    tensors: dict[str, Any] = {}
    if model.history_panel_ is not None:
        tensors, config["history"] = panel_to_saved(model.history_panel_, "history")
    with atomic_dir(path) as folder:
        for name, member in zip(config["members"], model.members_, strict=True):
            member.save(folder / name)
        save_file(tensors, str(folder / WEIGHTS_FILE))
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")


def load_auto(cls: type[AutoForecaster], folder: Path, device: Any) -> AutoForecaster:
    """The `auto` saved in `folder` by `save_auto`, its members loaded onto `device`."""
    from tsforecast.estimators import registry
    from tsforecast.estimators.history import panel_from_saved
    from tsforecast.persistence import check_saved_format, read_model_folder

    config, tensors = read_model_folder(folder, "tsforecast model")
    check_saved_format(folder, config, cls.__name__, _AUTO_FORMATS_READ)
    model = cls(**config["params"])
    model.members_ = [registry.load(folder / name, device) for name in config["members"]]
    model.selection_ = _selection_from_saved(folder, config["selection"])
    model.season_length_ = int(config["season_length"])
    model.frame_kind_ = config["frame_kind"]
    model.schema_ = getattr(model.members_[0], "schema_", None)
    model.failures_ = member_failures(model.members_)
    model.training_ = member_training(model.selection_.chosen, model.members_)
    model.history_panel_ = None
    if "history" in config:
        cpu = torch.device("cpu")
        model.history_panel_ = panel_from_saved(tensors, config["history"], "history", cpu)
    return model


def _selection_from_saved(folder: Path, saved: dict[str, Any]) -> AutoSelection:
    """The saved selection; a field this version does not know (a folder written by a newer
    tsforecast under the same format number) is refused by name, not a TypeError."""
    known = {f.name for f in fields(AutoSelection)}
    unknown = sorted(set(saved) - known)
    if unknown:
        msg = (
            f"{str(folder)!r} holds an auto selection with fields this version of tsforecast "
            f"does not know: {unknown}. It was saved by a newer tsforecast: load it with that "
            "version, or fit the model again and save it with this one."
        )
        raise InputError(msg)
    return AutoSelection(**saved)


def member_failures(members: list[Forecaster]) -> pd.DataFrame:
    """The series each member fell back on, labelled by the member's name."""
    from tsforecast.estimators import registry

    frames = []
    for member in members:
        found = getattr(member, "failures_", None)
        if isinstance(found, pd.DataFrame) and not found.empty:
            name = registry.name_of(member) or member.model_name  # bilstm, not its class's lstm
            frames.append(found.assign(model=name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def member_training(names: list[str], members: list[Forecaster]) -> dict[str, Any] | None:
    """The training record of the one neural member (`training_`, a forecast frame's
    `attrs["training"]`), None when no member trained a network. With several (only when
    `candidates` names more than one neural model and the choice weighs them), each record is
    under its member's name (`names`, as chosen: "bilstm", not its class's "lstm") in
    "members": one record alone would hide how the others' training ended."""
    records = [
        (name, record)
        for name, member in zip(names, members, strict=True)
        if (record := getattr(member, "training_", None)) is not None
    ]
    if not records:
        return None
    if len(records) == 1:
        return dict(records[0][1])
    return {"members": {name: dict(record) for name, record in records}}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
