"""The feature matrix: every registered model through every entry point.

Dimensions: model x {one target, two targets at scales 1e3 and 1e0} x {no covariates, past
covariates, known-future covariates} x {no levels, (80, 95)} x {pandas, polars} x {integer,
datetime `ds`} x entry point {the estimator, `forecast()`, `backtest()`, a TOML config run as the
command line runs it}.

Which combinations run (the whole suite has to fit in about three minutes on two cores, and the
full product of every entry point does not):
- the estimator entry point: the full product (fit, predict, predict_cutoffs, save / load);
- `forecast()` and `backtest()`: an all-pairs cover of the other five dimensions (every pair of
  values of every two dimensions appears in some row; the all-features row always runs);
- TOML configs: the rows of the `backtest()` cover, the data file written as parquet where the
  backtest row has pandas and as CSV where it has polars (a config reads a file).
`backtest()` and the configs have no way to say that a covariate is known in advance (no
`future_df`), so their covariate dimension is {none, past}.

Every combination either works or is refused with an `InputError`, and it is refused exactly
when the model's `Capabilities` (the registry) say so; `auto` can use what its candidates (here
naive and seasonal_naive) can use. A working one returns the input's frame
type and schema (id and time columns of the input's dtypes, one column per target, `T_lo_80` /
`T_hi_80` ... with levels; for backtests the long frame with the folds' actuals), each target in
its own units (inside its history's [min, max] widened by three ranges) and lo <= point <= hi.
Same seed, same numbers: a polars estimator case gives exactly its pandas twin's forecasts
(another fit), `forecast()` gives exactly the estimator's `predict()`, a TOML run gives exactly
`backtest()` on the same data; after save / load the estimator's forecasts are identical.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.contract.helpers import (
    UNKNOWN,
    Case,
    check_output,
    expected_refusal,
    matrix_cases,
    numbers,
    outcome,
    param,
    refusal_pattern,
    twin,
)
from tsforecast.errors import InputError


@pytest.mark.parametrize("case", [param(c) for c in matrix_cases()])
def test_works_or_is_refused_as_the_capabilities_say(case: Case) -> None:
    result = outcome(case)
    refusal = expected_refusal(case)
    if refusal == UNKNOWN and isinstance(result.error, InputError):
        return  # the model's capabilities cannot be read yet: a clear refusal is fine
    if refusal is not None and refusal != UNKNOWN:
        assert result.error is not None, f"{case.model} cannot use {refusal}, but it worked"
        assert isinstance(result.error, InputError), f"not an InputError: {result.error!r}"
        assert re.search(refusal_pattern(refusal), str(result.error)), (
            f"the refusal does not say what {case.model} cannot use ({refusal}): {result.error}"
        )
        return
    if result.error is not None:
        raise result.error
    assert result.data is not None
    check_output(case, result.value, result.data)

    other = twin(case)
    if other is None or outcome(other).error is not None:
        return  # the twin's own case reports its failure
    mine, theirs = numbers(case, result.value), numbers(other, outcome(other).value)
    shared = sorted(set(mine) & set(theirs))
    assert shared, "nothing to compare"
    for name in shared:
        np.testing.assert_array_equal(
            mine[name], theirs[name], err_msg=f"{name}: not the very same numbers as {other.id}"
        )
