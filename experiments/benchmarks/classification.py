"""Sequence classification benchmark: SequenceClassifier on the shipped UCR/UEA data sets.

Run (the lock keeps benchmark timings apart from other benchmarks on the machine):
    flock /tmp/tsforecast-bench.lock python experiments/benchmarks/classification.py

What it prints:
1. Test accuracy on the default train/test splits of GunPoint, ItalyPowerDemand (UCR),
   BasicMotions and JapaneseVowels (UEA, variable length 7-29), for two fixed configurations
   used unchanged on every data set ("lstm": unidirectional, "bilstm": bidirectional), each
   trained with several seeds (mean, min, max), with the training time of one fit.
   Next to it: the published 1-NN Euclidean accuracy (UCR 2018 DataSummary, via
   shared/data/published-results.md) and 1-NN Euclidean computed here, in the same run.
2. A multi-label task built from real data (JapaneseVowels speaker mixtures, see
   `speaker_mixtures`): micro / macro F1 and subset accuracy, with per-label thresholds tuned
   on the validation split and with the default 0.5.
The last line is one JSON object with every figure.

Protocol: every model trains on the whole official training set (no test data is seen in
training or selection); the configurations are fixed in CONFIGS for all data sets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch

from tsforecast import datasets
from tsforecast.estimators.classifier import SequenceClassifier

# Error rates of 1-NN Euclidean in the UCR 2018 DataSummary (published-results.md, section 6).
PUBLISHED_1NN_ED_ACCURACY = {"gunpoint": 1 - 0.0867, "italy_power_demand": 1 - 0.0447}
TASKS = {
    "gunpoint": "binary",
    "italy_power_demand": "binary",
    "basic_motions": "multiclass",
    "japanese_vowels": "multiclass",
}
# Goal per data set: a fixed accuracy, or "1nn": at or above the published 1-NN Euclidean.
GOALS: dict[str, float | str] = {
    "gunpoint": "1nn",
    "italy_power_demand": "1nn",
    "basic_motions": 0.90,
    "japanese_vowels": 0.95,
}
# The training sets hold 40-270 sequences: a validation split would be 8-54 of them, too few
# to stop on, so every run trains on the whole training set for a fixed number of steps.
COMMON: dict[str, Any] = {
    "hidden_size": 64,
    "dropout": 0.1,
    "patch_size": "auto",
    "batch_size": 64,
    "learning_rate": 3e-3,
    "max_steps": 300,
    "validation_fraction": 0.0,
    "patience": None,
    "device": "cpu",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "lstm": {**COMMON, "bidirectional": False},
    "bilstm": {**COMMON, "bidirectional": True},
}


def pad_with_last_value(X: list[np.ndarray], length: int) -> np.ndarray:
    """(N, length, C): each sequence continued with its last observation (for 1-NN ED only)."""
    out = np.empty((len(X), length, X[0].shape[1]), dtype=np.float64)
    for i, x in enumerate(X):
        out[i, : len(x)] = x
        out[i, len(x) :] = x[-1]
    return out


def one_nn_euclidean_accuracy(data: Any) -> float:
    """1-NN with the Euclidean distance over all steps and channels, on the raw values."""
    length = max(len(x) for x in (*data.X_train, *data.X_test))
    train = pad_with_last_value(data.X_train, length).reshape(len(data.X_train), -1)
    test = pad_with_last_value(data.X_test, length).reshape(len(data.X_test), -1)
    distance = (test**2).sum(1)[:, None] - 2 * test @ train.T + (train**2).sum(1)[None, :]
    predicted = data.y_train[distance.argmin(1)]
    return float(np.mean(predicted == data.y_test))


def speaker_mixtures(
    X: list[np.ndarray], y: np.ndarray, n: int, max_speakers: int, seed: int
) -> tuple[list[np.ndarray], list[set[str]]]:
    """Multi-label sequences from JapaneseVowels: "which speakers talk in this recording?".

    Each new sequence concatenates, in time, one utterance from each of 1..max_speakers
    distinct speakers (number and speakers drawn uniformly), and its label set is those
    speakers. Built separately from the training and the test utterances, so no utterance
    is shared between the two sides.
    """
    rng = np.random.default_rng(seed)
    speakers = np.unique(y)
    by_speaker = {s: np.flatnonzero(y == s) for s in speakers}
    out_X, out_y = [], []
    for _ in range(n):
        k = int(rng.integers(1, max_speakers + 1))
        chosen = rng.choice(speakers, size=k, replace=False)
        out_X.append(np.concatenate([X[rng.choice(by_speaker[s])] for s in chosen]))
        out_y.append({str(s) for s in chosen})
    return out_X, out_y


def multilabel_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Micro / macro F1 and subset accuracy of two (N, K) 0/1 matrices."""
    tp = (truth * predicted).sum(0)
    fp = ((1 - truth) * predicted).sum(0)
    fn = (truth * (1 - predicted)).sum(0)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
    macro = np.mean(2 * tp / np.maximum(2 * tp + fp + fn, 1))
    subset = np.mean(np.all(truth == predicted, axis=1))
    return {"micro_f1": float(micro), "macro_f1": float(macro), "subset_accuracy": float(subset)}


def to_matrix(sets: list[set[str]], classes: np.ndarray) -> np.ndarray:
    return np.array([[c in s for c in classes] for s in sets], dtype=np.int64)


def run_single_label(seeds: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, task in TASKS.items():
        data = datasets.load(name)
        lengths = [len(x) for x in data.X_train]
        row: dict[str, Any] = {
            "task": task,
            "n_train": len(data.X_train),
            "n_test": len(data.X_test),
            "n_channels": data.n_channels,
            "length": [min(lengths), max(lengths)],
            "n_classes": len(np.unique(data.y_train)),
            "one_nn_ed_accuracy_here": one_nn_euclidean_accuracy(data),
            "one_nn_ed_accuracy_published": PUBLISHED_1NN_ED_ACCURACY.get(name),
        }
        goal = GOALS[name]
        row["goal_accuracy"] = PUBLISHED_1NN_ED_ACCURACY[name] if goal == "1nn" else float(goal)
        for config_name, config in CONFIGS.items():
            accuracies, fit_times = [], []
            patch = None
            for seed in seeds:
                model = SequenceClassifier(task, seed=seed, **config)  # type: ignore[arg-type]
                start = time.perf_counter()
                model.fit(data.X_train, data.y_train)
                fit_times.append(time.perf_counter() - start)
                accuracies.append(model.score(data.X_test, data.y_test))
                patch = model.patch_size_
            mean = float(np.mean(accuracies))
            row[config_name] = {
                "accuracy_mean": mean,
                "accuracy_min": float(np.min(accuracies)),
                "accuracy_max": float(np.max(accuracies)),
                "accuracies": accuracies,
                "fit_time_s_mean": float(np.mean(fit_times)),
                "patch_size": patch,
                "goal_met": bool(mean >= row["goal_accuracy"] - 1e-9),
            }
            print(
                f"{name:<19} {config_name:<7} acc mean {mean:.3f} "
                f"(min {np.min(accuracies):.3f}, max {np.max(accuracies):.3f}, "
                f"{len(seeds)} seeds)  fit {np.mean(fit_times):6.1f} s  patch {patch}  "
                f"| 1-NN ED here {row['one_nn_ed_accuracy_here']:.3f}  published "
                + (
                    f"{row['one_nn_ed_accuracy_published']:.3f}"
                    if row["one_nn_ed_accuracy_published"] is not None
                    else "  n/a"
                )
                + f"  | goal >= {row['goal_accuracy']:.3f}: "
                + ("met" if row[config_name]["goal_met"] else "MISSED"),
                flush=True,
            )
        results[name] = row
    return results


def run_multilabel(seed: int, n_train: int, n_test: int) -> dict[str, Any]:
    data = datasets.load("japanese_vowels")
    X_train, y_train = speaker_mixtures(data.X_train, data.y_train, n_train, 3, seed=1)
    X_test, y_test = speaker_mixtures(data.X_test, data.y_test, n_test, 3, seed=2)
    config = {
        **CONFIGS["bilstm"],
        # Enough sequences here for a validation split: early stopping and threshold tuning.
        "max_steps": None,
        "max_epochs": 100,
        "validation_fraction": 0.2,
        "patience": 20,
        "tune_thresholds": True,
    }
    model = SequenceClassifier("multilabel", seed=seed, **config)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    truth = to_matrix(y_test, model.classes_)
    tuned = multilabel_scores(truth, to_matrix(model.predict(X_test), model.classes_))
    thresholds = model.thresholds_.copy()
    model.thresholds_ = np.full_like(thresholds, 0.5)
    default = multilabel_scores(truth, to_matrix(model.predict(X_test), model.classes_))
    lengths = [len(x) for x in X_train]
    result = {
        "built_from": "japanese_vowels",
        "how": (
            "each sequence concatenates one utterance from each of 1-3 distinct speakers "
            "(drawn uniformly); labels = the set of speakers (9 labels); train mixtures from "
            "training utterances, test mixtures from test utterances"
        ),
        "n_train": n_train,
        "n_test": n_test,
        "n_labels": len(model.classes_),
        "length": [min(lengths), max(lengths)],
        "mean_labels_per_sequence": float(truth.sum(1).mean()),
        "tuned_thresholds": tuned,
        "thresholds_0_5": default,
        "thresholds": thresholds.round(3).tolist(),
        "fit_time_s": fit_time,
        "stopped_reason": model.training_result_.stopped_reason,
        "best_step": model.training_result_.best_step,
    }
    print(
        "multi-label: JapaneseVowels speaker mixtures — "
        + result["how"]
        + f"; {n_train} train / {n_test} test sequences, lengths {min(lengths)}-{max(lengths)}"
    )
    for label, scores in (("tuned thresholds", tuned), ("thresholds 0.5", default)):
        print(
            f"  bilstm, {label:<16} micro F1 {scores['micro_f1']:.3f}  macro F1 "
            f"{scores['macro_f1']:.3f}  subset accuracy {scores['subset_accuracy']:.3f}"
        )
    print(
        f"  fit {fit_time:.1f} s, stopped by {result['stopped_reason']}, "
        f"best weights from step {result['best_step']}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per data set and config")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1: packed LSTMs run many small kernels; a second thread on "
        "cores shared with other jobs slows them down)",
    )
    parser.add_argument("--multilabel-train", type=int, default=900)
    parser.add_argument("--multilabel-test", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": "cpu",
    }
    print(f"machine: {machine}")
    print(f"configs (same for every data set): {json.dumps(CONFIGS)}")
    start = time.perf_counter()
    single = run_single_label(list(range(args.seeds)))
    multi = run_multilabel(0, args.multilabel_train, args.multilabel_test)
    total = time.perf_counter() - start
    goals = {
        config: {name: row[config]["goal_met"] for name, row in single.items()}
        for config in CONFIGS
    }
    for config, met in goals.items():
        missed = [name for name, ok in met.items() if not ok]
        print(
            f"goals ({config}, mean over seeds): {sum(met.values())}/{len(met)} met"
            + (f"; missed: {missed}" if missed else "")
        )
    print(f"total time {total:.0f} s")
    print(
        json.dumps(
            {
                "benchmark": "classification",
                "machine": machine,
                "configs": CONFIGS,
                "seeds": args.seeds,
                "single_label": single,
                "multilabel": multi,
                "goals_met": goals,
                "total_time_s": total,
            }
        )
    )


if __name__ == "__main__":
    main()
