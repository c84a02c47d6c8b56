"""Sequence classification with the LSTM encoders: binary, multi-class and multi-label.

`SequenceClassifier` follows the estimator contract of `tsforecast.estimators.base`
(`get_params` / `set_params` / `clone` / `repr` from the `__init__` signature, learned state
in attributes ending in `_`, save/load as one folder with the format version). `fit` validates
`X` (`tsforecast.sequences`) and `y` (`tsforecast.labels`) once, pads the sequences into one
tensor on the training device, and trains `tsforecast.nn.classifier.LSTMClassifierNet` with the
shared loop `tsforecast.training.train`. Batches are packed, so each sequence is summarised by
the encoder state at its own last valid step and padding never changes a prediction.

Outputs per task (K = number of classes / labels):
- "binary": one logit, binary cross-entropy; `predict_proba` -> (N, 2), column 1 is the sigmoid
  (probability of `classes_[1]`), column 0 its complement.
- "multiclass": K logits, cross-entropy on the raw logits; `predict_proba` -> (N, K) softmax,
  rows sum to one; `predict` returns labels of the type given to `fit`.
- "multilabel": K independent logits, binary cross-entropy; `predict_proba` -> (N, K)
  sigmoids; `predict` thresholds each label at `thresholds_[k]` (0.5, or tuned on the validation
  split) and returns the form `y` had in `fit` (0/1 matrix, list of sets, or list of lists).
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from tsforecast.checks import check_seed, fraction, one_of, positive_int, positive_int_or_none
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError
from tsforecast.estimators.base import FORMAT_VERSION, BaseEstimator
from tsforecast.labels import (
    LABEL_KINDS,
    best_f1_threshold,
    class_weights,
    decode_labels,
    encode_labels,
    encode_multilabel,
    labels_from_json,
    validation_split,
)
from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.persistence import check_saved_format, read_model_folder, write_model_folder
from tsforecast.sequences import (
    channel_standardisation,
    epoch_batches,
    forward_chunks,
    pad_sequences,
    prepare_sequences,
)
from tsforecast.training import TrainingConfig, TrainingResult, train
from tsforecast.training.losses import classification_loss

__all__ = ["SequenceClassifier"]

Task = Literal["binary", "multiclass", "multilabel"]
_TASKS = ("binary", "multiclass", "multilabel")
# patch_size="auto" aims at this many LSTM steps for the median training sequence.
_AUTO_PATCH_STEPS = 32


class SequenceClassifier(BaseEstimator):
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

    @property
    def is_fitted(self) -> bool:
        # `net_` is set once training is done: a `fit` that failed half way (a label named in
        # `class_weight` that is not in `y`, say) leaves `classes_` behind, not a model.
        return hasattr(self, "net_")

    def _check_params(self) -> None:
        one_of("task", self.task, _TASKS)
        for name in ("hidden_size", "num_layers", "head_layers", "head_hidden_size", "batch_size"):
            positive_int(name, getattr(self, name))
        if self.max_steps is None:
            positive_int("max_epochs", self.max_epochs)
        positive_int_or_none("max_steps", self.max_steps)
        positive_int_or_none("patience", self.patience)
        fraction("dropout", self.dropout)
        frac = fraction("validation_fraction", self.validation_fraction)
        check_seed(self.seed)
        resolve_device(self.device)  # a device this machine lacks is refused before any work
        patch = self.patch_size
        if patch != "auto" and (
            isinstance(patch, bool) or not isinstance(patch, numbers.Integral) or patch < 1
        ):
            msg = f"`patch_size` must be 'auto' or a positive integer, got {patch!r}."
            raise InputError(msg)
        lr, wd = self.learning_rate, self.weight_decay
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
            msg = f"`learning_rate` must be a positive number, got {lr!r}."
            raise InputError(msg)
        if isinstance(wd, bool) or not isinstance(wd, numbers.Real) or not wd >= 0:
            msg = f"`weight_decay` must be a non-negative number, got {wd!r}."
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

    # ---- fit --------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> SequenceClassifier:
        """Train on sequences `X` and labels `y`; returns self."""
        self._check_params()
        seqs = prepare_sequences(X)
        targets_np = self._encode_targets(y, len(seqs))
        class_w_np = class_weights(
            self.class_weight, targets_np, self.classes_, self.task == "multilabel"
        )
        train_idx, val_idx = validation_split(
            targets_np,
            float(self.validation_fraction),
            stratified=self.task != "multilabel",
            seed=int(self.seed),
        )
        device = resolve_device(self.device)
        self.device_ = device
        net = self._build_net(seqs, train_idx).to(device)

        values_np, lengths_np = pad_sequences(seqs)
        values = torch.from_numpy(values_np).to(device)  # (N, L_max, C)
        lengths = torch.from_numpy(lengths_np)  # (N,) stays on the CPU for packing
        target_dtype = torch.long if self.task == "multiclass" else torch.float32
        targets = torch.from_numpy(targets_np).to(device=device, dtype=target_dtype)
        class_w = None if class_w_np is None else torch.from_numpy(class_w_np).to(device)
        loss_of = classification_loss(self.task, class_w)

        n_train = len(train_idx)
        batch_size = min(int(self.batch_size), n_train)
        # The training indices stay on the host: batches are drawn and sorted there.
        train_host = torch.from_numpy(train_idx)
        train_loss = epoch_batches(train_host, values, lengths, targets, batch_size, loss_of)
        val_loss: Callable[[nn.Module], torch.Tensor] | None = None
        val_t = torch.from_numpy(val_idx)
        val_values, val_lengths = values[val_t.to(device)], lengths[val_t]  # (N_val, L_max, C)
        if len(val_idx) > 0:
            val_targets = targets[val_t.to(device)]

            def _val_loss(module: nn.Module) -> torch.Tensor:
                logits = forward_chunks(module, val_values, val_lengths)
                return loss_of(logits, val_targets)

            val_loss = _val_loss
        config = self._training_config(n_train, batch_size, has_val=val_loss is not None)
        start = time.perf_counter()
        result = train(net, train_loss, val_loss=val_loss, config=config, device=device)
        self.fit_time_s_ = time.perf_counter() - start
        self.net_ = net.eval()
        self.training_result_ = result
        self.n_train_, self.n_val_ = n_train, len(val_idx)
        self.thresholds_ = self._thresholds(val_values, val_lengths, targets_np[val_idx])
        return self

    def _encode_targets(self, y: Any, n: int) -> np.ndarray:
        """Sets `classes_` (and `label_form_` for multilabel); codes (N,) or 0/1 matrix (N, K)."""
        if self.task == "multilabel":
            classes, targets, form = encode_multilabel(y, n, None, None)
            self.label_form_ = form
        else:
            classes, targets = encode_labels(y, n, self.task, None)
        self.classes_ = classes
        return targets

    def _build_net(self, seqs: list[np.ndarray], train_idx: np.ndarray) -> LSTMClassifierNet:
        """The network sized from the data, standardising inputs with the training part's stats."""
        self.n_channels_ = seqs[0].shape[1]
        if self.patch_size == "auto":
            # About 32 LSTM steps for a typical training sequence: long, smooth series train
            # reliably, short ones (<= 32 steps) are read step by step.
            median_length = float(np.median([len(seqs[i]) for i in train_idx]))
            self.patch_size_ = max(1, math.ceil(median_length / _AUTO_PATCH_STEPS))
        else:
            self.patch_size_ = int(self.patch_size)
        config = ClassifierConfig(
            n_channels=self.n_channels_,
            n_outputs=1 if self.task == "binary" else len(self.classes_),
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
        loc, scale = channel_standardisation(seqs, train_idx)
        net.input_loc.copy_(torch.from_numpy(loc))
        net.input_scale.copy_(torch.from_numpy(scale))
        return net

    def _training_config(self, n_train: int, batch_size: int, has_val: bool) -> TrainingConfig:
        steps_per_epoch = math.ceil(n_train / batch_size)
        max_steps = int(self.max_steps or self.max_epochs * steps_per_epoch)
        # One evaluation per epoch (patience counts epochs), spaced out on small data sets
        # so that `patience` evaluations span at least a third of the run.
        eval_every = steps_per_epoch
        if self.patience is not None:
            eval_every = max(eval_every, math.ceil(max_steps / 3 / int(self.patience)))
        return TrainingConfig(
            max_steps=max_steps,
            batch_size=batch_size,
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            warmup_steps=min(50, max_steps // 10),
            lr_schedule="cosine",
            eval_every=eval_every,
            patience=self.patience if has_val else None,
            # counted from the first epoch, as the spacing above assumes (the forecasters'
            # count from half-way was measured on forecasting only)
            patience_after=0.0,
            progress=self.progress,
            seed=int(self.seed),
        )

    def _thresholds(
        self, val_values: torch.Tensor, val_lengths: torch.Tensor, val_targets: np.ndarray
    ) -> np.ndarray:
        """One decision threshold per sigmoid output (none for multiclass): 0.5, or the cut
        with the best F1 on the validation sequences when `tune_thresholds`."""
        n_thresholds = {"multiclass": 0, "binary": 1}.get(self.task, len(self.classes_))
        n_val = len(val_targets)
        if not (self.tune_thresholds and n_val > 0):
            return np.full(n_thresholds, 0.5)
        with torch.no_grad():
            logits = forward_chunks(self.net_, val_values, val_lengths)
        prob = torch.sigmoid(logits.float()).cpu().numpy()  # -> (N_val, K_out)
        truth = val_targets.reshape(n_val, n_thresholds)  # -> (N_val, K_out)
        return np.array([best_f1_threshold(prob[:, k], truth[:, k]) for k in range(n_thresholds)])

    # ---- inference --------------------------------------------------------------------------

    def _run(self, X: Any, what: Literal["logits", "embedding"]) -> np.ndarray:
        self._check_fitted()
        seqs = prepare_sequences(X, self.n_channels_)
        values_np, lengths_np = pad_sequences(seqs)
        values = torch.from_numpy(values_np).to(self.device_)
        lengths = torch.from_numpy(lengths_np)
        self.net_.eval()
        with torch.no_grad():
            fn = self.net_.encode if what == "embedding" else self.net_
            out = forward_chunks(fn, values, lengths)
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
        form = getattr(self, "label_form_", None)
        return decode_labels(
            self.predict_proba(X), self.task, self.classes_, self.thresholds_, form
        )

    def encode(self, X: Any) -> np.ndarray:
        """Fixed-length embeddings (N, E): the encoder state at each sequence's last step."""
        return self._run(X, "embedding")

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (binary / multiclass) or subset accuracy (multilabel) on `X`, `y`."""
        self._check_fitted()
        n = len(prepare_sequences(X, self.n_channels_))
        pred = self.predict(X)
        if self.task == "multilabel":
            _, truth, _ = encode_multilabel(y, n, self.classes_, self.label_form_)
            _, got, _ = encode_multilabel(pred, n, self.classes_, self.label_form_)
            return float(np.mean(np.all(truth == got, axis=1)))
        _, truth_codes = encode_labels(y, n, self.task, self.classes_)
        _, pred_codes = encode_labels(pred, n, self.task, self.classes_)
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
        config = {
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "params": params,
            "net": self.net_.config.to_dict(),
            "classes": self.classes_.tolist(),
            "classes_kind": LABEL_KINDS[self.classes_.dtype.kind],
            "label_form": getattr(self, "label_form_", None),
            "thresholds": self.thresholds_.tolist(),
            "n_channels": self.n_channels_,
            "training": {
                **asdict(self.training_result_),
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
        check_saved_format(folder, config, cls.__name__, FORMAT_VERSION)
        params = dict(config["params"])
        model = cls(**params)
        if device is None:
            try:
                model.device_ = resolve_device(params["device"])
            except InputError:  # saved on a GPU, loaded where there is none
                model.device_ = torch.device("cpu")
        else:
            model.device_ = resolve_device(device)
        model.classes_ = labels_from_json(config["classes"], config["classes_kind"])
        if config["label_form"] is not None:
            model.label_form_ = config["label_form"]
        model.thresholds_ = np.array(config["thresholds"], dtype=np.float64)
        model.n_channels_ = int(config["n_channels"])
        training = dict(config["training"])
        model.n_train_, model.n_val_ = training.pop("n_train"), training.pop("n_val")
        model.fit_time_s_ = training.pop("fit_time_s")
        model.training_result_ = TrainingResult(**training)
        net = LSTMClassifierNet(ClassifierConfig(**config["net"]))
        model.patch_size_ = net.config.patch_size
        net.load_state_dict(tensors)
        model.net_ = net.to(model.device_).eval()
        return model
