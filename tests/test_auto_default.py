"""The default `forecast(df, h)`: candidates and budget sized to the data, a choice that fits the
budget, a neural fit trained once and reused, and what was chosen said on stderr and in attrs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame
from tsforecast.errors import InputError
from tsforecast.estimators import registry
from tsforecast.estimators.auto_selection import (
    MAX_DEFAULT_BUDGET_S,
    NEURAL_CANDIDATE,
    combine_forecasts,
    default_candidates,
    default_time_budget,
    inner_mase,
    measured_by_all,
    option_name,
    refit_estimate,
)

# (n_series, n_observations, median length) of the data sets the default is sized for
AIR_PASSENGERS = (1, 132, 132)
MONTHLY_1000 = (1000, 150_000, 144)
M4_HOURLY = (414, 353_500, 960)
M4_WEEKLY = (359, 366_912, 934)
TINY_LSTM = {"lstm": {"max_steps": 3, "hidden_size": 8, "input_size": 8}}


def test_no_neural_candidate_for_few_observations_or_short_series() -> None:
    for n_series, n_obs, median in (AIR_PASSENGERS, MONTHLY_1000):
        names, why = default_candidates(n_series, n_obs, median, budget_s=None)
        assert NEURAL_CANDIDATE not in names
        assert {"seasonal_naive", "theta", "ets", "arima"} <= set(names)
        assert why.startswith(f"{NEURAL_CANDIDATE} left out")
    assert "observations" in default_candidates(*AIR_PASSENGERS, budget_s=None)[1]
    assert "median series length 144" in default_candidates(*MONTHLY_1000, budget_s=None)[1]


def test_a_neural_candidate_for_many_long_series_when_the_budget_lets_it_train() -> None:
    names, why = default_candidates(*M4_HOURLY, budget_s=600.0)
    assert NEURAL_CANDIDATE in names and "arima" in names
    assert why.startswith(f"{NEURAL_CANDIDATE} included")
    names, why = default_candidates(*M4_HOURLY, budget_s=None)  # unbounded: it may train
    assert NEURAL_CANDIDATE in names
    names, why = default_candidates(*M4_HOURLY, budget_s=100.0)
    assert NEURAL_CANDIDATE not in names
    assert "time budget of 100 s" in why


def test_the_default_budget_adds_the_neural_candidate_only_on_many_long_series() -> None:
    # measured: with the default budget a bilstm is chosen on M4 Hourly (OWA 0.468 against
    # arima's 0.511); on one series or 1,000 monthly ones it is not worth training
    for size in (AIR_PASSENGERS, MONTHLY_1000):
        names, why = default_candidates(*size, budget_s=default_time_budget(*size))
        assert NEURAL_CANDIDATE not in names, why
    for size in (M4_HOURLY, M4_WEEKLY):
        names, why = default_candidates(*size, budget_s=default_time_budget(*size))
        assert NEURAL_CANDIDATE in names, why
        assert "arima" in names and "theta" in names


def test_the_default_budget_grows_with_the_data_within_the_goals() -> None:
    sizes = (AIR_PASSENGERS, MONTHLY_1000, M4_HOURLY)
    air, monthly, hourly = (default_time_budget(*size) for size in sizes)
    assert air < 10 < monthly < 90  # issue 10: 10 s and 90 s for the whole call
    assert hourly <= MAX_DEFAULT_BUDGET_S < 300  # and five minutes on M4 Hourly
    assert default_time_budget(100_000, 10**8) == MAX_DEFAULT_BUDGET_S
    # long series get more per observation (ARIMA's fits on them cost more), within the cap
    n_series, n_obs, _ = M4_HOURLY
    assert default_time_budget(n_series, n_obs, 960) > 2 * default_time_budget(n_series, n_obs)


def test_the_refit_estimate_scales_up_a_candidate_the_budget_stopped() -> None:
    assert refit_estimate(10.0, n_cut=0, n_tasks=100) == 10.0
    assert refit_estimate(10.0, n_cut=50, n_tasks=100) == 20.0
    assert np.isfinite(refit_estimate(10.0, n_cut=100, n_tasks=100))


def test_fallbacks_for_the_data_do_not_count_as_fits_the_clock_cut() -> None:
    # arima falls back on a straight line (nothing left after differencing): counted as
    # undone work, its 1.2 s inner backtest was estimated at ~24 s to refit and it was
    # left out of the choice, "more than 85 % of the 4 s left"
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-01-01", periods=60, freq="D"),
            "y": np.arange(60.0) + 5.0,
        }
    )
    # (a budget well above the call's needs: with the default 5 s, a loaded machine alone can
    # leave arima out; what is tested is its estimate, whatever the load)
    fc = tsf.forecast(df, 3, progress=False, time_budget_s=20)
    selection = fc.attrs["auto_selection"]
    assert "arima" in selection.inner_mase  # scored, not left out
    assert "left out of the choice" not in selection.message
    # no fit was cut: the estimate is its inner backtest's seconds, part of the call's own
    # (counted as undone, the fallbacks made it 20 times that)
    assert selection.refit_estimate_s["arima"] <= selection.seconds


def _inner_forecasts(model: str, errors: dict[str, float]) -> pd.DataFrame:
    """One 2-step fold per series at cutoff 0, each series' error `errors[id]` at every step."""
    rows = [
        {
            "unique_id": uid,
            "ds": step,
            "target": "y",
            "cutoff": 0,
            "y": 10.0,
            "model": model,
            "y_hat": 10.0 + error,
        }
        for uid, error in errors.items()
        for step in (1, 2)
    ]
    return pd.DataFrame(rows)


def test_candidates_are_compared_on_the_folds_every_one_measured_in_time() -> None:
    # arima's clock ran out before series c and d, which its seasonal-naive fallback forecast
    # badly: scored on a and b only, both candidates are measured on their own forecasts
    ids = ["a", "b", "c", "d", "e", "f", "g", "h"]
    theta = _inner_forecasts("theta", dict.fromkeys(ids, 1.0))
    arima = _inner_forecasts("arima", {**dict.fromkeys(ids, 0.5), "c": 9.0, "d": 9.0})
    forecasts = pd.concat([theta, arima], ignore_index=True)
    scales = pd.DataFrame(
        {"unique_id": ids, "target": "y", "cutoff": 0, "_mase_scale": 1.0, "_rmsse_scale": 1.0}
    )
    cut = pd.DataFrame({"unique_id": ["c", "d"], "target": "y", "cutoff": 0})
    kept, note = measured_by_all(forecasts, cut)
    assert set(kept["unique_id"]) == {"a", "b", "e", "f", "g", "h"}
    assert "6 of 8" in note
    by_model = {m: inner_mase(f, scales) for m, f in kept.groupby("model")}
    assert by_model == pytest.approx({"theta": 1.0, "arima": 0.5})
    # with all folds (the fallbacks scored as arima's) theta would have looked better
    every = {m: inner_mase(f, scales) for m, f in forecasts.groupby("model")}
    assert every["arima"] > every["theta"]


def test_candidates_are_compared_on_every_fold_when_the_clock_cut_most_of_them() -> None:
    ids = ["a", "b", "c", "d"]
    forecasts = _inner_forecasts("arima", dict.fromkeys(ids, 1.0))
    cut = pd.DataFrame({"unique_id": ["a", "b", "c", "d"], "target": "y", "cutoff": 0})
    kept, note = measured_by_all(forecasts, cut)
    assert kept is forecasts and "fallbacks included" in note
    untouched, none = measured_by_all(forecasts, cut.iloc[:0])
    assert untouched is forecasts and none == ""


def test_the_choice_is_said_on_stderr_and_kept_in_attrs(capsys) -> None:
    frame = make_long_frame({"a": 60, "b": 60})
    fc = tsf.forecast(frame, horizon=4, candidates=["naive", "theta"])
    selection = fc.attrs["auto_selection"]
    said = capsys.readouterr().err
    assert said.strip() == selection.message
    assert 1 <= len(said.strip().splitlines()) <= 2
    chosen = option_name(selection.chosen, selection.weights)
    assert f"auto chose {chosen}" in said
    assert "for 2 series" in said and "naive" in said and "theta" in said  # the measured MASE
    assert "s budget" in said  # the default call runs under a budget


def test_progress_false_says_nothing_but_attrs_keep_the_message(capsys) -> None:
    frame = make_long_frame({"a": 60})
    fc = tsf.forecast(frame, horizon=4, candidates=["naive", "theta"], progress=False)
    assert capsys.readouterr().err == ""
    assert "auto chose" in fc.attrs["auto_selection"].message


def test_neural_keywords_the_default_leaves_unused_are_warned_about() -> None:
    # small data: the default trains no neural candidate, so hidden_size does nothing
    frame = make_long_frame({"a": 60})
    with pytest.warns(tsf.TsforecastWarning, match=r"\['hidden_size'\]\} went unused: bilstm left"):
        fc = tsf.forecast(frame, horizon=4, hidden_size=8, progress=False)
    assert NEURAL_CANDIDATE not in fc.attrs["auto_selection"].candidates
    with pytest.warns(tsf.TsforecastWarning, match=r"'lstm': \['max_steps'\]\} went unused"):
        tsf.forecast(
            frame,
            horizon=4,
            candidates=["naive", "theta"],
            candidate_params={"lstm": {"max_steps": 3}},
            progress=False,
        )


def test_a_keyword_no_neural_candidate_takes_is_sent_to_candidate_params() -> None:
    frame = make_long_frame({"a": 60})
    to_ets = r"candidate_params=\{'ets': \{'combine': 'select'\}\}"
    with pytest.raises(InputError, match=rf"neural candidates \['bilstm'\].*{to_ets}"):
        tsf.forecast(frame, horizon=4, combine="select")
    with pytest.raises(InputError, match=rf"\['theta', 'ets'\] hold none.*{to_ets}"):
        tsf.forecast(frame, horizon=4, combine="select", candidates=["theta", "ets"])
    with pytest.raises(InputError, match=r"did you mean \{'hiden_size': 'hidden_size'\}"):
        tsf.forecast(frame, horizon=4, hiden_size=8)
    fc = tsf.forecast(
        frame, horizon=4, candidate_params={"ets": {"combine": "select"}}, progress=False
    )
    assert len(fc) == 4


def test_the_default_message_says_why_the_neural_candidate_was_left_out(capsys) -> None:
    frame = make_long_frame({"a": 60})
    fc = tsf.forecast(frame, horizon=4, progress=None)
    said = capsys.readouterr().err
    assert f"{NEURAL_CANDIDATE} left out (60 observations" in said
    assert NEURAL_CANDIDATE not in fc.attrs["auto_selection"].candidates


def _options(by_members: dict[tuple[str, ...], float]) -> dict[Any, float]:
    """Inner scores of options given by their members (each a median: no weights)."""
    return {(members, ()): v for members, v in by_members.items()}


def _scores(options: dict[Any, float], refit_s: dict[str, float]) -> Any:
    """A stand-in for `_inner_scores` that returns these option scores (MASE criterion)."""
    return lambda *a: ({}, {}, "", options, refit_s, {}, "", {})


def test_an_option_whose_refit_would_overrun_the_budget_is_not_chosen(monkeypatch) -> None:
    frame = make_long_frame({"a": 60})
    model = registry.build(
        "auto", {"candidates": ["naive", "theta", "arima"], "time_budget_s": 60}, horizon=4
    )
    options = _options(
        {("theta",): 0.6, ("theta", "naive"): 0.55, ("theta", "naive", "arima"): 0.4}
    )
    refit_s = {"naive": 0.1, "theta": 0.2, "arima": 1000.0}  # arima: far more than the budget
    monkeypatch.setattr(model, "_inner_scores", _scores(options, refit_s))
    model.fit(frame)
    assert model.selection_.chosen == ["theta", "naive"]
    assert "not median(theta, naive, arima)" in model.selection_.reason


def test_a_median_within_one_percent_of_the_best_single_model_is_preferred(monkeypatch) -> None:
    frame = make_long_frame({"a": 60})
    model = registry.build("auto", {"candidates": ["naive", "theta", "drift"]}, horizon=4)
    refit_s = {"naive": 0.1, "theta": 0.1, "drift": 0.1}
    close = _options(
        {("theta",): 0.800, ("theta", "naive"): 0.805, ("theta", "naive", "drift"): 0.95}
    )
    monkeypatch.setattr(model, "_inner_scores", _scores(close, refit_s))
    model.fit(frame)
    assert model.selection_.chosen == ["theta", "naive"]
    assert "a combination within 1 %" in model.selection_.reason
    # further than 1 % apart, the best single model stays the choice
    apart = _options(
        {("theta",): 0.800, ("theta", "naive"): 0.82, ("theta", "naive", "drift"): 0.95}
    )
    monkeypatch.setattr(model, "_inner_scores", _scores(apart, refit_s))
    model.fit(frame)
    assert model.selection_.chosen == ["theta"]
    assert model.selection_.reason == "lowest inner-backtest MASE"


def test_on_few_inner_folds_the_median_of_the_three_best_is_kept_unless_clearly_beaten(
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    # one series, 2 folds: an option must beat the median of the three best by more than
    # 0.1 / sqrt(2) = 7.1 % (AirPassengers: median(seasonal_naive, theta) 0.955 against
    # median(seasonal_naive, theta, ets) 1.018 chose the former, test OWA 1.0482 against 0.7635)
    refit_s = {"naive": 0.1, "theta": 0.1, "drift": 0.1}
    scores = {("theta",): 0.80, ("theta", "naive"): 0.83, ("theta", "naive", "drift"): 0.85}
    model = registry.build("auto", {"candidates": ["naive", "theta", "drift"]}, horizon=4)
    monkeypatch.setattr(model, "_inner_scores", _scores(_options(scores), refit_s))
    model.fit(make_long_frame({"a": 60}))
    assert model.selection_.chosen == ["theta", "naive", "drift"]
    assert model.selection_.reason == (
        "the median of the three best: theta is not 7.1 % below its inner-backtest MASE "
        "(2 series-folds scored)"
    )
    # beaten by more than the margin: the measured choice stands
    clear = {**scores, ("theta", "naive", "drift"): 0.90}
    monkeypatch.setattr(model, "_inner_scores", _scores(_options(clear), refit_s))
    model.fit(make_long_frame({"a": 60}))
    assert model.selection_.chosen == ["theta"]


def test_on_many_series_the_margin_of_the_median_of_three_shrinks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # 50 series x 2 folds: the margin is 0.1 / sqrt(100) = 1 %, and theta is 5.9 % below
    refit_s = {"naive": 0.1, "theta": 0.1, "drift": 0.1}
    scores = {("theta",): 0.80, ("theta", "naive"): 0.83, ("theta", "naive", "drift"): 0.85}
    model = registry.build("auto", {"candidates": ["naive", "theta", "drift"]}, horizon=4)
    monkeypatch.setattr(model, "_inner_scores", _scores(_options(scores), refit_s))
    model.fit(make_long_frame({f"s{i}": 60 for i in range(50)}))
    assert model.selection_.chosen == ["theta"]
    assert model.selection_.reason == "lowest inner-backtest MASE"


def test_the_median_of_three_is_not_preferred_when_its_refit_would_overrun(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scores = {("theta",): 0.80, ("theta", "naive"): 0.83, ("theta", "naive", "arima"): 0.81}
    refit_s = {"naive": 0.1, "theta": 0.2, "arima": 1000.0}  # arima: far more than the budget
    model = registry.build(
        "auto", {"candidates": ["naive", "theta", "arima"], "time_budget_s": 60}, horizon=4
    )
    monkeypatch.setattr(model, "_inner_scores", _scores(_options(scores), refit_s))
    model.fit(make_long_frame({"a": 60}))
    assert model.selection_.chosen == ["theta"]


def test_a_chosen_neural_candidate_is_trained_once_and_forecasts_from_all_the_data() -> None:
    frame = make_long_frame({"a": 80, "b": 90})
    fc = tsf.forecast(
        frame, horizon=4, candidates=["lstm"], candidate_params=TINY_LSTM, progress=False
    )
    selection = fc.attrs["auto_selection"]
    assert selection.chosen == ["lstm"] and selection.reused == ["lstm"]
    last = frame.groupby("unique_id")["ds"].max()
    first_forecast = fc.groupby("unique_id")["ds"].min()
    assert (first_forecast == last + pd.Timedelta(hours=1)).all()


def test_the_reused_neural_fit_never_saw_the_inner_folds() -> None:
    # n_windows=2 folds of 4 steps: change every value of the last 8 steps; the fit (and so
    # its forecast at the first inner cutoff) must not change
    frame = make_long_frame({"a": 80, "b": 90})
    changed = frame.copy()
    in_folds = changed.groupby("unique_id").cumcount(ascending=False) < 8
    changed.loc[in_folds, "y"] += 100.0
    fits = []
    for data in (frame, changed):
        model = registry.build(
            "auto",
            {"candidates": ["lstm"], "candidate_params": TINY_LSTM, "progress": False},
            horizon=4,
        )
        fits.append(model.fit(data))
    assert fits[0].selection_.reused == ["lstm"]
    cutoffs = frame.groupby("unique_id")["ds"].max() - pd.Timedelta(hours=8)
    pairs = pd.DataFrame({"unique_id": cutoffs.index, "cutoff": cutoffs.to_numpy()})
    before, after = (m.members_[0].predict_cutoffs(frame, pairs) for m in fits)
    pd.testing.assert_frame_equal(before, after)
    # while the final forecasts start from the whole (changed) history
    assert not np.allclose(fits[0].predict()["y"], fits[1].predict()["y"])


def test_auto_with_a_reused_member_saves_and_loads_its_history(tmp_path) -> None:
    frame = make_long_frame({"a": 80, "b": 90})
    model = registry.build(
        "auto",
        {"candidates": ["lstm"], "candidate_params": TINY_LSTM, "progress": False},
        horizon=4,
    )
    model.fit(frame)
    model.save(tmp_path / "auto")
    again = tsf.models.load(tmp_path / "auto")
    assert again.selection_.reused == ["lstm"]
    pd.testing.assert_frame_equal(again.predict(), model.predict())


def test_a_bilstm_candidate_is_scored_and_chosen_under_its_own_name() -> None:
    # the backtest labels it "lstm" (its class); auto must not refit a unidirectional lstm
    frame = make_long_frame({"a": 80, "b": 90})
    bilstm = {"bilstm": TINY_LSTM["lstm"]}
    fc = tsf.forecast(frame, horizon=4, candidates=["bilstm"], candidate_params=bilstm)
    selection = fc.attrs["auto_selection"]
    assert list(selection.inner_mase) == ["bilstm"]
    assert selection.chosen == ["bilstm"] and selection.reused == ["bilstm"]


def test_a_future_df_no_default_candidate_can_use_is_refused_not_ignored() -> None:
    frame = make_long_frame({"a": 60})
    future = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range(frame["ds"].max() + pd.Timedelta(hours=1), periods=4, freq="h"),
            "promo": 1.0,
        }
    )
    with pytest.raises(InputError, match=r"none of the default candidates .* known-future"):
        tsf.forecast(frame, horizon=4, future_df=future, progress=False)


def test_a_neural_candidate_that_reaches_its_step_cap_does_not_depend_on_the_budget() -> None:
    # a run the step cap ends (not the clock) follows the steps in its learning-rate schedule:
    # a larger budget (a faster or less loaded machine) trains the same model, scores it the
    # same and makes the same choice
    frame = make_long_frame({"a": 80, "b": 90})
    runs = []
    for budget in (600.0, 6000.0):
        fc = tsf.forecast(
            frame,
            horizon=4,
            candidates=["lstm", "naive"],
            candidate_params=TINY_LSTM,
            time_budget_s=budget,
            progress=False,
        )
        runs.append(fc)
    first, second = (fc.attrs["auto_selection"] for fc in runs)
    assert first.inner_mase == second.inner_mase and first.chosen == second.chosen
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_timed_out_folds_of_object_dtype_match_the_forecasts_datetime_cutoffs() -> None:
    # the candidates the clock did not cut give empty failure frames; concatenated with a cut
    # one, the cutoffs became object and the merge raised ("merge on object and datetime64")
    ids = ["a", "b", "c", "d"]
    forecasts = _inner_forecasts("arima", dict.fromkeys(ids, 1.0))
    forecasts["cutoff"] = pd.Timestamp("2021-01-10")
    cut = pd.DataFrame(
        {"unique_id": ["a"], "target": ["y"], "cutoff": [pd.Timestamp("2021-01-10")]},
    ).astype({"cutoff": object})
    kept, note = measured_by_all(forecasts, cut)
    assert set(kept["unique_id"]) == {"b", "c", "d"} and "3 of 4" in note


def test_auto_runs_with_an_id_column_of_another_name() -> None:
    # the inner backtest of a validated panel renamed and scored a "unique_id" column that a
    # panel of id_col="store" has not: KeyError in forecast, backtest, CLI and configs
    t = np.arange(40)
    df = pd.DataFrame(
        {
            "store": np.repeat(["a", "b"], 40),
            "day": np.tile(pd.date_range("2021-01-01", periods=40, freq="D"), 2),
            "sales": np.tile(100 + 10 * np.sin(2 * np.pi * t / 7), 2),
        }
    )
    columns = {"id_col": "store", "time_col": "day", "target_col": "sales"}
    fc = tsf.forecast(df, 4, candidates=["naive", "theta"], progress=False, **columns)
    assert list(fc.columns) == ["store", "day", "sales"] and len(fc) == 8
    res = tsf.backtest(
        df, [("auto", {"candidates": ["naive", "theta"]})], horizon=4, n_windows=2, **columns
    )
    assert res.leaderboard()["model"].tolist() == ["auto"]


def test_a_candidate_whose_refit_cannot_fit_what_is_left_is_left_out_before_scoring() -> None:
    import time

    from tsforecast.estimators.auto import _out_of_time

    soon = time.perf_counter() + 10.0  # 8.5 s for a refit (85 % of what is left)
    refit_s = {"seasonal_naive": 0.1, "theta": 0.5, "ets": 5.0, "arima": 50.0}
    assert _out_of_time(refit_s, {}, soon) == ["arima"]
    assert _out_of_time(refit_s, {}, None) == []  # no budget: every candidate is scored
    # a reused neural fit costs nothing to refit; when every candidate overruns, none is left
    # out (the cheapest is then taken, its fallbacks recorded)
    assert _out_of_time({"bilstm": 100.0, "arima": 50.0}, {"bilstm": object()}, soon) == ["arima"]
    assert _out_of_time({"ets": 50.0, "arima": 60.0}, {}, soon) == []


def test_the_left_out_candidate_is_said_and_the_others_are_compared_on_every_fold(
    capsys,
) -> None:
    frame = make_long_frame({"a": 80, "b": 90, "c": 70})
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"], "time_budget_s": 60, "progress": True}, horizon=4
    )
    model.fit(frame)
    assert model.selection_.scored_on == ""  # nothing was cut, nothing left out
    assert "left out of the choice" not in capsys.readouterr().err


def _record_builds(monkeypatch: Any, model: Any) -> list[tuple[str, float]]:
    """The (name, budget) of every member `model` builds from now on, in order."""
    budgets: list[tuple[str, float]] = []
    build = model._build

    def recording(name, season, budget):  # type: ignore[no-untyped-def]
        budgets.append((name, budget))
        return build(name, season, budget)

    monkeypatch.setattr(model, "_build", recording)
    return budgets


def test_the_refits_share_what_is_left_in_proportion_to_their_estimates(monkeypatch) -> None:
    frame = make_long_frame({"a": 60})
    model = registry.build(
        "auto", {"candidates": ["naive", "theta", "ets"], "time_budget_s": 100}, horizon=4
    )
    options = _options({("ets",): 0.9, ("ets", "theta"): 0.5, ("ets", "theta", "naive"): 0.7})
    refit_s = {"naive": 0.1, "theta": 1.0, "ets": 9.0}
    monkeypatch.setattr(model, "_inner_scores", _scores(options, refit_s))
    budgets = _record_builds(monkeypatch, model)
    model.fit(frame)
    assert model.selection_.chosen == ["ets", "theta"]
    assert [name for name, _ in budgets] == ["theta", "ets"]  # the cheaper one first
    (_, theta_budget), (_, ets_budget) = budgets
    # theta gets a tenth of 85 % of what is left, and ets most of the rest (not half each)
    assert 5.0 < theta_budget < 10.0
    assert ets_budget > 60.0
    # the members stay in the order of the choice
    assert [m.model_name for m in model.members_] == ["ets", "theta"]


def _positive(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(y=np.exp(frame["y"] / 10.0))


def test_a_neural_candidate_learns_log_values_of_strictly_positive_data(capsys) -> None:
    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    model = registry.build(
        "auto", {"candidates": ["lstm"], "candidate_params": TINY_LSTM}, horizon=4
    ).fit(frame)
    assert model.members_[0].get_params()["target_transform"] == "log"
    assert "lstm learns log values (every target value > 0)" in model.selection_.message
    assert "lstm learns log values" in capsys.readouterr().err
    assert (model.predict()["y"] > 0).all()


def test_a_neural_candidate_learns_raw_values_when_a_value_is_not_positive() -> None:
    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    frame.loc[3, "y"] = 0.0
    model = registry.build(
        "auto",
        {"candidates": ["lstm"], "candidate_params": TINY_LSTM, "progress": False},
        horizon=4,
    ).fit(frame)
    assert model.members_[0].get_params()["target_transform"] == "none"
    assert "log values" not in model.selection_.message


def test_candidate_params_choose_the_neural_transform_over_auto() -> None:
    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    params = {"lstm": {**TINY_LSTM["lstm"], "target_transform": "none"}}
    model = registry.build(
        "auto",
        {"candidates": ["lstm"], "candidate_params": params, "progress": False},
        horizon=4,
    ).fit(frame)
    assert model.members_[0].get_params()["target_transform"] == "none"
    assert "log values" not in model.selection_.message


def test_positive_data_are_scored_by_owa_against_the_candidate_of_lowest_inner_mase() -> None:
    frame = _positive(make_long_frame({"a": 80, "b": 90, "c": 70}))
    model = registry.build(
        "auto", {"candidates": ["naive", "seasonal_naive", "theta"], "progress": False}, horizon=4
    ).fit(frame)
    selection = model.selection_
    assert selection.criterion == "owa"
    singles = {n: selection.inner_mase[n] for n in ("naive", "seasonal_naive", "theta")}
    reference = min(singles, key=singles.__getitem__)
    assert selection.owa_reference == reference
    assert selection.inner_owa[reference] == pytest.approx(1.0)  # its own ratios are 1
    assert set(selection.inner_owa) == set(selection.inner_mase)  # every option scored both ways
    assert "inner-backtest OWA" in selection.reason
    assert f"inner OWA vs {reference}" in selection.message


def test_owa_can_choose_what_mase_alone_would_not(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tsforecast.estimators import auto as auto_module

    # naive: the lower MASE; theta: MASE 5 % higher but half the sMAPE (a combination scores
    # as its first member here)
    fixed = {"naive": {"mase": 1.0, "smape": 20.0}, "theta": {"mase": 1.05, "smape": 10.0}}

    def metrics(forecasts, scales, names=("mase", "smape")):  # type: ignore[no-untyped-def]
        return {k: fixed[str(forecasts["model"].iloc[0])][k] for k in names}

    monkeypatch.setattr(auto_module, "inner_metrics", metrics)
    positive = _positive(make_long_frame({"a": 80, "b": 90}))
    params = {"candidates": ["naive", "theta"], "progress": False}
    by_owa = registry.build("auto", params, horizon=4).fit(positive).selection_
    assert by_owa.criterion == "owa" and by_owa.owa_reference == "naive"
    assert by_owa.inner_owa["theta"] == pytest.approx(0.5 * (1.05 / 1.0 + 10.0 / 20.0))
    assert by_owa.chosen[0] == "theta"
    with_zero = positive.copy()
    with_zero.loc[3, "y"] = 0.0
    by_mase = registry.build("auto", params, horizon=4).fit(with_zero).selection_
    assert by_mase.criterion == "mase" and by_mase.chosen[0] == "naive"


def test_constant_positive_series_without_a_finite_mase_are_scored_by_mase() -> None:
    frame = make_long_frame({"a": 60, "b": 70}).assign(y=5.0)  # no naive error to scale by
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"], "progress": False}, horizon=4
    ).fit(frame)
    assert model.selection_.criterion == "mase" and model.selection_.inner_owa == {}
    assert "within 1 %" not in model.selection_.reason  # no preference among infinite scores
    assert np.allclose(model.predict()["y"], 5.0)


def test_a_weighted_mean_keeps_a_bound_only_one_member_gives() -> None:
    base = pd.DataFrame({"unique_id": ["a", "a"], "ds": [1, 2], "y": [1.0, 2.0]})
    first = base.assign(y_lo_80=[0.5, 1.5])
    second = base.assign(y=[3.0, 4.0], y_lo_80=[np.nan, 3.5], y_hi_80=[3.5, 4.5])
    out = combine_forecasts([first, second], None, [0.75, 0.25])
    np.testing.assert_allclose(out["y"], [1.5, 2.5])
    np.testing.assert_allclose(out["y_lo_80"], [0.5, 0.75 * 1.5 + 0.25 * 3.5])
    np.testing.assert_allclose(out["y_hi_80"], [3.5, 4.5])


def test_data_with_a_value_not_above_zero_are_scored_by_mase_alone() -> None:
    frame = make_long_frame({"a": 80, "b": 90})  # random walks through zero
    assert (frame["y"] <= 0).any()
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"], "progress": False}, horizon=4
    ).fit(frame)
    assert model.selection_.criterion == "mase" and model.selection_.inner_owa == {}
    assert "inner MASE" in model.selection_.message


def test_the_best_two_are_also_scored_as_weighted_means_either_way() -> None:
    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"], "progress": False}, horizon=4
    ).fit(frame)
    scores = model.selection_.inner_owa
    best, second = sorted(["naive", "theta"], key=scores.__getitem__)
    for name in (
        f"median({best}, {second})",
        f"0.75 {best} + 0.25 {second}",
        f"0.25 {best} + 0.75 {second}",
    ):
        assert name in scores and name in model.selection_.inner_mase


def test_a_weighted_choice_forecasts_the_weighted_mean_of_its_members(  # type: ignore[no-untyped-def]
    monkeypatch, tmp_path
):
    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    model = registry.build(
        "auto",
        {"candidates": ["naive", "theta"], "progress": False},
        horizon=4,
        levels=[80],
    )
    options = {
        (("theta",), ()): 0.9,
        (("theta", "naive"), ()): 0.8,
        (("theta", "naive"), (0.75, 0.25)): 0.5,
    }
    monkeypatch.setattr(model, "_inner_scores", _scores(options, {"naive": 0.1, "theta": 0.1}))
    model.fit(frame)
    assert model.selection_.chosen == ["theta", "naive"]
    assert model.selection_.weights == [0.75, 0.25]
    assert "auto chose 0.75 theta + 0.25 naive" in model.selection_.message
    theta, naive = (m.predict() for m in model.members_)
    fc = model.predict()
    for col in ("y", "y_lo_80", "y_hi_80"):  # the point and every bound
        want = 0.75 * theta[col].to_numpy() + 0.25 * naive[col].to_numpy()
        np.testing.assert_allclose(fc[col].to_numpy(), want)
    model.save(tmp_path / "auto")
    loaded = registry.load(tmp_path / "auto")
    assert loaded.selection_.weights == [0.75, 0.25]
    pd.testing.assert_frame_equal(loaded.predict(), fc)


def _saved_auto(tmp_path: Any) -> tuple[Any, pd.DataFrame, Any]:
    """A fitted two-member auto saved to tmp_path / "auto": (folder, its forecast, config)."""
    import json

    frame = _positive(make_long_frame({"a": 80, "b": 90}))
    model = registry.build(
        "auto", {"candidates": ["naive", "theta"], "progress": False}, horizon=4
    ).fit(frame)
    folder = tmp_path / "auto"
    model.save(folder)
    return folder, model.predict(), json.loads((folder / "config.json").read_text())


def test_an_auto_folder_is_format_3_and_a_format_2_folder_still_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tsforecast.estimators.auto_persistence import AUTO_FORMAT_VERSION

    folder, fc, config = _saved_auto(tmp_path)
    assert config["format_version"] == AUTO_FORMAT_VERSION == 3
    pd.testing.assert_frame_equal(registry.load(folder).predict(), fc)
    # a folder written before the weighted means: format 2, no such fields (a median or one model)
    old = dict(config["selection"])
    for name in ("weights", "criterion", "owa_reference", "inner_owa"):
        old.pop(name)
    config = {**config, "format_version": 2, "selection": old}
    (folder / "config.json").write_text(json.dumps(config))
    loaded = registry.load(folder)
    assert loaded.selection_.weights == [] and loaded.selection_.criterion == "mase"
    assert loaded.selection_.chosen == config["selection"]["chosen"]
    members = [m.predict()["y"].to_numpy() for m in loaded.members_]
    np.testing.assert_allclose(loaded.predict()["y"], np.median(members, axis=0))


def test_an_auto_folder_from_a_newer_version_is_refused_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    folder, _, config = _saved_auto(tmp_path)
    config["selection"]["calibration"] = {"a": 1}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match=r"does not know: \['calibration'\].*newer tsforecast"):
        registry.load(folder)
    (folder / "config.json").write_text(json.dumps({**config, "format_version": 4}))
    with pytest.raises(
        InputError, match="format version 4; this version of tsforecast reads format 2 or 3"
    ):
        registry.load(folder)


def test_option_names_say_a_median_or_the_weights() -> None:
    assert option_name(["theta"]) == "theta"
    assert option_name(["theta", "ets"]) == "median(theta, ets)"
    assert option_name(["theta", "ets"], [0.5, 0.5]) == "median(theta, ets)"
    assert option_name(["bilstm", "arima"], [0.75, 0.25]) == "0.75 bilstm + 0.25 arima"


def test_a_refitted_neural_member_goes_last_and_is_planned_at_the_least_it_needs(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    frame = make_long_frame({"a": 80, "b": 90})
    model = registry.build(
        "auto",
        {"candidates": ["lstm", "theta"], "candidate_params": TINY_LSTM, "time_budget_s": 100},
        horizon=4,
    )
    options = {(("lstm", "theta"), ()): 0.5, (("lstm",), ()): 0.9}
    refit_s = {"lstm": 100.0, "theta": 5.0}  # the lstm's inner fit took 100 s: not reused here
    monkeypatch.setattr(model, "_inner_scores", _scores(options, refit_s))
    budgets = _record_builds(monkeypatch, model)
    model.fit(frame)
    assert [name for name, _ in budgets] == ["theta", "lstm"]  # the neural one last
    (_, theta_budget), (_, lstm_budget) = budgets
    # theta: 5 / (5 + 30) of 85 % of ~100 s (planned against the lstm's 100 s: ~4 s)
    assert 10.0 < theta_budget < 13.0
    assert lstm_budget > 60.0  # the lstm trains in all that is left


def test_statistical_candidates_next_to_a_neural_one_forecast_the_targets_alone(capsys) -> None:  # type: ignore[no-untyped-def]
    # as in a backtest, each candidate gets the inputs it can use: the lstm reads the
    # covariate, theta forecasts the target alone (before, the inner backtest refused theta)
    frame = _positive(make_long_frame({"a": 80, "b": 90}, n_covariates=1))
    model = registry.build(
        "auto",
        {"candidates": ["lstm", "theta"], "candidate_params": TINY_LSTM, "progress": True},
        horizon=4,
    ).fit(frame)
    assert set(model.selection_.inner_mase) >= {"lstm", "theta"}
    assert "theta uses no covariates and forecasts the targets alone; lstm reads ['x0']" in (
        capsys.readouterr().err
    )
    theta_alone = registry.build("theta", {}, horizon=4).fit(frame.drop(columns="x0")).predict()
    assert "theta" in model.selection_.chosen  # (0.75 theta + 0.25 lstm with these seeds)
    member = model.members_[model.selection_.chosen.index("theta")]
    pd.testing.assert_frame_equal(member.predict(), theta_alone)
    assert len(model.predict()) == 8
    # with no neural candidate the covariates would be read by nobody: refused, not ignored
    with pytest.raises(InputError, match="none of the candidates"):
        registry.build("auto", {"candidates": ["theta"]}, horizon=4).fit(frame)


def test_neural_candidates_with_a_future_df_are_fitted_again_with_it(capsys) -> None:  # type: ignore[no-untyped-def]
    # was: the lstm's inner fit (the covariate read as a past one) was reused, and its
    # predict refused the future_df it had never learned: auto failed on its own advice
    n = 60
    ds = pd.date_range("2021-01-01", periods=n + 4, freq="D")
    x = np.arange(n + 4, dtype=float)
    frame = pd.DataFrame({"unique_id": "a", "ds": ds[:n], "y": 10 + np.sin(x[:n]), "x": x[:n]})
    future = pd.DataFrame({"unique_id": "a", "ds": ds[n:], "x": x[n:]})
    params = {"candidates": ["lstm"], "candidate_params": TINY_LSTM, "progress": True}
    model = registry.build("auto", params, horizon=4).fit(frame, future_df=future)
    assert model.selection_.chosen == ["lstm"] and model.selection_.reused == []
    assert model.members_[0].layout_.future_cols == ["x"]  # the refit learned x as known future
    assert "without the known future" in capsys.readouterr().err
    fc = model.predict(future_df=future)
    assert fc["ds"].tolist() == list(ds[n:]) and np.isfinite(fc["y"]).all()


def test_seconds_in_the_messages_keep_a_decimal_below_ten() -> None:
    # a 0.5 s budget was said as "a 0 s budget" with "the 0 s left"
    from tsforecast.estimators.auto_selection import seconds_text

    said = [seconds_text(s) for s in (0.5, 0.04, 2.94, 9.96, 10.0, 238.6)]
    assert said == ["0.5 s", "0.0 s", "2.9 s", "10 s", "10 s", "239 s"]


def _spy_backtests(monkeypatch: Any, cut_all_of: str | None = None) -> list[str]:
    """Record the candidates whose inner backtest runs; `cut_all_of`'s comes back as if the
    clock had cut every one of its inner fits."""
    from tsforecast.engines import fits
    from tsforecast.stats import TIME_BUDGET_REASON

    ran: list[str] = []
    real = fits.candidate_backtest

    def spy(shared, item):  # type: ignore[no-untyped-def]
        forecasts, scales, failures, seconds, fitted = real(shared, item)
        ran.append(item[0].model_name)
        if item[0].model_name == cut_all_of:
            folds = forecasts.drop_duplicates(["unique_id", "cutoff"])
            failures = folds[["unique_id", "cutoff"]].assign(
                model=cut_all_of, target="y", reason=TIME_BUDGET_REASON
            )
        return forecasts, scales, failures, seconds, fitted

    monkeypatch.setattr(fits, "candidate_backtest", spy)
    return ran


def test_past_its_deadline_auto_runs_no_further_inner_backtest(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # a budget over before the first inner backtest ends: the cheapest candidate is measured,
    # the others are not run (they would be all fallbacks) and are named with why
    ran = _spy_backtests(monkeypatch)
    frame = make_long_frame({"a": 80, "b": 90})
    model = registry.build(
        "auto", {"candidates": ["naive", "theta", "ets"], "time_budget_s": 1e-3}, horizon=4
    )
    model.fit(frame)
    assert ran == ["naive"]
    assert model.selection_.chosen == ["naive"]
    assert set(model.selection_.inner_mase) == {"naive"}
    for name in ("theta", "ets"):
        assert model.selection_.skipped[name] == "not measured: no time left in the budget"


def test_past_its_deadline_auto_still_measures_the_naive_baselines(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # a neural candidate runs first and uses up a tiny budget: the baseline after it is still
    # measured (the clock never cuts it), the expensive statistical one is not
    ran = _spy_backtests(monkeypatch)
    frame = make_long_frame({"a": 80, "b": 90})
    params = {"candidates": ["lstm", "naive", "theta"], "time_budget_s": 1e-3}
    model = registry.build("auto", {**params, "candidate_params": TINY_LSTM}, horizon=4)
    model.fit(frame)
    assert ran == ["lstm", "naive"]
    assert set(model.selection_.inner_mase) >= {"lstm", "naive"}
    assert model.selection_.skipped["theta"] == "not measured: no time left in the budget"


def test_a_candidate_the_clock_cut_everywhere_takes_no_part_in_the_choice(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # its inner forecasts are its fallback's: scored, they would pass for its own
    _spy_backtests(monkeypatch, cut_all_of="theta")
    frame = make_long_frame({"a": 80, "b": 90})
    model = registry.build("auto", {"candidates": ["naive", "theta", "drift"]}, horizon=4)
    model.fit(frame)
    assert "theta" not in model.selection_.inner_mase
    assert "theta" not in model.selection_.chosen
    why = "not measured: the clock cut all 4 of its inner fits"  # 2 series x 2 folds
    assert model.selection_.skipped["theta"] == why


@pytest.mark.parametrize(
    ("lengths", "n_windows", "expected"),
    [
        ({"a": 80, "b": 90}, 2, 2),
        ({"a": 80, "b": 90}, 3, 3),
        ({"a": 10, "b": 11}, 2, 1),  # too short for 2 folds of 4 (+ 4): the 1-fold fallback
    ],
)
def test_the_selection_records_how_many_inner_folds_ran(lengths, n_windows, expected) -> None:  # type: ignore[no-untyped-def]
    frame = make_long_frame(lengths)
    params = {"candidates": ["naive", "drift"], "n_windows": n_windows, "season_length": 1}
    model = registry.build("auto", params, horizon=4)
    model.fit(frame)
    assert model.selection_.n_windows == expected
