"""Engines: `engine="ray"` / `"dask"` give what `engine="local"` gives, row for row.

One local Ray (2 CPUs) and one Dask LocalCluster (2 worker processes) are started once for the
module. The panel is ragged, its rows are shuffled (a series' rows are scattered through the
frame), and it holds a constant and a short series, so that the fallbacks and their failures
are part of what must match.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
from tsforecast.cli.config import ConfigError, parse_config
from tsforecast.engines import DaskEngine, RayEngine, resolve_engine
from tsforecast.engines.chunks import in_panel_order, series_chunks
from tsforecast.errors import InputError

HORIZON = 3
N_WINDOWS = 2


def assert_same_attrs(local: pd.DataFrame, fanned_out: pd.DataFrame) -> None:
    """A fanned-out forecast says how it was made as the local one does (what `tsf.report`
    draws): the same settings (model, levels, columns; not the seconds) and failures."""
    assert fanned_out.attrs["failures"] == local.attrs["failures"]
    assert local.attrs["failures"], "the panel's constant and short series must fall back"
    settings = {k: v for k, v in local.attrs["settings"].items() if k != "seconds"}
    assert {k: v for k, v in fanned_out.attrs["settings"].items() if k != "seconds"} == settings


@pytest.fixture(scope="module")
def ray_engine() -> Iterator[RayEngine]:
    import ray  # part of the dev install: these tests run, never skip

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield RayEngine()  # uses the Ray initialised above, as it is
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def scattered() -> pd.DataFrame:
    """12 monthly series of 9 to 60 values (one constant), rows in random order."""
    rng = np.random.default_rng(0)
    frames = []
    for i, n in enumerate([40, 9, 60, 25, 33, 12, 48, 20, 57, 15, 30, 44]):
        t = np.arange(n)
        y = 10 + 3 * np.sin(2 * np.pi * t / 12) + 0.1 * t + rng.normal(0, 0.5, n)
        if i == 4:
            y = np.full(n, 5.0)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i:02d}",
                    "ds": pd.date_range("2001-01-01", periods=n, freq="MS"),
                    "y": y,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


def _backtest(df: Any, engine: Any, models: Any = ("seasonal_naive", "theta")) -> Any:
    return tsf.backtest(
        df,
        list(models),
        horizon=HORIZON,
        n_windows=N_WINDOWS,
        season_length=12,
        levels=(80,),
        engine=engine,
    )


def _assert_same_backtest(local: Any, other: Any) -> None:
    pd.testing.assert_frame_equal(local.forecasts, other.forecasts)
    pd.testing.assert_frame_equal(local.metrics, other.metrics)
    pd.testing.assert_frame_equal(local.failures, other.failures)


# --------------------------------------------------------------------------- ray


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_ray_backtest_equals_local_on_scattered_rows(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    local = _backtest(scattered, "local")
    on_ray = _backtest(scattered, "ray")
    _assert_same_backtest(local, on_ray)
    # the constant series and those too short for theta fell back, in both runs
    assert {"s01", "s04"} <= set(on_ray.failures["unique_id"])
    assert on_ray.settings["engine"] == "ray"
    # the series come out whole, in the order of their first rows in the input
    first_seen = list(dict.fromkeys(scattered["unique_id"]))
    assert list(dict.fromkeys(on_ray.forecasts["unique_id"])) == first_seen


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_ray_backtest_of_a_process_pool_model_equals_local(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    # ETS runs on the local process pool; in a chunk it runs in the Ray worker's process
    few = scattered[scattered["unique_id"].isin(["s00", "s01", "s04", "s07"])]
    _assert_same_backtest(_backtest(few, "local", ["ets"]), _backtest(few, "ray", ["ets"]))


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_ray_engine_object_keeps_a_running_ray_as_it_is(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    import ray

    one_per_worker = RayEngine(chunks_per_worker=1)
    _assert_same_backtest(_backtest(scattered, "local"), _backtest(scattered, one_per_worker))
    assert ray.cluster_resources()["CPU"] == 2


def test_ray_forecast_equals_local_with_failures(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    with pytest.warns(tsf.TsforecastWarning, match="fell back"):
        local = tsf.forecast(scattered, HORIZON, model="theta", levels=(80, 95))
    with pytest.warns(tsf.TsforecastWarning, match="fell back"):
        on_ray = tsf.forecast(scattered, HORIZON, model="theta", levels=(80, 95), engine="ray")
    pd.testing.assert_frame_equal(local, on_ray)
    assert_same_attrs(local, on_ray)


def test_ray_forecast_keeps_a_polars_input_polars(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    df = pl.from_pandas(scattered[scattered["unique_id"] != "s04"])
    local = tsf.forecast(df, HORIZON, model="seasonal_naive")
    on_ray = tsf.forecast(df, HORIZON, model="seasonal_naive", engine=ray_engine)
    assert isinstance(on_ray, pl.DataFrame)
    assert on_ray.equals(local)


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_neural_models_with_statistical_ones_give_the_same_result(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    models = ["seasonal_naive", ("lstm", {"max_steps": 2, "input_size": 6, "hidden_size": 4})]
    local = _backtest(scattered, "local", models)
    on_ray = _backtest(scattered, "ray", models)
    _assert_same_backtest(local, on_ray)


# --------------------------------------------------------------------------- independent fits

TINY_LSTM = ("lstm", {"max_steps": 3, "input_size": 6, "hidden_size": 4})
AUTO = {
    "candidates": ["seasonal_naive", "theta", "lstm"],
    "time_budget_s": None,  # a budget would make the choice depend on the seconds measured
    "max_steps": 3,
    "input_size": 6,
    "hidden_size": 4,
    "progress": False,
}


def _refit_backtest(df: Any, engine: Any) -> Any:
    # mase only: no naive2 reference, so every engine task is one of the lstm's fits
    return tsf.backtest(
        df,
        [TINY_LSTM],
        horizon=HORIZON,
        n_windows=3,
        season_length=12,
        metrics=["mase"],
        refit=True,
        engine=engine,
        keep_fitted=True,
    )


def _assert_ran_on_workers(engine: Any, n_tasks: int) -> None:
    """Every task ran in a worker process (not this one) with one torch thread."""
    import os

    assert len(engine.tasks) == n_tasks
    assert all(task.pid != os.getpid() for task in engine.tasks)
    assert {task.threads for task in engine.tasks} == {1}


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_ray_refitted_lstm_folds_are_fitted_on_workers_with_the_local_result(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    local = _refit_backtest(scattered, "local")
    engine = RayEngine()
    on_ray = _refit_backtest(scattered, engine)
    _assert_same_backtest(local, on_ray)
    _assert_ran_on_workers(engine, n_tasks=3)  # one task per refitted fold
    assert on_ray.training_curves.keys() == local.training_curves.keys()
    assert len(on_ray.fitted["lstm"]) == 3  # the workers' fitted models came back


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_a_global_lstm_fitted_once_trains_in_the_caller(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    engine = RayEngine()
    models = [TINY_LSTM]
    kwargs = {"horizon": HORIZON, "n_windows": 3, "metrics": ["mase"], "refit": False}
    local = tsf.backtest(scattered, models, **kwargs)
    _assert_same_backtest(local, tsf.backtest(scattered, models, engine=engine, **kwargs))
    assert engine.tasks == []  # one fit, all cutoffs scored in batches, here


def _auto_forecast(df: pd.DataFrame, engine: Any) -> pd.DataFrame:
    return tsf.forecast(df, HORIZON, model="auto", engine=engine, **AUTO)


def _assert_same_auto(local: pd.DataFrame, other: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(local, other)
    want, got = local.attrs["auto_selection"], other.attrs["auto_selection"]
    assert (got.chosen, got.reused, got.excluded) == (want.chosen, want.reused, want.excluded)
    assert got.inner_mase == pytest.approx(want.inner_mase)
    # three candidates, the best two's median and weighted means, the three's median
    assert len(want.inner_mase) == 3 + 3 + 1
    assert other.attrs["failures"] == local.attrs["failures"]


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_ray_auto_scores_each_candidate_in_its_own_task_with_the_local_choice(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    local = _auto_forecast(scattered, "local")
    engine = RayEngine()
    on_ray = _auto_forecast(scattered, engine)
    _assert_same_auto(local, on_ray)
    _assert_ran_on_workers(engine, n_tasks=3)  # one inner backtest per candidate


def test_a_failure_inside_a_task_is_raised_as_itself(
    ray_engine: RayEngine, dask_client: Any
) -> None:
    def refuse(shared: Any, item: int) -> int:  # defined here: pickled by value to the workers
        if item == 2:
            msg = f"item {item} is refused"
            raise InputError(msg)
        return item

    for engine in (RayEngine(), DaskEngine(dask_client)):
        with pytest.raises(InputError, match=r"^item 2 is refused$") as caught:
            engine.map(refuse, None, [1, 2, 3])
        assert type(caught.value) is InputError  # not Ray's or Dask's wrapper
        assert engine.map(refuse, None, [1, 3]) == [1, 3]


# --------------------------------------------------------------------------- dask


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_dask_backtest_equals_local_on_scattered_rows(
    dask_client: Any, scattered: pd.DataFrame
) -> None:
    local = _backtest(scattered, "local")
    _assert_same_backtest(local, _backtest(scattered, "dask"))  # the current client
    _assert_same_backtest(local, _backtest(scattered, DaskEngine(dask_client)))
    assert not local.failures.empty


def test_dask_forecast_equals_local_with_failures(
    dask_client: Any, scattered: pd.DataFrame
) -> None:
    with pytest.warns(tsf.TsforecastWarning, match="fell back"):
        local = tsf.forecast(scattered, HORIZON, model="theta")
    with pytest.warns(tsf.TsforecastWarning, match="fell back"):
        on_dask = tsf.forecast(scattered, HORIZON, model="theta", engine=DaskEngine(dask_client))
    pd.testing.assert_frame_equal(local, on_dask)
    assert_same_attrs(local, on_dask)


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_dask_refitted_lstm_folds_and_auto_candidates_equal_local(
    dask_client: Any, scattered: pd.DataFrame
) -> None:
    engine = DaskEngine(dask_client)
    _assert_same_backtest(_refit_backtest(scattered, "local"), _refit_backtest(scattered, engine))
    _assert_same_auto(_auto_forecast(scattered, "local"), _auto_forecast(scattered, engine))
    _assert_ran_on_workers(engine, n_tasks=3 + 3)


STATISTICAL_AUTO = {
    "candidates": ["seasonal_naive", "ets", "arima"],  # the default's, which open process pools
    "time_budget_s": None,
    "progress": False,
}


@pytest.mark.filterwarnings("ignore::tsforecast.TsforecastWarning")
def test_dask_runs_the_models_that_open_a_process_pool_in_the_task_s_process(
    dask_client: Any, scattered: pd.DataFrame
) -> None:
    """ets and arima fit in a process pool of their own locally. A Dask worker is a daemonic
    process, which cannot open one: there they fit in the task's process, whether a candidate
    of `auto` (the default `forecast()`) or a model whose refitted folds are tasks."""
    engine = DaskEngine(dask_client)
    local = tsf.forecast(scattered, HORIZON, model="auto", **STATISTICAL_AUTO)
    on_dask = tsf.forecast(scattered, HORIZON, model="auto", engine=engine, **STATISTICAL_AUTO)
    pd.testing.assert_frame_equal(local, on_dask)
    assert on_dask.attrs["auto_selection"].chosen == local.attrs["auto_selection"].chosen
    refitted = [("auto", {**STATISTICAL_AUTO, "candidates": ["naive", "ets"]})]
    kwargs = {"horizon": HORIZON, "n_windows": N_WINDOWS, "season_length": 12}
    _assert_same_backtest(
        tsf.backtest(scattered, refitted, **kwargs),
        tsf.backtest(scattered, refitted, engine=engine, **kwargs),
    )


# --------------------------------------------------------------------------- chunks


@pytest.mark.parametrize("n_chunks", [1, 2, 3, 8, 50])
def test_chunks_hold_every_series_once_and_whole(n_chunks: int) -> None:
    lengths = np.random.default_rng(n_chunks).integers(20, 2000, size=37)
    chunks = series_chunks(lengths, n_chunks)
    assert 1 <= len(chunks) <= min(n_chunks, len(lengths))
    assert all(len(chunk) and np.all(np.diff(chunk) > 0) for chunk in chunks)
    np.testing.assert_array_equal(np.sort(np.concatenate(chunks)), np.arange(len(lengths)))


def test_chunks_group_like_lengths_and_balance_the_observations() -> None:
    lengths = np.random.default_rng(0).permutation(np.r_[np.full(10, 2000), np.full(1000, 20)])
    chunks = series_chunks(lengths, 4)
    costs = [int(lengths[chunk].sum()) + 50 * len(chunk) for chunk in chunks]
    assert max(costs) < 1.5 * sum(costs) / len(costs)
    # the long series share chunks among themselves: short chunks are not padded to 2,000
    assert sum(lengths[chunk].max() == 2000 for chunk in chunks) <= 2


def test_rows_go_back_in_panel_order_keeping_each_series_rows_in_order() -> None:
    ids = ["b", "a", "c"]
    rows = pd.DataFrame({"unique_id": ["c", "a", "a", "b", "c"], "step": [1, 1, 2, 1, 2]})
    ordered = rows.iloc[in_panel_order(rows["unique_id"], ids)]
    assert list(zip(ordered["unique_id"], ordered["step"], strict=True)) == [
        ("b", 1),
        ("a", 1),
        ("a", 2),
        ("c", 1),
        ("c", 2),
    ]


# --------------------------------------------------------------------------- refusals


def test_an_unknown_engine_is_refused_before_any_work(scattered: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=r"`engine` must be one of \['local', 'ray', 'dask'\]"):
        tsf.backtest(scattered, "naive", horizon=HORIZON, engine="spark")
    with pytest.raises(InputError, match="got 'Ray'"):
        tsf.forecast(scattered, HORIZON, model="naive", engine="Ray")


@pytest.mark.parametrize(
    ("name", "module", "extra"), [("ray", "ray", "ray"), ("dask", "distributed", "dask")]
)
def test_a_missing_engine_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import ray` now raises ImportError
    with pytest.raises(InputError, match=rf"pip install 'tsforecast\[{extra}\]'"):
        resolve_engine(name)


def test_a_time_budget_per_fit_is_not_split_over_chunks(
    ray_engine: RayEngine, scattered: pd.DataFrame
) -> None:
    with pytest.raises(InputError, match=r"`time_budget_s` per fit.*use engine='local'"):
        _backtest(scattered, ray_engine, [("ets", {"time_budget_s": 5.0})])


def test_a_cluster_address_with_num_cpus_is_refused() -> None:
    with pytest.raises(InputError, match="drop `num_cpus` or `address`"):
        RayEngine(address="ray://head:10001", num_cpus=4)


def test_dask_engine_refuses_what_is_not_a_client() -> None:
    with pytest.raises(InputError, match=r"`client` must be a distributed.Client"):
        DaskEngine(client="tcp://scheduler:8786")


# --------------------------------------------------------------------------- config and CLI


def _config(**top: Any) -> dict[str, Any]:
    return {**top, "data": {"dataset": "air_passengers"}, "models": {"naive": {}}}


def test_the_config_names_the_engine() -> None:
    from tsforecast.cli.backtest import backtest_kwargs
    from tsforecast.cli.data import load_data

    config = parse_config(_config(engine="ray"), "exp.toml")
    assert config.engine == "ray"
    assert backtest_kwargs(config, load_data(config))["engine"] == "ray"
    assert parse_config(_config(), "exp.toml").engine == "local"
    with pytest.raises(ConfigError, match="`engine` must be 'local', 'ray' or 'dask'"):
        parse_config(_config(engine="spark"), "exp.toml")


def test_the_command_line_takes_engine() -> None:
    from tsforecast.cli.forecast import forecast_kwargs
    from tsforecast.cli.main import _parser

    parser = _parser()
    args = parser.parse_args(["forecast", "air_passengers", "-H", "3", "--engine", "dask"])
    assert forecast_kwargs(args)["engine"] == "dask"
    assert parser.parse_args(["backtest", "exp.toml", "--engine", "ray"]).engine == "ray"
    assert parser.parse_args(["backtest", "exp.toml"]).engine is None  # the config decides
    with pytest.raises(SystemExit):
        parser.parse_args(["backtest", "exp.toml", "--engine", "spark"])


# --------------------------------------------------------------------------- batch invariance


def test_theta_forecasts_a_series_the_same_whatever_its_batch() -> None:
    """A chunk fits theta on fewer, shorter series than the whole panel: the same bits out."""
    from tsforecast.stats.theta import theta_many

    rng = np.random.default_rng(3)
    short = 50 + np.cumsum(rng.normal(size=37))
    others = [50 + np.cumsum(rng.normal(size=n)) for n in (1999, 411, 130)]
    alone = theta_many([short], 6, 12, [80.0])[0]
    batched = theta_many([*others, short], 6, 12, [80.0])[-1]
    for got, want in [(batched.mean, alone.mean), (batched.lo, alone.lo)]:
        np.testing.assert_array_equal(got, want)


def test_a_ray_address_nothing_answers_at_is_refused_not_retried_for_minutes() -> None:
    import socket

    from tsforecast.engines.ray_engine import _check_reachable

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(InputError, match=f"cannot reach a Ray cluster at '{address}'"):
            _check_reachable(address, "address")
    _check_reachable("auto", "RAY_ADDRESS")  # Ray resolves these itself
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        _check_reachable(f"127.0.0.1:{server.getsockname()[1]}", "address")
