"""Atomic writes: a file or folder is whole at its path or absent; a failure changes nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from tsforecast import atomic
from tsforecast.atomic import atomic_dir, atomic_path, write_atomic
from tsforecast.errors import InputError
from tsforecast.persistence import read_model_folder, write_model_folder


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------------------------ files
def test_write_atomic_replaces_the_file_whole(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "sub" / "page.html"  # missing folders are made
    write_atomic(path, "first")
    write_atomic(path, b"second \xe2\x82\xac")
    assert path.read_text(encoding="utf-8") == "second €"
    assert _mode(path) == 0o644  # the umask's permissions, as `open` would give, not 0600
    assert os.listdir(path.parent) == ["page.html"]


def test_a_failure_inside_atomic_path_leaves_the_old_file_and_no_temporary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "forecasts.csv"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="writer crashed"), atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".forecasts.csv.")
        tmp.write_text("half a fi", encoding="utf-8")
        raise RuntimeError("writer crashed")
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["forecasts.csv"]


def test_a_failure_to_flush_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dash.html"
    write_atomic(path, "old")

    def disk_full(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, "new")
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["dash.html"]


# ------------------------------------------------------------------------------------ folders
def _fill(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_atomic_dir_swaps_the_whole_folder_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None, exchange: bool
) -> None:
    if not exchange:  # what a system without renameat2 (macOS, old glibc, some file systems) does
        monkeypatch.setattr(atomic, "_renameat2", lambda: None)
    target = tmp_path / "results" / "run"
    with atomic_dir(target) as stage:
        assert stage.parent == target.parent and stage.name.startswith(".run.partial-")
        assert list(stage.iterdir()) == []
        _fill(stage, {"metrics.csv": "1", "old_only.txt": "x"})
    with atomic_dir(target) as stage:
        _fill(stage, {"metrics.csv": "2", "plots/a.txt": "a"})
    # the new folder replaced the old one whole: no file of the old one survives
    assert _tree(target) == {"metrics.csv": "2", "plots/a.txt": "a"}
    assert _mode(target) == 0o755  # the umask's permissions, not mkdtemp's 0700
    assert os.listdir(target.parent) == ["run"]


def test_a_failure_inside_atomic_dir_leaves_the_old_folder_and_no_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "run"
    with atomic_dir(target) as stage:
        _fill(stage, {"metrics.csv": "old"})
    with pytest.raises(RuntimeError, match="crashed"), atomic_dir(target) as stage:
        _fill(stage, {"metrics.csv": "new", "forecasts.parquet": "hal"})
        raise RuntimeError("crashed halfway")
    assert _tree(target) == {"metrics.csv": "old"}
    assert os.listdir(tmp_path) == ["run"]


def test_a_failed_swap_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic, "_renameat2", lambda: None)  # the rename-aside path
    target = tmp_path / "run"
    with atomic_dir(target) as stage:
        _fill(stage, {"metrics.csv": "old"})
    real_replace = os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        if Path(src).name.startswith(".run.partial-"):  # the new folder's move into place
            raise OSError("rename refused")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename refused"), atomic_dir(target) as stage:
        _fill(stage, {"metrics.csv": "new"})
    assert _tree(target) == {"metrics.csv": "old"}
    assert os.listdir(tmp_path) == ["run"]


def test_atomic_dir_refuses_a_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "model"
    path.write_text("not a folder", encoding="utf-8")
    refused = pytest.raises(InputError, match=r"is a file; pass a folder path")
    with refused, atomic_dir(path):
        pytest.fail("the block must not run")
    assert path.read_text(encoding="utf-8") == "not a folder"


def test_a_path_under_a_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # it was a FileExistsError from mkdir
    blocker = tmp_path / "afile"
    blocker.write_text("a file", encoding="utf-8")
    with pytest.raises(InputError, match=r"'.*afile' is a file, not a folder"):
        write_atomic(blocker / "x.csv", "data")
    with (
        pytest.raises(InputError, match=r"is a file, not a folder"),
        atomic_dir(blocker / "sub" / "model"),
    ):
        pytest.fail("the block must not run")
    assert os.listdir(tmp_path) == ["afile"]


def test_a_model_folder_that_fails_to_save_leaves_the_saved_model(tmp_path: Path) -> None:
    path = tmp_path / "lstm_m4"
    weights = {"w": torch.arange(3.0)}
    write_model_folder(path, weights, {"kind": "lstm", "version": 1})
    with pytest.raises(TypeError):  # a config JSON cannot hold: fails after the weights
        write_model_folder(path, {"w": torch.zeros(3)}, {"kind": object()})
    config, tensors = read_model_folder(path, "model")
    assert config == {"kind": "lstm", "version": 1}
    assert torch.equal(tensors["w"], weights["w"])
    assert os.listdir(tmp_path) == ["lstm_m4"]
