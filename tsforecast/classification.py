"""Sequence classification with the LSTM encoders: binary, multi-class and multi-label.

`SequenceClassifier` is the estimator (scikit-learn conventions: `__init__` only stores its
arguments, learned state ends in `_`). It validates `X` and `y` once at the boundary, pads the
sequences into one tensor on the training device, and trains
`tsforecast.nn.classifier.LSTMClassifierNet` with the shared loop `tsforecast.training.train`.
Sequences may have different lengths: batches are packed, so each sequence is summarised by the
encoder state at its own last valid step and padding never changes a prediction.

Outputs per task (K = number of classes / labels):
- "binary": one logit, `BCEWithLogitsLoss`; `predict_proba` -> (N, 2), column 1 is the sigmoid
  (probability of `classes_[1]`), column 0 its complement.
- "multiclass": K logits, `CrossEntropyLoss` on the raw logits; `predict_proba` -> (N, K)
  softmax, rows sum to one; `predict` returns labels of the type given to `fit`.
- "multilabel": K independent logits, `BCEWithLogitsLoss`; `predict_proba` -> (N, K) sigmoids;
  `predict` thresholds each label at `thresholds_[k]` (0.5, or tuned on the validation split)
  and returns the form `y` had in `fit` (0/1 matrix, list of sets, or list of lists).
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, NotFittedError
from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.persistence import read_model_folder, write_model_folder
from tsforecast.training import TrainingConfig, TrainingResult, train

__all__ = ["SequenceClassifier", "prepare_sequences"]

Task = Literal["binary", "multiclass", "multilabel"]
_TASKS = ("binary", "multiclass", "multilabel")
_FORMAT_VERSION = 1
# Inference runs in chunks of this many sequences to bound memory on long inputs.
_PREDICT_CHUNK = 1024
# patch_size="auto" aims at this many LSTM steps for the median training sequence.
_AUTO_PATCH_STEPS = 32
# Label types that survive a JSON round trip unchanged (numpy dtype kinds).
_LABEL_KINDS = {"U": "str", "i": "int", "u": "int", "b": "bool", "f": "float"}
_PARAM_NAMES = (
    "task",
    "hidden_size",
    "num_layers",
    "bidirectional",
    "dropout",
    "head_layers",
    "head_hidden_size",
    "patch_size",
    "class_weight",
    "max_epochs",
    "max_steps",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "validation_fraction",
    "patience",
    "tune_thresholds",
    "device",
    "seed",
    "progress",
)


# --------------------------------------------------------------------------------------------
# X: validation and padding
# --------------------------------------------------------------------------------------------


def _first_non_finite(seq: np.ndarray) -> tuple[int, int]:
    step, channel = np.argwhere(~np.isfinite(seq))[0]
    return int(step), int(channel)


def prepare_sequences(X: Any, n_channels: int | None = None) -> list[np.ndarray]:
    """Validate `X` and return it as a list of float32 arrays shaped (length_i, channels).

    `X` is a list of arrays (or nested lists) shaped (length_i, channels) — a 1-D element is one
    univariate sequence — or one array shaped (n_sequences, length, channels). Raises
    `InputError` for an empty `X`, empty sequences, non-numeric or non-finite values, channel
    counts that differ between sequences or from `n_channels` (the count seen in `fit`).
    """
    if isinstance(X, np.ndarray) or torch.is_tensor(X):
        array = X.detach().cpu().numpy() if torch.is_tensor(X) else X
        if array.ndim != 3:
            msg = (
                "`X` given as one array must be 3-D (n_sequences, length, channels), "
                f"got shape {array.shape}; for univariate sequences shaped (n, length) pass "
                "`X[..., None]`, or pass a list of (length_i, channels) arrays."
            )
            raise InputError(msg)
        items: Sequence[Any] = list(array)
    elif isinstance(X, (list, tuple)):
        items = X
    else:
        msg = (
            "`X` must be a list of arrays shaped (length_i, channels) or one array shaped "
            f"(n_sequences, length, channels), got {type(X).__name__}."
        )
        raise InputError(msg)
    if len(items) == 0:
        msg = "`X` holds no sequences; pass at least one (length, channels) array."
        raise InputError(msg)

    seqs: list[np.ndarray] = []
    for i, item in enumerate(items):
        try:
            seq = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError) as error:
            msg = (
                f"sequence {i} of `X` is not a numeric array shaped (length, channels) "
                f"({error}); convert it to floats first."
            )
            raise InputError(msg) from error
        if seq.ndim == 1:
            seq = seq[:, None]  # one univariate sequence -> (length, 1)
        if seq.ndim != 2:
            msg = f"sequence {i} of `X` must be 2-D (length, channels), got shape {seq.shape}."
            raise InputError(msg)
        if seq.shape[0] == 0:
            msg = (
                f"sequence {i} of `X` is empty (length 0); every sequence needs at least one "
                "step — drop empty sequences before calling."
            )
            raise InputError(msg)
        expected = n_channels if n_channels is not None else (seqs[0].shape[1] if seqs else None)
        if expected is not None and seq.shape[1] != expected:
            where = "the model was fitted on" if n_channels is not None else "sequence 0 has"
            msg = (
                f"sequence {i} of `X` has {seq.shape[1]} channels but {where} {expected}; "
                "every sequence must be shaped (length_i, channels) with the same channels."
            )
            raise InputError(msg)
        with np.errstate(over="ignore"):
            seq32 = seq.astype(np.float32)
        # Checked after the cast: values beyond float32's range become inf here.
        if not np.isfinite(seq32).all():
            step, channel = _first_non_finite(seq32)
            msg = (
                f"sequence {i} of `X` has non-finite values (NaN or inf), first at step "
                f"{step}, channel {channel} (value {float(seq[step, channel])!r}); fill or "
                "drop them before calling."
            )
            raise InputError(msg)
        seqs.append(seq32)
    return seqs


def _pad(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to (N, L_max, C) with zeros; lengths (N,). Packing ignores the padding."""
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    values = np.zeros((len(seqs), int(lengths.max()), seqs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        values[i, : s.shape[0]] = s
    return values, lengths


# --------------------------------------------------------------------------------------------
# y: label encoding per task
# --------------------------------------------------------------------------------------------


def _label_array(values: Any, what: str) -> np.ndarray:
    """1-D array of labels with a JSON-safe dtype (str, int, bool or float)."""
    array = np.asarray(values)
    if array.dtype.kind == "O":
        # pandas and lists of mixed objects: keep the common Python type when there is one.
        kinds = {type(v) for v in array.tolist()}
        if kinds <= {str}:
            array = array.astype(str)
        elif all(issubclass(k, numbers.Integral) for k in kinds):
            array = array.astype(np.int64)
        elif all(issubclass(k, numbers.Real) for k in kinds):
            array = array.astype(np.float64)
    if array.dtype.kind not in _LABEL_KINDS:
        msg = (
            f"{what} must be strings, integers, booleans or floats, got dtype "
            f"{array.dtype} (e.g. {array.ravel()[:3].tolist()!r}); convert the labels first."
        )
        raise InputError(msg)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        msg = f"{what} contain NaN or inf; drop or fill the unlabelled sequences."
        raise InputError(msg)
    return array


def _check_length(y_len: int, n: int) -> None:
    if y_len != n:
        msg = f"`y` has {y_len} labels but `X` has {n} sequences; give one label per sequence."
        raise InputError(msg)


def _single_labels(y: Any, n: int, task: str) -> np.ndarray:
    array = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
    if array.ndim != 1:
        msg = (
            f"`y` must be 1-D (one label per sequence) for task={task!r}, got shape "
            f"{array.shape}; for a 0/1 matrix of labels use task='multilabel', for a column "
            "vector pass `y.ravel()`."
        )
        raise InputError(msg)
    _check_length(array.shape[0], n)
    return _label_array(array, "labels in `y`")


def _encode_single(
    y: Any, n: int, task: str, classes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Labels -> (classes (K,), codes (N,) int64). With `classes` given, unknown labels raise."""
    labels = _single_labels(y, n, task)
    if classes is None:
        classes = np.unique(labels)
        if len(classes) < 2:
            msg = (
                f"`y` has a single class {classes.tolist()!r}; task={task!r} needs at least "
                "two classes in the training data."
            )
            raise InputError(msg)
        if task == "binary" and len(classes) > 2:
            msg = (
                f"task='binary' needs exactly two classes, `y` has {len(classes)}: "
                f"{classes[:10].tolist()!r}; use task='multiclass'."
            )
            raise InputError(msg)
    try:
        codes = np.searchsorted(classes, labels)
        codes = np.clip(codes, 0, len(classes) - 1)
        known = classes[codes] == labels
    except (TypeError, ValueError) as error:
        msg = (
            f"labels in `y` ({labels.dtype}) cannot be compared with the fitted classes "
            f"({classes.dtype}: {classes[:10].tolist()!r})."
        )
        raise InputError(msg) from error
    if not np.all(known):
        unknown = np.unique(labels[~np.asarray(known, dtype=bool)])
        msg = (
            f"`y` has {len(unknown)} label(s) not seen in fit: {unknown[:10].tolist()!r} "
            f"(known classes: {classes[:20].tolist()!r})."
        )
        raise InputError(msg)
    return classes, codes.astype(np.int64)


def _multilabel_form(y: Any) -> str:
    """'matrix' for a 0/1 array or rectangular list of 0/1 rows, 'sets' or 'lists' otherwise."""
    if isinstance(y, np.ndarray) or torch.is_tensor(y) or hasattr(y, "to_numpy"):
        return "matrix"
    if not isinstance(y, (list, tuple)) or len(y) == 0:
        msg = (
            "`y` for task='multilabel' must be a 0/1 matrix shaped (n_sequences, n_labels) or a "
            f"list of label sets, got {type(y).__name__}."
        )
        raise InputError(msg)
    if all(isinstance(row, (set, frozenset)) for row in y):
        return "sets"
    for i, row in enumerate(y):
        if isinstance(row, (str, bytes)) or not isinstance(row, (list, tuple, set, frozenset)):
            msg = (
                "`y` for task='multilabel' must be a 0/1 matrix or a list of label sets; "
                f"element {i} is {row!r} ({type(row).__name__}); wrap single labels as {{label}}."
            )
            raise InputError(msg)
    rows = [list(r) for r in y]
    rectangular = len({len(r) for r in rows}) == 1 and len(rows[0]) > 0
    zero_one = all(
        isinstance(v, (bool, numbers.Integral)) and int(v) in (0, 1) for r in rows for v in r
    )
    return "matrix" if rectangular and zero_one else "lists"


def _encode_multilabel(
    y: Any, n: int, classes: np.ndarray | None, form: str | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """-> (classes (K,), targets (N, K) float32 in {0, 1}, form)."""
    got = _multilabel_form(y)
    if form is not None and (got == "matrix") != (form == "matrix"):
        msg = f"`y` is given as {got} but the model was fitted with {form}; use the same form."
        raise InputError(msg)
    if got == "matrix":
        array = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
        if torch.is_tensor(y):
            array = y.detach().cpu().numpy()
        if array.ndim != 2:
            msg = (
                "`y` for task='multilabel' must be a 0/1 matrix shaped (n_sequences, n_labels) "
                f"or a list of label sets, got an array of shape {array.shape}; for one label "
                "per sequence use task='binary' or 'multiclass'."
            )
            raise InputError(msg)
        _check_length(array.shape[0], n)
        if array.dtype.kind not in "biuf" or not np.isin(array, (0, 1)).all():
            msg = (
                "`y` for task='multilabel' given as a matrix must hold only 0 and 1 "
                f"(got dtype {array.dtype}, values e.g. {np.unique(array)[:5].tolist()!r})."
            )
            raise InputError(msg)
        if classes is not None and array.shape[1] != len(classes):
            msg = (
                f"`y` has {array.shape[1]} label columns but the model was fitted with "
                f"{len(classes)}."
            )
            raise InputError(msg)
        if classes is None:
            classes = np.arange(array.shape[1], dtype=np.int64)
        return classes, array.astype(np.float32), "matrix"

    _check_length(len(y), n)
    sets = [list(row) for row in y]
    flat = [v for row in sets for v in row]
    if classes is None:
        if not flat:
            msg = "every label set in `y` is empty; task='multilabel' needs some positive labels."
            raise InputError(msg)
        classes = np.unique(_label_array(np.array(flat, dtype=object), "labels in `y`"))
    targets = np.zeros((n, len(classes)), dtype=np.float32)
    if flat:
        labels = _label_array(np.array(flat, dtype=object), "labels in `y`")
        _, codes = _encode_single(labels, len(labels), "multilabel", classes)
        row_idx = np.repeat(np.arange(n), [len(r) for r in sets])
        targets[row_idx, codes] = 1.0
    return classes, targets, got


# --------------------------------------------------------------------------------------------
# Losses and thresholds
# --------------------------------------------------------------------------------------------


def _weighted_mean(loss: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    # Normalised by the weights, as torch's CrossEntropyLoss(weight=...) does, so the loss
    # scale does not depend on the class mix of the batch.
    if weight is None:
        return loss.mean()
    return (loss * weight).sum() / weight.sum()


def _best_f1_threshold(prob: np.ndarray, target: np.ndarray) -> float:
    """Threshold on `prob` that maximises F1 for one label; 0.5 when the label never occurs."""
    n_pos = int(target.sum())
    if n_pos == 0 or n_pos == len(target):
        return 0.5
    candidates = np.unique(np.concatenate([prob, [0.5]]))
    # Midpoints between neighbouring scores generalise better than the scores themselves.
    cuts = np.concatenate([(candidates[:-1] + candidates[1:]) / 2, [0.5]])
    pred = prob[None, :] >= cuts[:, None]  # -> (n_cuts, n)
    tp = (pred & (target[None, :] == 1)).sum(1)
    fp = (pred & (target[None, :] == 0)).sum(1)
    f1 = 2 * tp / np.maximum(2 * tp + fp + (n_pos - tp), 1)
    best = np.flatnonzero(f1 == f1.max())
    # Ties: the cut closest to 0.5, the untuned default.
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------


class SequenceClassifier:
    """LSTM sequence classifier for binary, multi-class and multi-label tasks.

    Parameters
    ----------
    task: "binary" | "multiclass" | "multilabel".
    hidden_size, num_layers, bidirectional, dropout: the LSTM encoder; a bidirectional encoder
        concatenates the last layer's final forward and backward states (embedding 2 x hidden).
    head_layers, head_hidden_size: linear layers of the MLP head (1 = linear read-out).
    patch_size: feed the LSTM non-overlapping patches of this many steps (1: every step).
        "auto": ceil(median training length / 32), i.e. about 32 LSTM steps per sequence;
        long sequences (GunPoint's 150 steps) train faster and far more reliably that way.
    class_weight: None, "balanced" (inverse class frequency; for "multilabel" a positive
        weight n_negative / n_positive per label) or a dict {label: weight}.
    max_epochs, max_steps: training length; `max_steps` (optimizer steps) wins when given.
    batch_size, learning_rate, weight_decay: the optimiser (AdamW, warm-up + cosine).
    validation_fraction: share of the training sequences held out (stratified by class for
        binary/multiclass) for early stopping and threshold tuning; 0 trains on everything
        for the full length. With a few dozen training sequences, a split of a handful is
        too noisy to stop on (see experiments/benchmarks/classification.py): use 0 there.
    patience: epochs without a better validation loss before stopping (None: never); the
        window is never shorter than a third of the planned steps, so that the plateau an
        LSTM often sits on at the start does not end training with untrained weights.
    tune_thresholds: "binary"/"multilabel" only: choose each label's decision threshold on the
        validation split to maximise its F1 (default: 0.5 everywhere).
    device: "auto" (cuda, then mps, then cpu) or a torch device string.
    seed: seeds the weights, the validation split and the batches; same seed -> same model on CPU.
    progress: None shows a progress bar only when stderr is a terminal.
    """

    def __init__(
        self,
        task: Task = "multiclass",
        *,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.1,
        head_layers: int = 1,
        head_hidden_size: int = 64,
        patch_size: int | Literal["auto"] = "auto",
        class_weight: str | Mapping[Any, float] | None = None,
        max_epochs: int = 200,
        max_steps: int | None = None,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.2,
        patience: int | None = 30,
        tune_thresholds: bool = False,
        device: str = "auto",
        seed: int = 0,
        progress: bool | None = None,
    ) -> None:
        self.task = task
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.head_layers = head_layers
        self.head_hidden_size = head_hidden_size
        self.patch_size = patch_size
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tune_thresholds = tune_thresholds
        self.device = device
        self.seed = seed
        self.progress = progress

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (as scikit-learn's `get_params`)."""
        return {name: getattr(self, name) for name in _PARAM_NAMES}

    def __repr__(self) -> str:
        return f"SequenceClassifier(task={self.task!r}, hidden_size={self.hidden_size}, ...)"

    # ---- checks ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.task not in _TASKS:
            msg = f"`task` must be one of 'binary', 'multiclass', 'multilabel', got {self.task!r}."
            raise InputError(msg)
        for name in (
            "hidden_size",
            "num_layers",
            "head_layers",
            "head_hidden_size",
            "batch_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                msg = f"`{name}` must be a positive integer, got {value!r}."
                raise InputError(msg)
        if self.max_steps is None:
            value = self.max_epochs
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                msg = f"`max_epochs` must be a positive integer, got {value!r}."
                raise InputError(msg)
        elif (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, numbers.Integral)
            or self.max_steps < 1
        ):
            msg = f"`max_steps` must be a positive integer or None, got {self.max_steps!r}."
            raise InputError(msg)
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            msg = f"`dropout` must be a number in [0, 1), got {self.dropout!r}."
            raise InputError(msg)
        patch = self.patch_size
        if patch != "auto" and (
            isinstance(patch, bool) or not isinstance(patch, numbers.Integral) or patch < 1
        ):
            msg = f"`patch_size` must be 'auto' or a positive integer, got {patch!r}."
            raise InputError(msg)
        pat = self.patience
        if pat is not None and (
            isinstance(pat, bool) or not isinstance(pat, numbers.Integral) or pat < 1
        ):
            msg = f"`patience` must be a positive integer or None, got {pat!r}."
            raise InputError(msg)
        frac = self.validation_fraction
        if not (isinstance(frac, (int, float)) and 0 <= frac < 1):
            msg = f"`validation_fraction` must be a number in [0, 1), got {frac!r}."
            raise InputError(msg)
        if self.tune_thresholds and self.task == "multiclass":
            msg = (
                "`tune_thresholds=True` applies to task='binary' or 'multilabel'; "
                "multiclass predictions are the most probable class."
            )
            raise InputError(msg)
        if self.tune_thresholds and frac == 0:
            msg = (
                "`tune_thresholds=True` needs a validation split to tune on; "
                "set `validation_fraction` > 0 (e.g. 0.2)."
            )
            raise InputError(msg)
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, Mapping)):
            msg = (
                f"`class_weight` must be None, 'balanced' or a dict {{label: weight}}, got {cw!r}."
            )
            raise InputError(msg)

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            msg = "this SequenceClassifier is not fitted yet; call `fit(X, y)` first."
            raise NotFittedError(msg)

    # ---- fit --------------------------------------------------------------------------------

    def _class_weights(self, targets: np.ndarray) -> np.ndarray | None:
        """Per class (K,) weights; for multilabel the positive weight of each label."""
        cw = self.class_weight
        if cw is None:
            return None
        k = len(self.classes_)
        if self.task == "multilabel":
            n_pos = targets.sum(0)
            n_neg = targets.shape[0] - n_pos
            if cw == "balanced":
                # A label never (or always) positive in training gets no re-weighting.
                ok = (n_pos > 0) & (n_neg > 0)
                return np.where(ok, n_neg / np.maximum(n_pos, 1), 1.0).astype(np.float32)
        else:
            counts = np.bincount(targets.astype(np.int64), minlength=k)
            if cw == "balanced":
                return (len(targets) / (k * np.maximum(counts, 1))).astype(np.float32)
        assert isinstance(cw, Mapping)
        weights = np.ones(k, dtype=np.float32)
        known = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(self.classes_)}
        for label, w in cw.items():
            key = label.item() if hasattr(label, "item") else label
            if key not in known:
                msg = (
                    f"`class_weight` names label {label!r}, which is not in `y` "
                    f"(classes: {self.classes_[:20].tolist()!r})."
                )
                raise InputError(msg)
            if not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0):
                msg = f"`class_weight[{label!r}]` must be a positive number, got {w!r}."
                raise InputError(msg)
            weights[known[key]] = float(w)
        return weights

    def _split(self, codes_or_targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Train / validation indices; stratified by class for single-label tasks."""
        n = codes_or_targets.shape[0]
        rng = np.random.default_rng(self.seed)
        if self.validation_fraction == 0:
            return np.arange(n), np.arange(0)
        if self.task == "multilabel":
            perm = rng.permutation(n)
            n_val = round(self.validation_fraction * n)
            val = np.sort(perm[:n_val])
        else:
            parts = []
            for c in np.unique(codes_or_targets):
                members = rng.permutation(np.flatnonzero(codes_or_targets == c))
                # Never take a class's only example: it must stay in training.
                n_val = min(round(self.validation_fraction * len(members)), len(members) - 1)
                parts.append(members[:n_val])
            val = np.sort(np.concatenate(parts))
        train_idx = np.setdiff1d(np.arange(n), val)
        return train_idx, val

    def _loss_fn(
        self, class_w: torch.Tensor | None
    ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        task = self.task

        def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            if task == "multiclass":
                per = F.cross_entropy(logits, target, reduction="none")  # -> (B,)
                return _weighted_mean(per, None if class_w is None else class_w[target])
            if task == "binary":
                per = F.binary_cross_entropy_with_logits(
                    logits[:, 0], target, reduction="none"
                )  # -> (B,)
                w = None if class_w is None else class_w[target.long()]
                return _weighted_mean(per, w)
            # multilabel: independent logits; pos_weight scales each label's positive term.
            return F.binary_cross_entropy_with_logits(logits, target, pos_weight=class_w)

        return loss

    def fit(self, X: Any, y: Any) -> SequenceClassifier:
        """Train on sequences `X` and labels `y`; returns self."""
        self._check_params()
        seqs = prepare_sequences(X)
        n = len(seqs)
        if self.task == "multilabel":
            classes, targets_np, form = _encode_multilabel(y, n, None, None)
            self.label_form_ = form
            strat = targets_np
        else:
            classes, codes = _encode_single(y, n, self.task, None)
            targets_np = codes
            strat = codes
        self.classes_ = classes
        self.n_channels_ = seqs[0].shape[1]
        class_w_np = self._class_weights(targets_np)
        train_idx, val_idx = self._split(strat)

        device = resolve_device(self.device)
        self.device_ = device
        values_np, lengths_np = _pad(seqs)
        # Per-channel standardisation from the training part's valid steps only.
        valid = np.concatenate([seqs[i] for i in train_idx], axis=0)  # -> (sum L_i, C)
        loc = valid.mean(0)
        scale = valid.std(0)
        scale = np.where(scale > 1e-8 * np.maximum(np.abs(loc), 1.0), scale, 1.0)

        if self.patch_size == "auto":
            # About 32 LSTM steps for a typical training sequence: long, smooth series train
            # reliably, short ones (<= 32 steps) are read step by step.
            median_length = float(np.median([len(seqs[i]) for i in train_idx]))
            self.patch_size_ = max(1, math.ceil(median_length / _AUTO_PATCH_STEPS))
        else:
            self.patch_size_ = int(self.patch_size)
        n_outputs = 1 if self.task == "binary" else len(classes)
        config = ClassifierConfig(
            n_channels=self.n_channels_,
            n_outputs=n_outputs,
            hidden_size=int(self.hidden_size),
            num_layers=int(self.num_layers),
            bidirectional=bool(self.bidirectional),
            dropout=float(self.dropout),
            head_layers=int(self.head_layers),
            head_hidden_size=int(self.head_hidden_size),
            patch_size=self.patch_size_,
        )
        with torch.random.fork_rng(devices=[]):
            # The initial weights come from the seed, without touching the user's global RNG.
            torch.manual_seed(self.seed)
            net = LSTMClassifierNet(config)
        net.input_loc.copy_(torch.from_numpy(loc))
        net.input_scale.copy_(torch.from_numpy(scale.astype(np.float32)))
        net.to(device)

        values = torch.from_numpy(values_np).to(device)  # (N, L_max, C)
        lengths = torch.from_numpy(lengths_np)  # (N,) stays on the CPU for packing
        target_dtype = torch.long if self.task == "multiclass" else torch.float32
        targets = torch.from_numpy(targets_np).to(device=device, dtype=target_dtype)
        class_w = None if class_w_np is None else torch.from_numpy(class_w_np).to(device)
        loss_of = self._loss_fn(class_w)

        train_t = torch.from_numpy(train_idx).to(device)
        n_train = len(train_idx)
        batch_size = min(int(self.batch_size), n_train)
        steps_per_epoch = math.ceil(n_train / batch_size)
        max_steps = int(self.max_steps or self.max_epochs * steps_per_epoch)
        order: dict[str, Any] = {"perm": None, "pos": n_train}

        def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
            # Epochs: a fresh permutation of the training sequences, drawn with the loop's
            # generator, then consecutive slices of it.
            if order["pos"] >= n_train:
                order["perm"] = train_t[
                    torch.randperm(n_train, generator=generator, device=generator.device).to(device)
                ]
                order["pos"] = 0
            idx = order["perm"][order["pos"] : order["pos"] + batch_size]
            order["pos"] += batch_size
            batch_lengths = lengths[idx.cpu()]
            # Trim to this batch's longest sequence; packing ignores the rest anyway.
            past = values[idx, : int(batch_lengths.max())]  # -> (B, L_b, C)
            return loss_of(module(past, batch_lengths), targets[idx])

        val_loss: Callable[[nn.Module], torch.Tensor] | None = None
        if len(val_idx) > 0:
            val_values = values[torch.from_numpy(val_idx).to(device)]
            val_lengths = lengths[torch.from_numpy(val_idx)]
            val_targets = targets[torch.from_numpy(val_idx).to(device)]

            def _val_loss(module: nn.Module) -> torch.Tensor:
                logits = self._forward_chunks(module, val_values, val_lengths, "logits")
                return loss_of(logits, val_targets)

            val_loss = _val_loss

        # One evaluation per epoch (patience counts epochs), spaced out on small data sets
        # so that `patience` evaluations span at least a third of the run.
        eval_every = steps_per_epoch
        if self.patience is not None:
            eval_every = max(eval_every, math.ceil(max_steps / 3 / int(self.patience)))
        train_config = TrainingConfig(
            max_steps=max_steps,
            batch_size=batch_size,
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            warmup_steps=min(50, max_steps // 10),
            lr_schedule="cosine",
            eval_every=eval_every,
            patience=self.patience if val_loss is not None else None,
            progress=self.progress,
            seed=int(self.seed),
        )
        start = time.perf_counter()
        result: TrainingResult = train(
            net, train_loss, val_loss=val_loss, config=train_config, device=device
        )
        self.fit_time_s_ = time.perf_counter() - start
        net.eval()
        self.net_ = net
        self.training_result_ = result
        self.n_train_, self.n_val_ = n_train, len(val_idx)

        n_thresholds = 0 if self.task == "multiclass" else n_outputs
        thresholds = np.full(n_thresholds, 0.5)
        if self.tune_thresholds and len(val_idx) > 0:
            with torch.no_grad():
                logits = self._forward_chunks(net, val_values, val_lengths, "logits")
            prob = torch.sigmoid(logits.float()).cpu().numpy()  # -> (N_val, K_out)
            truth = targets_np[val_idx].reshape(len(val_idx), n_thresholds)  # -> (N_val, K_out)
            thresholds = np.array(
                [_best_f1_threshold(prob[:, k], truth[:, k]) for k in range(n_thresholds)]
            )
        self.thresholds_ = thresholds
        return self

    # ---- inference --------------------------------------------------------------------------

    def _forward_chunks(
        self,
        module: nn.Module,
        values: torch.Tensor,
        lengths: torch.Tensor,
        what: Literal["logits", "embedding"],
    ) -> torch.Tensor:
        assert isinstance(module, LSTMClassifierNet)
        outs = []
        for start in range(0, values.shape[0], _PREDICT_CHUNK):
            chunk_lengths = lengths[start : start + _PREDICT_CHUNK]
            chunk = values[start : start + _PREDICT_CHUNK, : int(chunk_lengths.max())]
            fn = module.encode if what == "embedding" else module
            outs.append(fn(chunk, chunk_lengths))
        return torch.cat(outs)

    def _run(self, X: Any, what: Literal["logits", "embedding"]) -> np.ndarray:
        self._check_fitted()
        seqs = prepare_sequences(X, self.n_channels_)
        values_np, lengths_np = _pad(seqs)
        values = torch.from_numpy(values_np).to(self.device_)
        lengths = torch.from_numpy(lengths_np)
        self.net_.eval()
        with torch.no_grad():
            out = self._forward_chunks(self.net_, values, lengths, what)
        return out.float().cpu().numpy()

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw logits: (N,) for binary, (N, K) otherwise."""
        logits = self._run(X, "logits")
        return logits[:, 0] if self.task == "binary" else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, 2) for binary (columns follow `classes_`), (N, K) for multiclass / multilabel."""
        logits = torch.from_numpy(self._run(X, "logits"))
        if self.task == "multiclass":
            return torch.softmax(logits, dim=-1).numpy()
        prob = torch.sigmoid(logits).numpy()
        if self.task == "binary":
            return np.concatenate([1.0 - prob, prob], axis=1)
        return prob

    def predict(self, X: Any) -> Any:
        """Labels: an array of `classes_` values, or for multilabel the form `y` had in fit."""
        prob = self.predict_proba(X)
        if self.task == "multiclass":
            return self.classes_[prob.argmax(1)]
        if self.task == "binary":
            return self.classes_[(prob[:, 1] >= self.thresholds_[0]).astype(np.int64)]
        hits = prob >= self.thresholds_[None, :]  # -> (N, K)
        if self.label_form_ == "matrix":
            return hits.astype(np.int64)
        rows = [self.classes_[h].tolist() for h in hits]
        if self.label_form_ == "sets":
            return [set(r) for r in rows]
        return rows

    def encode(self, X: Any) -> np.ndarray:
        """Fixed-length embeddings (N, E): the encoder state at each sequence's last step."""
        return self._run(X, "embedding")

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (binary / multiclass) or subset accuracy (multilabel) on `X`, `y`."""
        self._check_fitted()
        n = len(prepare_sequences(X, self.n_channels_))
        pred = self.predict(X)
        if self.task == "multilabel":
            _, truth, _ = _encode_multilabel(y, n, self.classes_, self.label_form_)
            _, got, _ = _encode_multilabel(pred, n, self.classes_, self.label_form_)
            return float(np.mean(np.all(truth == got, axis=1)))
        _, truth_codes = _encode_single(y, n, self.task, self.classes_)
        _, pred_codes = _encode_single(pred, n, self.task, self.classes_)
        return float(np.mean(truth_codes == pred_codes))

    # ---- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a folder with `config.json` and `model.safetensors`, as the forecasters do.

        No pickle: `load` rebuilds the estimator from JSON and tensors only. The folder is
        written under a temporary name and moved into place, so a crash never leaves half a
        model.
        """
        self._check_fitted()
        params = self.get_params()
        params["device"] = str(params["device"])
        if isinstance(params["class_weight"], Mapping):
            # JSON keys are strings; the weights only shaped training, they are kept as a record.
            params["class_weight"] = {str(k): v for k, v in params["class_weight"].items()}
        result = self.training_result_
        config = {
            "format_version": _FORMAT_VERSION,
            "class": type(self).__name__,
            "params": params,
            "net": self.net_.config.to_dict(),
            "classes": self.classes_.tolist(),
            "classes_kind": _LABEL_KINDS[self.classes_.dtype.kind],
            "label_form": getattr(self, "label_form_", None),
            "thresholds": self.thresholds_.tolist(),
            "n_channels": self.n_channels_,
            "training": {
                "best_step": result.best_step,
                "best_val_loss": result.best_val_loss,
                "stopped_reason": result.stopped_reason,
                "history": result.history,
                "n_train": self.n_train_,
                "n_val": self.n_val_,
                "fit_time_s": self.fit_time_s_,
            },
        }
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.net_.state_dict().items()}
        write_model_folder(path, tensors, config)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], device: str | torch.device | None = None
    ) -> SequenceClassifier:
        """Rebuild a classifier written by `save(path)`; it predicts exactly as the saved one.

        `device=None` uses the saved `device` argument, or the CPU where that is unavailable.
        """
        folder = Path(path)
        config, tensors = read_model_folder(folder, "SequenceClassifier")
        if config.get("format_version") != _FORMAT_VERSION or config.get("class") != cls.__name__:
            msg = (
                f"{str(folder)!r} holds format {config.get('format_version')!r} of class "
                f"{config.get('class')!r}; this version reads {cls.__name__} format "
                f"{_FORMAT_VERSION} only."
            )
            raise InputError(msg)
        params = dict(config["params"])
        task = params.pop("task")
        model = cls(task, **params)
        if device is None:
            try:
                model.device_ = resolve_device(params["device"])
            except InputError:  # saved on a GPU, loaded where there is none
                model.device_ = torch.device("cpu")
        else:
            model.device_ = resolve_device(device)
        dtype = {"str": str, "int": np.int64, "bool": bool, "float": np.float64}
        model.classes_ = np.array(config["classes"], dtype=dtype[config["classes_kind"]])
        if config["label_form"] is not None:
            model.label_form_ = config["label_form"]
        model.thresholds_ = np.array(config["thresholds"], dtype=np.float64)
        model.n_channels_ = int(config["n_channels"])
        training = config["training"]
        model.training_result_ = TrainingResult(
            history=training["history"],
            best_step=training["best_step"],
            best_val_loss=training["best_val_loss"],
            stopped_reason=training["stopped_reason"],
        )
        model.n_train_, model.n_val_ = training["n_train"], training["n_val"]
        model.fit_time_s_ = training["fit_time_s"]
        net = LSTMClassifierNet(ClassifierConfig(**config["net"]))
        model.patch_size_ = net.config.patch_size
        net.load_state_dict(tensors)
        model.net_ = net.to(model.device_).eval()
        return model
