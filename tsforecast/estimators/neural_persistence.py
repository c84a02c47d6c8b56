"""Save and load a fitted neural forecaster: one folder, `config.json` + `model.safetensors`.

The tensors are the network's weights, the scaler and the tail of each series the model
forecasts from; the JSON holds the parameters, what `fit` resolved and the history's metadata.
No pickle: loading runs no code from the file. The folder format is
`tsforecast.estimators.base.FORMAT_VERSION`; `Forecaster._load` refuses another version before
`load_neural` reads the folder.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from tsforecast.devices import resolve_device
from tsforecast.errors import InputError
from tsforecast.estimators.base import FORMAT_VERSION
from tsforecast.estimators.history import panel_from_saved, panel_to_saved
from tsforecast.estimators.neural_inputs import Layout
from tsforecast.persistence import write_model_folder
from tsforecast.scaling import Scaler
from tsforecast.training import TrainingResult

if TYPE_CHECKING:
    from tsforecast.estimators.neural_base import NeuralForecaster

__all__ = ["load_neural", "save_neural"]

ModelT = TypeVar("ModelT", bound="NeuralForecaster")


def save_neural(model: NeuralForecaster, path: str | os.PathLike[str]) -> None:
    """Write the fitted `model` to the folder `path`, atomically (never half a model)."""
    tensors, panel_meta = panel_to_saved(model.history_panel_, "history")
    tensors |= {f"network.{k}": v for k, v in model.network_.state_dict().items()}
    tensors["scaler.loc"] = model.scaler_.loc
    tensors["scaler.scale"] = model.scaler_.scale
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    config = {
        "format_version": FORMAT_VERSION,
        "model": model.model_name,
        "class": type(model).__name__,
        "params": {k: _json_value(v) for k, v in model.get_params().items()},
        "resolved": model.params_,
        "layout": asdict(model.layout_),
        "quantiles": model.quantiles_,
        "val_size": model.val_size_,
        "n_train_windows": model.n_train_windows_,
        "history": model.history_,
        "training": model.training_,
        "panel": panel_meta,
    }
    write_model_folder(Path(path), tensors, config)


def load_neural(
    cls: type[ModelT],
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    device: str | torch.device | None,
) -> ModelT:
    """The model `save_neural` wrote (on `device`, default: the device it was saved with)."""
    params = dict(config["params"])
    if device is not None:
        params["device"] = str(device)
    model = cls(**params)
    try:
        resolved_device = resolve_device(params.get("device", "auto"))
    except InputError:  # saved on a GPU, loaded where there is none
        resolved_device = torch.device("cpu")
    model.layout_ = Layout(**config["layout"])
    model.params_ = config["resolved"]
    model.quantiles_ = config["quantiles"]
    model.val_size_ = config["val_size"]
    model.n_train_windows_ = config["n_train_windows"]
    model.history_ = config["history"]
    model.training_result_ = TrainingResult(history=config["history"])
    # what the fit's training did (`attrs["training"]`); a folder saved before it was kept: None
    model.training_ = config.get("training")
    model.device_ = resolved_device
    # building the network must not move the caller's global random state
    with torch.random.fork_rng(devices=[]):
        network = model._build_network(model.layout_, model.params_)
    weights = {k[len("network.") :]: v for k, v in tensors.items() if k.startswith("network.")}
    network.load_state_dict(weights)
    model.network_ = network.to(resolved_device).eval()
    model.scaler_ = Scaler(
        params.get("scaler", "standard"),
        # float64 on the host, as fitted (see neural_inputs); older files hold float32
        tensors["scaler.loc"].to("cpu", torch.float64),
        tensors["scaler.scale"].to("cpu", torch.float64),
    )
    model.history_panel_ = panel_from_saved(tensors, config["panel"], "history", resolved_device)
    model.frame_kind_ = config["panel"]["frame_kind"]
    model.future_df_ = None
    model.distributed_run_ = None  # a loaded model saves from whichever process calls save
    return model


def _json_value(value: Any) -> Any:
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return value
