"""Importing tsforecast makes torch's OpenMP threads wait passively unless the user chose.

On a machine whose cores are busy with other work, spinning OpenMP threads starve the thread
they wait for: an LSTM step that takes 0.07 s took 3 s with 2 threads on 2 loaded cores.
libgomp reads OMP_WAIT_POLICY once, when torch loads, so the import has to set it first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = "import os, tsforecast, torch; print(os.environ['OMP_WAIT_POLICY'])"


def _policy_after_import(**extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(extra)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_import_sets_passive_waiting_when_the_user_has_not_chosen() -> None:
    assert _policy_after_import() == "PASSIVE"


def test_a_policy_the_user_set_is_kept() -> None:
    assert _policy_after_import(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


def test_importing_tsforecast_does_not_load_torch() -> None:
    # torch loads later, on first use, so it reads the policy set by the import
    probe = "import sys, tsforecast; print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
