"""Outputs that were silently wrong off the benchmark paths, pinned at every entry point.

Each test names the bug it guards against; every entry point (estimator, `forecast()`,
`backtest()`) must give the same right answer or the same clear refusal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.errors import InputError
from tsforecast.estimators import registry

TINY = {"input_size": 12, "hidden_size": 4, "num_layers": 1, "max_steps": 3, "progress": False}
NEURAL = ["lstm", "bilstm", "seq2seq"]


def two_scales(n: int = 72, covariate: bool = False) -> pd.DataFrame:
    """Two series with a target near 1,000 and a target near 1 (and maybe a covariate)."""
    rng = np.random.default_rng(0)
    parts = []
    for sid in ("a", "b"):
        t = np.arange(n)
        frame = pd.DataFrame(
            {
                "unique_id": sid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "big": 1000 + 30 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 3, n),
                "small": 1 + 0.1 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.01, n),
            }
        )
        if covariate:
            frame["x"] = rng.normal(size=n)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def known_future() -> pd.DataFrame:
    """Values of the covariate `x` for the 4 hours after the end of both series."""
    return pd.DataFrame(
        {
            "unique_id": ["a"] * 4 + ["b"] * 4,
            "ds": list(pd.date_range("2024-01-04", periods=4, freq="h")) * 2,
            "x": 0.0,
        }
    )


def assert_in_own_units(history: pd.DataFrame, forecasts: pd.DataFrame, col: str) -> None:
    lo, hi = history[col].min(), history[col].max()
    width = hi - lo
    values = forecasts[col].to_numpy()
    assert np.all(values > lo - 3 * width) and np.all(values < hi + 3 * width), col


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("levels", [(), (80, 95)])
def test_each_target_is_forecast_in_its_own_units(name: str, levels: tuple) -> None:
    # was: every target inverse-scaled with the first target's mean and scale (~1 -> ~1000),
    # and covariates + levels crashed in the scaler
    df = two_scales(covariate=bool(levels))
    targets = ["big", "small"]
    fc = tsf.forecast(df, horizon=4, model=name, target_col=targets, levels=levels, **TINY)
    for col in targets:
        assert_in_own_units(df, fc, col)
    est = registry.build(name, TINY, horizon=4, target_col=targets, levels=levels or None)
    fc = est.fit(df).predict()
    for col in targets:
        assert_in_own_units(df, fc, col)
    res = tsf.backtest(df, [(name, TINY)], horizon=4, target_col=targets, levels=levels)
    for target in targets:
        rows = res.forecasts[res.forecasts["target"] == target]
        assert_in_own_units(df, rows.rename(columns={"y_hat": target}), target)


@pytest.mark.parametrize("levels", [(0.8, 0.95), 0.9, [0.5]])
def test_levels_given_as_fractions_are_refused_with_the_percentages_meant(levels) -> None:
    df = two_scales()
    with pytest.raises(InputError, match="did you mean"):
        tsf.forecast(df, horizon=4, model="naive", target_col="big", levels=levels)
    with pytest.raises(InputError, match="did you mean"):
        tsf.backtest(df, ["naive"], horizon=4, target_col="big", levels=levels)
    with pytest.raises(InputError, match="did you mean"):
        registry.build("naive", {}, horizon=4, levels=levels)


def test_an_estimator_s_own_horizon_must_match_the_call_s() -> None:
    # was: forecast(model=LSTMForecaster(horizon=12), horizon=6) returned 12 rows per series
    df = two_scales().drop(columns="small")
    model = tsf.models.LSTMForecaster(horizon=12, target_col="big", **TINY)
    with pytest.raises(InputError, match="horizon=12"):
        tsf.forecast(df, horizon=6, model=model, target_col="big")
    with pytest.raises(InputError, match="horizon=12"):
        tsf.backtest(df, [model], horizon=6, target_col="big")
    fc = tsf.forecast(df, horizon=12, model=model)
    assert fc.groupby("unique_id").size().tolist() == [12, 12]


@pytest.mark.parametrize("name", ["naive", "ets", "theta"])
def test_baselines_refuse_future_df_and_covariates_instead_of_ignoring_them(name: str) -> None:
    df = two_scales(covariate=True).drop(columns="small")
    future = known_future()
    with pytest.raises(InputError, match="future_df"):
        tsf.forecast(df, horizon=4, model=name, target_col="big", future_df=future)
    with pytest.raises(InputError, match="uses no covariates"):
        tsf.forecast(df, horizon=4, model=name, target_col="big")
    with pytest.raises(InputError, match="future_df"):
        registry.build(name, {}, horizon=4, target_col="big").fit(
            df[["unique_id", "ds", "big"]], future_df=future
        )
    # in a backtest next to a model that uses the covariate, a baseline sees the targets only
    res = tsf.backtest(df, [name, ("lstm", TINY)], horizon=4, target_col="big")
    assert set(res.forecasts["model"]) == {name, "lstm"}


def test_auto_refuses_named_baseline_candidates_with_future_df() -> None:
    df = two_scales(covariate=True).drop(columns="small")
    future = known_future()
    with pytest.raises(InputError, match="candidates"):
        tsf.forecast(df, horizon=4, target_col="big", future_df=future, candidates=["ets", "lstm"])


def test_seq2seq_takes_every_shared_parameter_through_forecast_and_backtest() -> None:
    # was: "model 'seq2seq' has no parameter 'input_size'; known: ['args', 'horizon', 'kwargs']"
    df = two_scales().drop(columns="small")
    params = {**TINY, "teacher_forcing": 0.3}
    fc = tsf.forecast(df, horizon=4, model="seq2seq", target_col="big", **params)
    assert len(fc) == 8
    res = tsf.backtest(df, [("seq2seq", params)], horizon=4, target_col="big")
    assert set(res.forecasts["model"]) == {"seq2seq"}
    model = registry.build("seq2seq", params, horizon=4)
    assert model.get_params()["input_size"] == 12 and model.teacher_forcing == 0.3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"device": "tpu"}, "`device` must be"),
        ({"seed": "a"}, "`seed` must be a non-negative integer"),
        ({"fill": "mean"}, "`fill` must be"),
        ({"time_budget_s": -1}, "`time_budget_s` must be"),
    ],
)
def test_every_model_checks_the_shared_arguments_the_same_way(kwargs, match) -> None:
    df = two_scales().drop(columns="small")
    for name in ("naive", "ets", "lstm"):
        with pytest.raises(InputError, match=match):
            tsf.forecast(df, horizon=4, model=name, target_col="big", **kwargs)


def test_one_tiny_series_does_not_decide_the_model_of_the_others() -> None:
    # was: one 1-point series sent every series of `auto` to seasonal naive, without a word
    df = two_scales()[["unique_id", "ds", "big"]]
    tiny = pd.DataFrame({"unique_id": ["t"], "ds": [pd.Timestamp("2024-01-01")], "big": [5.0]})
    with pytest.warns(tsf.TsforecastWarning, match="take no part in the choice"):
        fc = tsf.forecast(
            pd.concat([df, tiny]), horizon=4, target_col="big", candidates=["naive", "theta"]
        )
    selection = fc.attrs["auto_selection"]
    assert selection.excluded == ["t"]
    alone = tsf.forecast(df, horizon=4, target_col="big", candidates=["naive", "theta"])
    assert selection.chosen == alone.attrs["auto_selection"].chosen
    assert set(fc["unique_id"]) == {"a", "b", "t"}


def test_a_statistical_fit_past_its_time_budget_falls_back_and_says_so() -> None:
    df = two_scales()[["unique_id", "ds", "big"]]
    model = registry.build("ets", {"time_budget_s": 1e-9}, horizon=4, target_col="big")
    model.fit(df)
    assert set(model.failures_["reason"]) == {"time budget reached"}
    assert len(model.predict()) == 8


def test_auto_saves_and_loads_with_its_chosen_members(tmp_path) -> None:
    df = two_scales()[["unique_id", "ds", "big"]]
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"]}, horizon=4, target_col="big", levels=(80,)
    )
    model.fit(df)
    model.save(tmp_path / "auto")
    again = tsf.models.load(tmp_path / "auto")
    assert again.selection_.chosen == model.selection_.chosen
    pd.testing.assert_frame_equal(again.predict(), model.predict())


def test_every_readme_command_names_data_that_exists() -> None:
    """A README command runs as written from a checkout: each `tsforecast forecast DATA` /
    `tsforecast backtest CONFIG` (and each `--future FILE`) names a shipped data set, a file of
    the repository or a file a Python block of the README writes (the Command line section once
    forecast a `sales.csv` that nobody has)."""
    import re
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    commands = [
        shlex.split(line.split("#")[0])
        for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
        for line in block.splitlines()
        if re.match(r"\s*(bash scripts/install.sh && )?tsforecast (forecast|backtest) ", line)
    ]
    written = {
        name
        for block in re.findall(r"```python\n(.*?)```", readme, re.S)
        for name in re.findall(r"\.to_(?:csv|parquet)\(\"([^\"]+)\"", block)
    }
    assert commands, "the README shows `tsforecast forecast` and `tsforecast backtest`"
    for words in commands:
        named = [words[words.index("tsforecast") + 2]]
        named += [words[i + 1] for i, word in enumerate(words) if word == "--future"]
        for data in named:
            exists = data in tsf.datasets.names() or (root / data).is_file()
            assert exists or data in written, " ".join(words)


def test_a_future_df_without_covariate_columns_is_refused_not_ignored() -> None:
    # was: an lstm given a future_df of only ids and stamps forecast as if none had been given,
    # using the covariate `k` as a past covariate, without a word
    n = 60
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
            "y": np.sin(np.arange(n)),
            "k": np.cos(np.arange(n)),
        }
    )
    future = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-03 12:00", periods=6, freq="h")}
    )
    with pytest.raises(InputError, match="holds no known-future covariate"):
        tsf.forecast(df, 6, model="lstm", future_df=future, max_steps=2, progress=False)
