"""A normal (non-editable) install stands on its own.

The project is built and installed into a fresh virtual environment, and from a folder outside
the checkout that environment's Python loads every shipped data set and its `tsforecast` command
runs the shipped AirPassengers experiment. Nothing is downloaded: the environment sees the
already installed dependencies (`--system-site-packages`) and pip builds without an index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tsforecast import datasets

REPO = Path(__file__).resolve().parents[1]
# what a build needs: the metadata, the readme it names, and the package with its data
PROJECT_FILES = ("pyproject.toml", "README.md", "tsforecast")


def _run(command: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A virtual environment holding a wheel install of this checkout, and a work folder."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"  # a copy: the build writes build/ and *.egg-info next to the code
    source.mkdir()
    for name in PROJECT_FILES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    env_dir = root / "venv"
    # without pip: the Python of the environment runs the pip it sees in the system site
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    work = root / "work"
    work.mkdir()
    # --no-index: never the network; --ignore-installed: never touch the system's own copy
    pip_flags = ["--no-deps", "--no-build-isolation", "--no-index", "--ignore-installed"]
    pip_flags += ["--quiet", "--no-compile"]
    _run([str(python), "-m", "pip", "install", *pip_flags, str(source)], cwd=work)
    return {"python": python, "bin": bin_dir, "env": env_dir, "work": work}


def test_the_installed_package_is_the_wheel_and_loads_every_shipped_data_set(installed) -> None:
    script = (
        "import json, tsforecast as tsf\n"
        "sizes = {}\n"
        "for name in tsf.datasets.names():\n"
        "    data = tsf.datasets.load(name)\n"
        "    sizes[name] = len(data.df) if hasattr(data, 'df') else len(data.X_train)\n"
        "print(json.dumps({'file': tsf.__file__, 'data_dir': str(tsf.datasets.data_dir()),"
        " 'sizes': sizes}))\n"
    )
    out = json.loads(_run([str(installed["python"]), "-c", script], cwd=installed["work"]))
    site = Path(out["file"]).resolve()
    # the environment's own copy, not the editable install of the checkout
    assert installed["env"].resolve() in site.parents, site
    assert REPO not in site.parents
    assert installed["env"].resolve() in Path(out["data_dir"]).resolve().parents
    assert sorted(out["sizes"]) == sorted(datasets.names())  # the same list as the checkout
    assert out["sizes"]["air_passengers"] == 144
    assert all(n > 0 for n in out["sizes"].values())


def test_the_installed_command_runs_the_shipped_experiment(installed) -> None:
    work = installed["work"]
    shutil.copy2(REPO / "experiments" / "air_passengers.toml", work / "air_passengers.toml")
    command = installed["bin"] / ("tsforecast.exe" if os.name == "nt" else "tsforecast")
    out = _run([str(command), "backtest", "air_passengers.toml"], cwd=work)
    assert "dashboards/air_passengers.html" in out.replace(os.sep, "/")
    results = work / "results" / "air_passengers"
    for name in ("forecasts.parquet", "metrics.csv", "manifest.json"):
        assert (results / name).stat().st_size > 0, name
    metrics = (results / "metrics.csv").read_text().splitlines()
    assert metrics[0].split(",")[:2] == ["model", "target"]
    assert {line.split(",")[0] for line in metrics[1:]} >= {"naive", "seasonal_naive", "ets"}
    html = (work / "dashboards" / "air_passengers.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "air_passengers" in html
