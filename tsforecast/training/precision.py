"""Mixed precision: which precision a training run uses, and the autocast context it runs in.

The choice (enforced in `tsforecast.nn.blocks.FP32LSTM` and `tsforecast.nn.stepwise`): every LSTM
computes in fp32 with autocast disabled around it (TF32 allowed on CUDA), and the rest of a
network (heads, projections) may run in bf16 under autocast. Not bf16 LSTMs, because PyTorch's
autocast wrapper for cuDNN RNNs casts inputs, weights and states to *fp16* whatever dtype
autocast was given (aten/src/ATen/cudnn/AutocastRNN.cpp), and nothing scales the loss: the gate
gradients of an M4 Hourly model (about 3e-5 at most) mostly round to zero in fp16. Not an fp16
mode with loss scaling either: fp32 LSTMs give the numbers the CPU gives, and TF32 already runs
their matmuls on tensor cores.

- `"auto"`: bf16 autocast on a CUDA device that runs bf16 natively (Ampere or newer), else fp32.
- `"bf16"`: bf16 autocast; on a CPU without native bf16 (oneDNN needs AVX-512 or ARM BF16) or a
  GPU older than Ampere it falls back to fp32 with a `TsforecastWarning`, so a configuration
  written for a GPU still runs on a laptop.
- `"fp32"`: no autocast.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

import torch

from tsforecast.errors import TsforecastWarning

__all__ = ["Precision", "has_native_bf16", "precision_context", "resolve_precision"]

Precision = Literal["auto", "bf16", "fp32"]


def has_native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 in hardware (rather than failing or emulating it)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type == "cpu":
        # oneDNN's own test, the one PyTorch applies before it takes a bf16 path on a CPU.
        mkldnn = torch.backends.mkldnn
        return bool(mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False  # mps: its bf16 coverage varies by OS version; fp32 is the safe choice


def resolve_precision(device: torch.device, precision: Precision) -> Literal["bf16", "fp32"]:
    """The precision a run on `device` uses when asked for `precision` (see the module doc)."""
    if precision == "fp32":
        return "fp32"
    native = has_native_bf16(device)
    if precision == "auto":
        return "bf16" if device.type == "cuda" and native else "fp32"
    if not native:
        msg = (
            f"`precision='bf16'` was asked for, but this {device.type} device has no native "
            "bf16 support; training runs in fp32 instead (pass precision='fp32' or 'auto' to "
            "silence this warning)."
        )
        warnings.warn(msg, TsforecastWarning, stacklevel=4)
        return "fp32"
    return "bf16"


def precision_context(
    device: torch.device, precision: Literal["bf16", "fp32"]
) -> AbstractContextManager[Any]:
    """The context a training or validation step runs in: bf16 autocast, or nothing."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
