"""Focused contract checks of the entry points, for every model they apply to.

- levels given as fractions, (0.8, 0.95), are refused everywhere (they would be 0.8 %
  intervals); a config is refused when it is read, before any data is;
- an estimator object passed to `forecast()` / `backtest()` honours the call's horizon and levels
  (or the call is refused, naming the mismatch);
- the baselines refuse a `future_df` (they use no known-future covariates);
- a model name works in a fresh interpreter (nothing imported beforehand).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from tests.contract.helpers import (
    ENTRIES,
    HORIZON,
    LEVELS,
    MODELS,
    NEURAL,
    STATISTICAL,
    Case,
    backtest,
    build,
    case_data,
    check_long,
    check_wide,
    forecast,
    history_frame,
    param,
    run,
    tiny_params,
    write_config,
)
from tsforecast.cli.config import load_config
from tsforecast.errors import InputError


@pytest.mark.parametrize(
    "case",
    [param(Case("levels_as_fractions", m, e, levels=(0.8, 0.95))) for m in MODELS for e in ENTRIES],
)
def test_levels_given_as_fractions_are_refused(case: Case) -> None:
    data = case_data(case)
    with pytest.raises(InputError, match=r"(?i)percent|did you mean|levels"):
        if case.entry == "toml":
            with tempfile.TemporaryDirectory() as folder:
                load_config(write_config(case, Path(folder), data.history))
        else:
            run(case, data)


@pytest.mark.parametrize(
    "case",
    [
        param(Case("estimator_object", m, e, levels=LEVELS, param=mismatch))
        for m in (*STATISTICAL, *NEURAL)
        for e in ("forecast", "backtest")
        for mismatch in ("horizon", "levels")
    ],
)
def test_an_estimator_object_follows_the_call_s_horizon_and_levels(case: Case) -> None:
    # built for twice the horizon, or without levels; the call asks for HORIZON and LEVELS
    if case.param == "horizon":
        estimator = build(case, horizon=2 * HORIZON)
    else:
        estimator = build(replace(case, levels=()))
    data = case_data(case)
    try:
        if case.entry == "forecast":
            out = forecast(data.df, HORIZON, model=estimator, levels=case.levels)
        else:
            out = backtest(
                data.df, models=[estimator], horizon=HORIZON, n_windows=2, levels=case.levels
            ).forecasts
    except InputError as error:  # refusing the mismatch is the other way to honour the call
        assert case.param in str(error)
        return
    if case.entry == "forecast":
        check_wide(out, case, data)
    else:
        check_long(out, replace(case, model=estimator.model_name), data)


@pytest.mark.parametrize(
    "case", [param(Case("future_df_refused", m, e)) for m in STATISTICAL for e in ENTRIES[:2]]
)
def test_the_baselines_refuse_a_future_df(case: Case) -> None:
    df, _ = history_frame(1, "none", "datetime")
    _, future = history_frame(1, "future", "datetime")
    with pytest.raises(InputError, match="future_df"):
        if case.entry == "estimator":
            build(case).fit(df, future_df=future)
        else:
            forecast(df, HORIZON, model=case.model, future_df=future, n_jobs=1)


FRESH = (NEURAL[0], STATISTICAL[0])


@cache
def fresh_interpreter_results() -> dict[str, str]:
    """forecast(model=name) for each of FRESH in one new interpreter, nothing imported before
    (the neural model first, so that nothing the baseline imports can hide an import bug)."""
    script = textwrap.dedent(
        f"""
        import json, numpy as np, pandas as pd, tsforecast as tsf
        df = pd.DataFrame({{"unique_id": "a", "ds": np.arange(40), "y": np.sin(np.arange(40.0))}})
        params = {{name: {{**p, "device": "cpu", "n_jobs": 1}}
                  for name, p in {dict((m, tiny_params(m)) for m in FRESH)!r}.items()}}
        results = {{}}
        for name in {list(FRESH)!r}:
            try:
                out = tsf.forecast(df, 3, model=name, **params[name])
                results[name] = "ok" if len(out) == 3 else f"{{len(out)}} rows"
            except Exception as error:
                results[name] = f"{{type(error).__name__}}: {{error}}"
        print(json.dumps(results))
        """
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("case", [param(Case("fresh_import", m, "forecast")) for m in FRESH])
def test_a_model_name_works_in_a_fresh_interpreter(case: Case) -> None:
    assert fresh_interpreter_results()[case.model] == "ok"
