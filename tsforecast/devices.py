"""The one place where a `device` argument becomes a `torch.device`."""

from __future__ import annotations

import torch

from tsforecast.errors import InputError

__all__ = ["resolve_device"]

# the devices to use instead of one this machine lacks (in no entry point's syntax: the
# command line, a config and Python all name them so)
_INSTEAD = "'auto' (the GPU when there is one, else the CPU) or 'cpu'"


def resolve_device(device: str | torch.device = "auto", what: str = "`device`") -> torch.device:
    """`"auto"` picks cuda, then mps, then cpu; anything else is checked to be usable here.

    `what` names the argument in messages (the command line's `--device`).

    Every model checks its `device` through this function, the statistical baselines too
    (they run on the CPU, but a device that does not exist is still a mistake worth naming).
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str):
        msg = f"{what} must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}."
        raise InputError(msg)
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        msg = f"{what} must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}."
        raise InputError(msg) from error
    if resolved.type not in ("cpu", "cuda", "mps"):
        msg = f"{what} must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}."
        raise InputError(msg)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        msg = f"{what} {device!r} was asked for but CUDA is not available; use {_INSTEAD}."
        raise InputError(msg)
    if resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            msg = f"{what} {device!r} was asked for but MPS is not available; use {_INSTEAD}."
            raise InputError(msg)
    return resolved
