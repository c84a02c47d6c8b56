"""Labels `y` for the sequence classifier, per task: validated once, encoded, decoded.

- `encode_labels` (binary / multiclass): labels -> sorted classes (K,) and codes (N,).
- `encode_multilabel`: a 0/1 matrix (N, K) or a list of label sets / lists -> classes (K,), a
  0/1 target matrix (N, K) and the form `y` had, which `decode_labels` gives back.
- `labels_from_json`: saved classes back with their type (`LABEL_KINDS`).
- `class_weights`, `validation_split`: loss weights and the held-out part, from training labels.
- `best_f1_threshold`: a decision threshold tuned on validation scores.

Every function raises `InputError` for labels it cannot use, saying which and how to fix it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from tsforecast.errors import InputError

__all__ = [
    "LABEL_KINDS",
    "best_f1_threshold",
    "class_weights",
    "decode_labels",
    "encode_labels",
    "encode_multilabel",
    "labels_from_json",
    "validation_split",
]

# Label types that survive a JSON round trip unchanged (numpy dtype kinds).
LABEL_KINDS = {"U": "str", "i": "int", "u": "int", "b": "bool", "f": "float"}
_JSON_DTYPES: dict[str, Any] = {"str": str, "int": np.int64, "bool": bool, "float": np.float64}


def _is_missing(value: Any) -> bool:
    """None, a float NaN or a pandas missing value (NA, NaT) among object labels."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    is_float = isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
    return is_float and math.isnan(float(value))


def _check_no_missing(array: np.ndarray, what: str, in_sets: bool) -> None:
    """Refuse missing labels by value and position: with valid labels besides them, the dtype
    refusal below quoted those (e.g. ['cat', 'dog', 'emu']) and not the missing one."""
    flat = array.ravel().tolist()
    missing = [i for i, v in enumerate(flat) if _is_missing(v)]
    if not missing:
        return
    first = flat[missing[0]]
    where = "in a label set" if in_sets else f"at position {missing[0]}"
    if len(missing) > 1:
        where += f" (and {len(missing) - 1} more" + ("" if in_sets else f", at {missing[1:4]}")
        where += ")"
    msg = (
        f"{what} include a missing label ({first!r}) {where}; drop the unlabelled sequences "
        "or give them a label."
    )
    raise InputError(msg)


def _label_array(values: Any, what: str, in_sets: bool = False) -> np.ndarray:
    """1-D array of labels with a JSON-safe dtype (str, int, bool or float); `in_sets`: the
    labels of multilabel sets, flattened (a position among them names no sequence)."""
    array = np.asarray(values)
    if array.dtype.kind == "O":
        _check_no_missing(array, what, in_sets)
        # pandas and lists of mixed objects: keep the common Python type when there is one.
        # (numpy scalars too: a list built from a numpy label array holds np.str_ / np.bool_)
        kinds = {type(v) for v in array.tolist()}
        if all(issubclass(k, str) for k in kinds):
            array = array.astype(str)
        elif all(issubclass(k, (bool, np.bool_)) for k in kinds):
            array = array.astype(bool)  # before Integral: Python's bool is an int
        elif all(issubclass(k, numbers.Integral) for k in kinds):
            array = array.astype(np.int64)
        elif all(issubclass(k, numbers.Real) for k in kinds):
            array = array.astype(np.float64)
    if array.dtype.kind not in LABEL_KINDS:
        msg = (
            f"{what} must be strings, integers, booleans or floats, got dtype "
            f"{array.dtype} (e.g. {array.ravel()[:3].tolist()!r}); convert the labels first."
        )
        raise InputError(msg)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        where = "" if in_sets else f" (first: {float(array.ravel()[bad])} at position {bad})"
        msg = f"{what} contain NaN or inf{where}; drop or fill the unlabelled sequences."
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


def encode_labels(
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
    if not (rectangular and zero_one):
        return "lists"
    # Rows of 0/1 are a 0/1 matrix where some row repeats a value (no label list does);
    # otherwise ([[0], [1]], or [[0, 1], [1, 0]]) they read both ways, and a wrong guess
    # would train a different model in silence: refused, with both spellings
    if any(len(set(r)) < len(r) for r in rows):
        return "matrix"
    msg = (
        f"`y` for task='multilabel' is ambiguous: its rows (e.g. {rows[0]!r}) are lists of 0s "
        "and 1s that read as a 0/1 matrix or as label lists; pass np.asarray(y) for a 0/1 "
        "matrix (n_sequences, n_labels), or sets of labels ({0} and {1}) for label sets."
    )
    raise InputError(msg)


def encode_multilabel(
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
            # a frame's column names are its labels (polars and pandas); an array's are 0..K-1
            columns = getattr(y, "columns", None)
            classes = (
                np.arange(array.shape[1], dtype=np.int64)
                if columns is None
                else _label_array(np.array(list(columns), dtype=object), "column names of `y`")
            )
        return classes, array.astype(np.float32), "matrix"

    _check_length(len(y), n)
    sets = [list(row) for row in y]
    flat = [v for row in sets for v in row]
    if classes is None:
        if not flat:
            msg = "every label set in `y` is empty; task='multilabel' needs some positive labels."
            raise InputError(msg)
        classes = np.unique(
            _label_array(np.array(flat, dtype=object), "labels in `y`", in_sets=True)
        )
    targets = np.zeros((n, len(classes)), dtype=np.float32)
    if flat:
        labels = _label_array(np.array(flat, dtype=object), "labels in `y`", in_sets=True)
        _, codes = encode_labels(labels, len(labels), "multilabel", classes)
        row_idx = np.repeat(np.arange(n), [len(r) for r in sets])
        targets[row_idx, codes] = 1.0
    return classes, targets, got


def labels_from_json(values: list[Any], kind: str) -> np.ndarray:
    """Classes saved as a JSON list with their `LABEL_KINDS` name, back with their dtype."""
    return np.array(values, dtype=_JSON_DTYPES[kind])


def decode_labels(
    prob: np.ndarray, task: str, classes: np.ndarray, thresholds: np.ndarray, form: str | None
) -> Any:
    """Predicted labels from probabilities (`predict_proba`'s output) in the form of `y` in fit.

    multiclass: the most probable class (N,); binary: `classes[1]` where prob[:, 1] reaches
    `thresholds[0]` (N,); multilabel: every label whose probability reaches its threshold, as a
    0/1 matrix (N, K), a list of sets or a list of lists (`form`).
    """
    if task == "multiclass":
        return classes[prob.argmax(1)]
    if task == "binary":
        return classes[(prob[:, 1] >= thresholds[0]).astype(np.int64)]
    hits = prob >= thresholds[None, :]  # -> (N, K)
    if form == "matrix":
        return hits.astype(np.int64)
    rows = [classes[h].tolist() for h in hits]
    if form == "sets":
        return [set(r) for r in rows]
    return rows


# --------------------------------------------------------------------------------------------
# What `fit` derives from the training labels
# --------------------------------------------------------------------------------------------


def class_weights(
    class_weight: str | Mapping[Any, float] | None,
    targets: np.ndarray,
    classes: np.ndarray,
    multilabel: bool,
) -> np.ndarray | None:
    """Per class (K,) float32 weights; for multilabel the positive weight of each label.

    `class_weight`: None, "balanced" (inverse class frequency; for multilabel
    n_negative / n_positive per label) or {label: weight}. `targets`: codes (N,) or, for
    multilabel, the 0/1 matrix (N, K).
    """
    if class_weight is None:
        return None
    k = len(classes)
    if class_weight == "balanced":
        if multilabel:
            n_pos = targets.sum(0)
            n_neg = targets.shape[0] - n_pos
            # A label never (or always) positive in training gets no re-weighting.
            ok = (n_pos > 0) & (n_neg > 0)
            return np.where(ok, n_neg / np.maximum(n_pos, 1), 1.0).astype(np.float32)
        counts = np.bincount(targets.astype(np.int64), minlength=k)
        return (len(targets) / (k * np.maximum(counts, 1))).astype(np.float32)
    assert isinstance(class_weight, Mapping)
    weights = np.ones(k, dtype=np.float32)
    known = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
    for label, w in class_weight.items():
        key = label.item() if hasattr(label, "item") else label
        if key not in known:
            msg = (
                f"`class_weight` names label {label!r}, which is not in `y` "
                f"(classes: {classes[:20].tolist()!r})."
            )
            raise InputError(msg)
        if not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0):
            msg = f"`class_weight[{label!r}]` must be a positive number, got {w!r}."
            raise InputError(msg)
        weights[known[key]] = float(w)
    return weights


def validation_split(
    targets: np.ndarray, fraction: float, stratified: bool, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation indices (sorted); stratified by class (`targets` = codes) if asked."""
    n = targets.shape[0]
    rng = np.random.default_rng(seed)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    if not stratified:
        val = np.sort(rng.permutation(n)[: round(fraction * n)])
    else:
        parts = []
        for c in np.unique(targets):
            members = rng.permutation(np.flatnonzero(targets == c))
            # Never take a class's only example: it must stay in training.
            n_val = min(round(fraction * len(members)), len(members) - 1)
            parts.append(members[:n_val])
        val = np.sort(np.concatenate(parts))
    return np.setdiff1d(np.arange(n), val), val


def best_f1_threshold(prob: np.ndarray, target: np.ndarray) -> float:
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
