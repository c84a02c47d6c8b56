"""SequenceClassifier: padding invariance, the three tasks on real data, persistence, bad input.

Real data come from `tsforecast.datasets` (the shipped UCR/UEA files). Models are small and
trained for few epochs so that the default run stays fast on two shared cores.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from tsforecast import datasets
from tsforecast.errors import InputError, NotFittedError
from tsforecast.estimators.base import FORMAT_VERSION
from tsforecast.estimators.classifier import SequenceClassifier
from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.sequences import prepare_sequences


@pytest.fixture(scope="module")
def vowels() -> Any:
    return datasets.load("japanese_vowels")


@pytest.fixture(scope="module")
def motions() -> Any:
    return datasets.load("basic_motions")


@pytest.fixture(scope="module")
def italy() -> Any:
    return datasets.load("italy_power_demand")


# BasicMotions activities described by three attributes; each recording gets the attributes of
# its activity as its label set ("Standing" gets none). A real multi-label target whose labels
# overlap across classes, so one-logit-per-label independence is exercised.
_ATTRIBUTES = {
    "Standing": set(),
    "Walking": {"moving", "locomotion"},
    "Running": {"moving", "locomotion", "fast"},
    "Badminton": {"moving", "fast"},
}


def _attribute_sets(y: np.ndarray) -> list[set[str]]:
    return [set(_ATTRIBUTES[label]) for label in y]


@pytest.fixture(scope="module")
def vowels_model(vowels: Any) -> SequenceClassifier:
    """A barely trained bidirectional model: enough for shape and invariance checks."""
    return SequenceClassifier(
        "multiclass", hidden_size=16, bidirectional=True, num_layers=2, max_steps=3, device="cpu"
    ).fit(vowels.X_train[:60], vowels.y_train[:60])


# ------------------------------------------------------------------------------ padding


def test_prediction_is_the_same_alone_and_in_any_batch(
    vowels: Any, vowels_model: SequenceClassifier
) -> None:
    X = vowels.X_test
    lengths = np.array([len(x) for x in X])
    short = X[int(np.argmin(lengths))]
    longer = [X[i] for i in np.argsort(lengths)[-4:]]
    assert all(len(x) > len(short) for x in longer)
    alone = vowels_model.predict_proba([short])[0]
    alone_embedding = vowels_model.encode([short])[0]
    rng = np.random.default_rng(0)
    for _ in range(4):
        batch = [short, *longer]
        order = rng.permutation(len(batch))
        shuffled = [batch[i] for i in order]
        at = int(np.flatnonzero(order == 0)[0])
        np.testing.assert_allclose(vowels_model.predict_proba(shuffled)[at], alone, atol=1e-6)
        np.testing.assert_allclose(vowels_model.encode(shuffled)[at], alone_embedding, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_embedding_is_the_state_at_the_last_valid_step(bidirectional: bool) -> None:
    torch.manual_seed(0)
    config = ClassifierConfig(
        n_channels=3, n_outputs=2, hidden_size=8, num_layers=2, bidirectional=bidirectional
    )
    net = LSTMClassifierNet(config).eval()
    short = torch.randn(1, 5, 3)
    padded = torch.cat([short, torch.full((1, 7, 3), 1e3)], dim=1)  # garbage after the end
    other = torch.randn(1, 12, 3)
    with torch.no_grad():
        alone = net.encode(short, torch.tensor([5]))
        batch = net.encode(torch.cat([other, padded]), torch.tensor([12, 5]))
        # The LSTM run on the unpadded sequence by hand: the last layer's final states.
        _, (h_n, _) = net.lstm((short - net.input_loc) / net.input_scale)
    expected = torch.cat([h_n[-2], h_n[-1]], -1) if bidirectional else h_n[-1]
    assert alone.shape == (1, config.embedding_size)
    torch.testing.assert_close(alone, expected)
    torch.testing.assert_close(batch[1:], alone, atol=1e-6, rtol=1e-5)


def test_patches_never_mix_padding_into_a_sequence() -> None:
    # Patches of 3 steps; the short sequence's last patch holds 2 valid steps and one that the
    # padding fills (here with 1e3): the module must blank it the same way in every batch.
    torch.manual_seed(0)
    config = ClassifierConfig(
        n_channels=2, n_outputs=3, hidden_size=8, patch_size=3, bidirectional=True
    )
    net = LSTMClassifierNet(config).eval()
    short = torch.randn(1, 8, 2)
    other = torch.randn(2, 13, 2)
    padded = torch.cat([short, torch.full((1, 5, 2), 1e3)], dim=1)
    with torch.no_grad():
        alone = net(short, torch.tensor([8]))
        in_batch = net(torch.cat([other[:1], padded, other[1:]]), torch.tensor([13, 8, 13]))
    torch.testing.assert_close(in_batch[1:2], alone, atol=1e-6, rtol=1e-5)


def test_one_array_and_a_list_give_the_same_predictions(
    vowels: Any, vowels_model: SequenceClassifier
) -> None:
    equal = [x[:7] for x in vowels.X_test[:10]]
    from_list = vowels_model.predict_proba(equal)
    from_array = vowels_model.predict_proba(np.stack(equal))  # (N, L, C)
    np.testing.assert_allclose(from_array, from_list, atol=1e-6)


# ------------------------------------------------------------------------------ tasks


def test_binary_learns_italy_power_demand(italy: Any) -> None:
    model = SequenceClassifier("binary", hidden_size=32, max_epochs=150, device="cpu")
    model.fit(italy.X_train, italy.y_train)
    proba = model.predict_proba(italy.X_test)
    assert proba.shape == (len(italy.X_test), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    # Column 1 is the sigmoid of the single logit.
    logit = model.decision_function(italy.X_test)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-logit)), atol=1e-5)
    pred = model.predict(italy.X_test)
    assert pred.dtype == italy.y_train.dtype and set(pred) <= set(model.classes_)
    accuracy = float(np.mean(pred == italy.y_test))
    assert accuracy >= 0.90, accuracy  # 1-NN Euclidean: 0.955; majority class: 0.50
    assert model.score(italy.X_test, italy.y_test) == pytest.approx(accuracy)


def test_multiclass_learns_basic_motions_with_int_labels(motions: Any) -> None:
    names = np.array(sorted(set(motions.y_train)))
    y_train = np.searchsorted(names, motions.y_train) + 10  # ints 10..13 must come back as ints
    y_test = np.searchsorted(names, motions.y_test) + 10
    # 40 recordings: the whole training set for a fixed budget (a 20 % validation split of 8
    # recordings is too small to stop on); patch_size="auto" reads patches of 4 steps.
    model = SequenceClassifier(
        "multiclass", max_epochs=200, patience=None, validation_fraction=0.0, device="cpu"
    )
    model.fit(motions.X_train, y_train)
    proba = model.predict_proba(motions.X_test)
    assert proba.shape == (40, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    pred = model.predict(motions.X_test)
    assert pred.dtype.kind == "i" and set(pred.tolist()) <= {10, 11, 12, 13}
    accuracy = float(np.mean(pred == y_test))
    assert accuracy >= 0.85, accuracy  # 4 balanced classes: chance 0.25


def test_multilabel_learns_basic_motions_attributes(motions: Any) -> None:
    y_train = _attribute_sets(motions.y_train)
    y_test = _attribute_sets(motions.y_test)
    model = SequenceClassifier(
        "multilabel", max_epochs=200, patience=None, validation_fraction=0.0, device="cpu"
    )
    model.fit(motions.X_train, y_train)
    assert model.classes_.tolist() == ["fast", "locomotion", "moving"]
    pred = model.predict(motions.X_test)
    assert isinstance(pred, list) and all(isinstance(p, set) for p in pred)  # form of `y`
    subset_accuracy = float(np.mean([p == t for p, t in zip(pred, y_test, strict=True)]))
    assert subset_accuracy >= 0.85, subset_accuracy
    assert model.score(motions.X_test, y_test) == pytest.approx(subset_accuracy)
    # Independent outputs: each probability is the sigmoid of its own logit, rows do not sum
    # to one, and empty as well as multi-label predictions occur.
    proba = model.predict_proba(motions.X_test)
    logits = model.decision_function(motions.X_test)
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-logits)), atol=1e-5)
    assert {len(p) for p in pred} >= {0, 2, 3}
    # The matrix form gives the matrix back.
    matrix = np.array([[label in s for label in model.classes_] for s in y_train], dtype=int)
    as_matrix = SequenceClassifier("multilabel", hidden_size=8, max_steps=2, device="cpu")
    out = as_matrix.fit(motions.X_train, matrix).predict(motions.X_test)
    assert isinstance(out, np.ndarray) and out.shape == (40, 3) and set(np.unique(out)) <= {0, 1}


def test_multilabel_thresholds_are_tuned_per_label_and_used(motions: Any) -> None:
    model = SequenceClassifier(
        "multilabel",
        hidden_size=8,
        max_epochs=5,
        tune_thresholds=True,
        validation_fraction=0.3,
        device="cpu",
    )
    model.fit(motions.X_train, _attribute_sets(motions.y_train))
    assert model.thresholds_.shape == (3,)
    assert np.all((model.thresholds_ > 0) & (model.thresholds_ < 1))
    model.thresholds_ = np.zeros(3)
    assert all(p == {"fast", "locomotion", "moving"} for p in model.predict(motions.X_test[:5]))
    model.thresholds_ = np.full(3, 1.01)
    assert all(p == set() for p in model.predict(motions.X_test[:5]))


def test_balanced_class_weight_raises_minority_recall(italy: Any) -> None:
    # ItalyPowerDemand with the second class cut to 6 of its 33 training examples.
    y = italy.y_train
    keep = np.concatenate([np.flatnonzero(y == "1"), np.flatnonzero(y == "2")[:6]])
    X = [italy.X_train[i] for i in keep]
    kwargs: dict[str, Any] = {
        "hidden_size": 16,
        "max_epochs": 40,
        "validation_fraction": 0.0,
        "patience": None,
        "device": "cpu",
    }
    recall = {}
    for weight in (None, "balanced"):
        model = SequenceClassifier("binary", class_weight=weight, **kwargs).fit(X, y[keep])
        pred = model.predict(italy.X_test)
        recall[weight] = float(np.mean(pred[italy.y_test == "2"] == "2"))
    assert recall["balanced"] > recall[None] + 0.05, recall


# ------------------------------------------------------------------------------ contract


def test_same_seed_same_model_and_encode_shape(vowels: Any) -> None:
    X, y = vowels.X_train[:80], vowels.y_train[:80]
    kwargs: dict[str, Any] = {
        "hidden_size": 12,
        "dropout": 0.2,
        "max_steps": 6,
        "bidirectional": True,
        "device": "cpu",
    }
    a = SequenceClassifier("multiclass", seed=3, **kwargs).fit(X, y)
    b = SequenceClassifier("multiclass", seed=3, **kwargs).fit(X, y)
    c = SequenceClassifier("multiclass", seed=4, **kwargs).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    assert a.encode(X).shape == (80, 24)  # 2 directions x hidden 12


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_save_load_round_trip(task: str, tmp_path: Any, motions: Any) -> None:
    X = motions.X_train
    if task == "binary":
        y: Any = motions.y_train == "Standing"  # bool labels come back as bools
    elif task == "multiclass":
        y = motions.y_train
    else:
        y = _attribute_sets(motions.y_train)
    model = SequenceClassifier(task, hidden_size=8, head_layers=2, max_steps=3, device="cpu")  # type: ignore[arg-type]
    model.fit(X, y)
    model.save(tmp_path / "clf")
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    loaded = SequenceClassifier.load(tmp_path / "clf")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.encode(X), model.encode(X))
    before, after = model.predict(X), loaded.predict(X)
    if task == "multilabel":
        assert after == before
    else:
        np.testing.assert_array_equal(after, before)
        assert after.dtype == before.dtype
    assert loaded.get_params() == {**model.get_params(), "device": "cpu"}


def test_load_rejects_a_folder_that_is_not_a_classifier(tmp_path: Any) -> None:
    with pytest.raises(InputError, match="not a saved SequenceClassifier"):
        SequenceClassifier.load(tmp_path)


def test_load_refuses_another_format_version_and_says_what_to_do(
    tmp_path: Any, motions: Any
) -> None:
    model = SequenceClassifier("multiclass", hidden_size=4, max_steps=1, device="cpu")
    model.fit(motions.X_train, motions.y_train).save(tmp_path / "clf")
    config_file = tmp_path / "clf" / "config.json"
    config = json.loads(config_file.read_text())
    assert config["format_version"] == FORMAT_VERSION
    config_file.write_text(json.dumps({**config, "format_version": FORMAT_VERSION - 1}))
    with pytest.raises(
        InputError, match=rf"format version {FORMAT_VERSION - 1}.*reads format {FORMAT_VERSION}"
    ):
        SequenceClassifier.load(tmp_path / "clf")


def test_load_refuses_a_folder_of_another_class(tmp_path: Any, motions: Any) -> None:
    model = SequenceClassifier("multiclass", hidden_size=4, max_steps=1, device="cpu")
    model.fit(motions.X_train, motions.y_train).save(tmp_path / "clf")
    config_file = tmp_path / "clf" / "config.json"
    config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "class": "X"}))
    with pytest.raises(InputError, match="holds a saved 'X', not a SequenceClassifier"):
        SequenceClassifier.load(tmp_path / "clf")


def test_the_forecaster_loader_points_a_saved_classifier_to_its_own_load(
    tmp_path: Any, motions: Any
) -> None:
    from tsforecast import models

    model = SequenceClassifier("multiclass", hidden_size=4, max_steps=1, device="cpu")
    model.fit(motions.X_train, motions.y_train).save(tmp_path / "clf")
    with pytest.raises(InputError, match=r"not a forecaster.*tsf\.SequenceClassifier\.load\("):
        models.load(tmp_path / "clf")


# ------------------------------------------------------------------------------ parameters


def test_task_is_the_one_positional_argument() -> None:
    assert SequenceClassifier("binary").task == "binary"
    assert SequenceClassifier(task="multilabel").task == "multilabel"
    assert SequenceClassifier().task == "multiclass"
    with pytest.raises(TypeError):
        SequenceClassifier("binary", 32)  # type: ignore[misc]


def test_get_params_lists_every_constructor_argument_and_repr_shows_the_changed_ones() -> None:
    model = SequenceClassifier("binary", hidden_size=32)
    params = model.get_params()
    assert list(params)[:3] == ["task", "hidden_size", "num_layers"]
    assert params["task"] == "binary" and params["hidden_size"] == 32
    assert repr(model) == "SequenceClassifier(task='binary', hidden_size=32)"


def test_set_params_changes_parameters_and_returns_the_estimator() -> None:
    model = SequenceClassifier("binary")
    assert model.set_params(hidden_size=8, bidirectional=True) is model
    assert model.hidden_size == 8 and model.bidirectional is True


def test_set_params_refuses_an_unknown_name_with_the_closest_known_one() -> None:
    model = SequenceClassifier("binary")
    with pytest.raises(
        InputError, match="has no parameter 'hidden_sise'; did you mean 'hidden_size'"
    ):
        model.set_params(hidden_sise=8)
    assert model.hidden_size == 64


def test_set_params_refuses_a_bad_value_and_keeps_the_old_one() -> None:
    model = SequenceClassifier("binary")
    with pytest.raises(InputError, match=r"`task` must be one of .* did you mean 'multiclass'"):
        model.set_params(task="multi_class")
    with pytest.raises(InputError, match="`learning_rate` must be a positive number"):
        model.set_params(learning_rate=0.0)
    assert model.task == "binary" and model.learning_rate == 3e-3


def test_clone_is_unfitted_with_the_same_parameters(motions: Any) -> None:
    model = SequenceClassifier("multiclass", hidden_size=4, class_weight={"Walking": 2.0})
    model.set_params(max_steps=1, device="cpu").fit(motions.X_train, motions.y_train)
    copy = model.clone()
    assert type(copy) is SequenceClassifier
    assert copy.get_params() == model.get_params()
    assert copy.class_weight is not model.class_weight  # a deep copy: no shared state
    assert model.is_fitted and not copy.is_fitted
    with pytest.raises(NotFittedError):
        copy.predict(motions.X_test)


# ------------------------------------------------------------------------------ bad input


def _seqs(n: int = 6, length: int = 5, channels: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=(length + i, channels)).astype(np.float32) for i in range(n)]


def test_predict_before_fit() -> None:
    model = SequenceClassifier("binary")
    for method in (model.predict, model.predict_proba, model.encode):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(_seqs())
    with pytest.raises(NotFittedError):
        model.save("unused")


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (
            [np.zeros((4, 2)), np.zeros((5, 3))],
            "sequence 1 of `X` has 3 channels but sequence 0 has 2",
        ),
        ([np.zeros((4, 2)), np.zeros((0, 2))], "sequence 1 of `X` is empty"),
        (
            [np.zeros((4, 2)), np.array([[0.0, 1.0], [np.nan, 2.0]])],
            r"sequence 1 .*NaN or inf.* step 1, channel 0 \(value nan\)",
        ),
        ([np.array([[np.inf, 1.0]])], "sequence 0 .* non-finite"),
        ([np.full((2, 1), 1e39)], "non-finite"),  # overflows float32
        (np.zeros((4, 10)), "must be 3-D"),
        ([], "no sequences"),
        ([np.zeros((2, 2, 2))], "must be 2-D"),
        ([["a", "b"]], "not a numeric array"),
        ("abc", "must be a list of arrays"),
    ],
)
def test_bad_sequences_are_refused(X: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        prepare_sequences(X)


def test_bad_sequences_are_refused_by_fit_and_predict() -> None:
    X = _seqs()
    y = np.array(["a", "b"] * 3)
    bad = [*X[:-1], np.full((3, 2), np.nan)]
    with pytest.raises(InputError, match="sequence 5"):
        SequenceClassifier("binary").fit(bad, y)
    model = SequenceClassifier("binary", hidden_size=4, max_steps=1, device="cpu").fit(X, y)
    with pytest.raises(InputError, match="3 channels but the model was fitted on 2"):
        model.predict([np.zeros((4, 3))])
    with pytest.raises(InputError, match="empty"):
        model.predict_proba([np.zeros((0, 2))])


@pytest.mark.parametrize(
    ("task", "y", "match"),
    [
        ("binary", ["a", "b", "c", "a", "b", "c"], "exactly two classes.*use task='multiclass'"),
        ("binary", ["a"] * 6, "single class"),
        ("multiclass", np.eye(6, 3), r"must be 1-D .* got shape \(6, 3\).*task='multilabel'"),
        ("multiclass", ["a", "b", "a"], "`y` has 3 labels but `X` has 6 sequences"),
        ("multilabel", ["a", "b", "a", "b", "a", "b"], "element 0 is 'a'"),
        ("multilabel", np.array(["a", "b", "a", "b", "a", "b"]), "0/1 matrix"),
        ("multilabel", np.full((6, 2), 2), "only 0 and 1"),
        ("multilabel", [set()] * 6, "every label set in `y` is empty"),
        ("multiclass", [1j, 1, 2, 1, 2, 1], "strings, integers"),
    ],
)
def test_labels_of_the_wrong_shape_for_the_task(task: str, y: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        SequenceClassifier(task, device="cpu").fit(_seqs(), y)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("y", "missing"),
    [
        (["cat", "dog", "emu", "cat", None, "dog"], "None"),
        (["cat", "dog", "emu", "cat", np.nan, "dog"], "nan"),
        (pd.Series(["cat", "dog", "emu", "cat", pd.NA, "dog"], dtype=object), "<NA>"),
        ([1, 2, 3, 1, None, 2], "None"),
    ],
)
def test_a_missing_label_is_refused_by_value_and_position(y: Any, missing: str) -> None:
    # the message quoted the first valid labels ("got dtype object (e.g. ['cat', 'dog',
    # 'emu'])"), not the missing one
    with pytest.raises(InputError) as info:
        SequenceClassifier("multiclass", device="cpu").fit(_seqs(), y)
    message = str(info.value)
    assert f"labels in `y` include a missing label ({missing}) at position 4" in message
    assert "drop the unlabelled sequences or give them a label" in message
    assert "got dtype object" not in message


def test_missing_float_labels_are_refused_with_the_first_position() -> None:
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, np.nan])
    with pytest.raises(InputError, match=r"contain NaN or inf \(first: nan at position 5\)"):
        SequenceClassifier("binary", device="cpu").fit(_seqs(), y)


def test_a_fit_that_fails_half_way_leaves_no_fitted_model() -> None:
    model = SequenceClassifier("binary", class_weight={"zebra": 2.0}, max_steps=1, device="cpu")
    with pytest.raises(InputError, match="names label 'zebra'"):
        model.fit(_seqs(), ["a", "b"] * 3)
    assert not model.is_fitted
    with pytest.raises(NotFittedError):
        model.predict(_seqs())


def test_unknown_labels_when_scoring() -> None:
    X = _seqs()
    model = SequenceClassifier("multiclass", hidden_size=4, max_steps=1, device="cpu")
    model.fit(X, ["cat", "dog", "cow"] * 2)
    with pytest.raises(InputError, match=r"not seen in fit: \['eel'\]"):
        model.score(X, ["cat", "dog", "eel"] * 2)
    multi = SequenceClassifier("multilabel", hidden_size=4, max_steps=1, device="cpu")
    multi.fit(X, [{"x"}, {"y"}, {"x", "y"}] * 2)
    with pytest.raises(InputError, match="not seen in fit"):
        multi.score(X, [{"x"}, {"z"}, set()] * 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"task": "regression"}, "`task` must be one of"),
        ({"hidden_size": 0}, "`hidden_size` must be a positive integer"),
        ({"dropout": 1.0}, "`dropout` must be a number in"),
        ({"patience": 0}, "`patience` must be a positive integer or None"),
        ({"patch_size": 0}, "`patch_size` must be 'auto' or a positive integer"),
        ({"validation_fraction": 1.5}, "`validation_fraction`"),
        ({"task": "multiclass", "tune_thresholds": True}, "binary' or 'multilabel'"),
        ({"tune_thresholds": True, "validation_fraction": 0.0}, "needs a validation split"),
        ({"class_weight": "auto"}, "`class_weight` must be"),
        ({"device": "tpu"}, "`device` must be 'auto', 'cpu'"),
        ({"class_weight": {"zebra": 2.0}}, "names label 'zebra'"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    params = {"task": "binary", "max_steps": 1, "device": "cpu", **kwargs}
    with pytest.raises(InputError, match=match):
        SequenceClassifier(**params).fit(_seqs(), ["a", "b"] * 3)


# ------------------------------------------------------------------------------ slow: accuracy
# The configuration of experiments/benchmarks/classification.py: the whole (small) training set,
# a fixed budget of 300 steps, seed 0.
_BENCH: dict[str, Any] = {
    "max_steps": 300,
    "validation_fraction": 0.0,
    "patience": None,
    "device": "cpu",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "task", "bidirectional", "floor"),
    [
        ("gunpoint", "binary", True, 0.913),  # published 1-NN Euclidean accuracy
        ("italy_power_demand", "binary", True, 0.955),  # published 1-NN Euclidean accuracy
        ("basic_motions", "multiclass", False, 0.90),
        ("japanese_vowels", "multiclass", True, 0.95),  # variable length 7-29
    ],
)
def test_accuracy_floor_on_the_standard_split(
    name: str, task: str, bidirectional: bool, floor: float
) -> None:
    data = datasets.load(name)
    model = SequenceClassifier(task, bidirectional=bidirectional, **_BENCH)  # type: ignore[arg-type]
    model.fit(data.X_train, data.y_train)
    accuracy = model.score(data.X_test, data.y_test)
    assert accuracy >= floor, accuracy


def _speaker_mixtures(data: Any, part: str, n: int, seed: int) -> tuple[list[Any], list[set]]:
    # 1-3 utterances of distinct speakers concatenated in time; labels: the speakers present.
    X, y = (data.X_train, data.y_train) if part == "train" else (data.X_test, data.y_test)
    rng = np.random.default_rng(seed)
    speakers = np.unique(y)
    out_X, out_y = [], []
    for _ in range(n):
        chosen = rng.choice(speakers, size=int(rng.integers(1, 4)), replace=False)
        out_X.append(np.concatenate([X[rng.choice(np.flatnonzero(y == s))] for s in chosen]))
        out_y.append(set(chosen.tolist()))
    return out_X, out_y


@pytest.mark.slow
def test_multilabel_learns_japanese_vowels_speaker_mixtures(vowels: Any) -> None:
    X_train, y_train = _speaker_mixtures(vowels, "train", 900, seed=1)
    X_test, y_test = _speaker_mixtures(vowels, "test", 400, seed=2)
    model = SequenceClassifier(
        "multilabel",
        bidirectional=True,
        max_epochs=100,
        patience=20,
        tune_thresholds=True,
        device="cpu",
    )
    model.fit(X_train, y_train)
    pred = model.predict(X_test)
    tp = sum(len(p & t) for p, t in zip(pred, y_test, strict=True))
    micro_f1 = 2 * tp / (sum(map(len, pred)) + sum(map(len, y_test)))
    assert micro_f1 >= 0.85, micro_f1


# ------------------------------------------------------------------------------ gpu


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda_and_load_on_cpu(tmp_path: Any, vowels: Any) -> None:
    X, y = vowels.X_train[:100], vowels.y_train[:100]
    model = SequenceClassifier("multiclass", hidden_size=16, max_steps=20, device="cuda")
    model.fit(X, y)
    assert next(model.net_.parameters()).device.type == "cuda"
    on_gpu = model.predict_proba(X)
    model.save(tmp_path / "clf")
    on_cpu = SequenceClassifier.load(tmp_path / "clf", device="cpu").predict_proba(X)
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-4)


def _signed(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(s, 1.0, (8, 1)) for s in [-2.0, 2.0] * (n // 2)]


@pytest.mark.parametrize("rows", [[[0], [1]], [[0, 1], [1, 0]]])
def test_label_lists_of_zeros_and_ones_that_read_as_a_matrix_too_are_refused(
    rows: list[list[int]],
) -> None:
    # [[0], [1]] was read as a one-label 0/1 matrix, where [[1], [2]] gives two labels
    with pytest.raises(InputError, match=r"ambiguous.*np.asarray\(y\)"):
        SequenceClassifier(task="multilabel", max_epochs=1, progress=False).fit(
            _signed(20), rows * 10
        )


def test_rows_of_zeros_and_ones_that_no_label_list_could_be_are_a_matrix() -> None:
    y = [[1, 0, 0], [0, 1, 1]] * 10  # a label list never repeats a label
    clf = SequenceClassifier(task="multilabel", max_epochs=1, progress=False).fit(_signed(20), y)
    assert clf.label_form_ == "matrix" and clf.classes_.tolist() == [0, 1, 2]


def test_labels_taken_from_a_numpy_array_are_accepted_and_come_back_as_given() -> None:
    names = np.array(["neg", "pos"])
    for y, classes in (
        (list(names[[0, 1] * 10]), ["neg", "pos"]),
        (list(np.array([False, True] * 10)), [False, True]),
        ([False, True] * 10, [False, True]),
    ):
        clf = SequenceClassifier(task="binary", max_epochs=1, progress=False).fit(_signed(20), y)
        assert clf.classes_.tolist() == classes
        assert type(clf.predict(_signed(2))[0]) is type(np.asarray(classes)[0])


def test_a_frame_of_label_columns_names_its_labels() -> None:
    y = pd.DataFrame({"rock": [0, 1] * 10, "jazz": [1, 0] * 10})
    clf = SequenceClassifier(task="multilabel", max_epochs=1, progress=False).fit(_signed(20), y)
    assert clf.classes_.tolist() == ["rock", "jazz"]


def test_a_complex_sequence_is_refused_not_cut_to_its_real_part() -> None:
    clf = SequenceClassifier(task="binary", max_epochs=1, progress=False).fit(
        _signed(20), [0, 1] * 10
    )
    with pytest.raises(InputError, match="sequence 0 of `X` is complex"):
        clf.predict([np.array([[1 + 2j]])])
