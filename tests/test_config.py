"""Experiment configs: the shipped ones parse; every mistake is refused with file and key named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tsforecast as tsf
from tsforecast.cli.config import ConfigError, load_config
from tsforecast.errors import InputError
from tsforecast.estimators import registry

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
SHIPPED = sorted(EXPERIMENTS.glob("*.toml"))

GOOD = """
name = "demo"
seed = 3
device = "cpu"

[data]
dataset = "air_passengers"

[backtest]
horizon = 12
n_windows = 2
levels = [80, 95]

[models.seasonal_naive]
[models.lstm]
hidden_size = 16
max_steps = 20
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, old: str, new: str) -> str:
    """The message that refuses GOOD with `old` replaced by `new` (it starts with the file)."""
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_configs_are_valid(path: Path) -> None:
    config = load_config(path)
    assert config.name == path.stem
    assert config.data.dataset == path.stem
    assert config.models


def test_a_good_config_resolves(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert (config.name, config.seed, config.device) == ("demo", 3, "cpu")
    assert config.backtest.horizon == 12 and config.backtest.n_windows == 2
    assert config.backtest.step is None  # the engine's default: the horizon
    assert config.backtest.levels == [80, 95]
    assert [(m.name, m.params) for m in config.models] == [
        ("seasonal_naive", {}),
        ("lstm", {"hidden_size": 16, "max_steps": 20}),
    ]
    assert config.to_dict()["source"] == str(tmp_path / "exp.toml")


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.replace('name = "demo"', ""), "my_run.toml"))
    assert config.name == "my_run"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("horizon = 12", "horizn = 12", r"unknown key `backtest\.horizn`; did you mean 'horizon'"),
        ("seed = 3", "sead = 3", r"unknown key `sead`; did you mean 'seed'"),
        ('dataset = "air', 'datset = "air', r"unknown key `data\.datset`; did you mean 'dataset'"),
        ("[models.lstm]", "[models.lstn]", r"unknown model `models\.lstn`; did you mean 'lstm'"),
        (
            "hidden_size = 16",
            "hiden_size = 16",
            r"unknown parameter `models\.lstm\.hiden_size`; did you mean 'hidden_size'",
        ),
        (
            '"air_passengers"',
            '"air_pasengers"',
            r"unknown data set `data\.dataset`; did you mean 'air_passengers'",
        ),
    ],
)
def test_unknown_keys_are_named_with_a_suggestion(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert re.search(expected, refusal(tmp_path, old, new))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "horizon = 12",
            'horizon = "12"',
            r"`backtest\.horizon` must be a positive integer, got '12' \(a string\)",
        ),
        ("horizon = 12", "horizon = 0", r"`backtest\.horizon` must be a positive integer, got 0"),
        (
            "n_windows = 2",
            "n_windows = 2.0",
            r"`backtest\.n_windows` must be .* got 2\.0 \(a float\)",
        ),
        (
            "levels = [80, 95]",
            "levels = [80, 100]",
            r"`backtest\.levels`: every level must lie strictly between 0 and 100, got 100",
        ),
        (
            "seed = 3",
            "seed = true",
            r"`seed` must be a non-negative integer, got True \(a boolean\)",
        ),
        (
            'device = "cpu"',
            'device = "gpu"',
            r"`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'",
        ),
        (
            "[models.seasonal_naive]",
            "[models.seasonal_naive]\nseason_length = 0",
            r"`models\.seasonal_naive`: `season_length` must be a positive integer, got 0",
        ),
        (
            "hidden_size = 16",
            'hidden_size = "16"',
            r"`models\.lstm\.hidden_size` must be an integer, got '16' \(a string\)",
        ),
        (
            "max_steps = 20",
            "max_steps = 20\ndropout = [0.1]",
            r"`models\.lstm\.dropout` must be a number, got \[0\.1\] \(a list\)",
        ),
        (
            "n_windows = 2",
            "n_windows = 2\nn_jobs = 0",
            r"`backtest\.n_jobs`: `n_jobs` must be a positive integer, -1 or None",
        ),
        ("[backtest]", "backtest = 3\n[other]", r"`backtest` must be a table|unknown key `other`"),
    ],
)
def test_wrong_types_are_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert re.search(expected, refusal(tmp_path, old, new))


def test_a_missing_data_file_is_named(tmp_path: Path) -> None:
    text = GOOD.replace('dataset = "air_passengers"', 'path = "data/sales.csv"')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"data file 'data/sales\.csv' does not exist") as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert str(tmp_path / "data" / "sales.csv") in message  # relative to the config's folder


def test_a_data_file_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sales.csv").write_text("unique_id,ds,y\na,1,1.0\n", encoding="utf-8")
    text = GOOD.replace('dataset = "air_passengers"', 'path = "data/sales.csv"')
    config = load_config(write(tmp_path, text))
    assert config.data.path == tmp_path / "data" / "sales.csv"
    assert config.data.dataset is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('dataset = "air_passengers"', "", r"needs exactly one of `dataset`.*got neither"),
        (
            'dataset = "air_passengers"',
            'dataset = "air_passengers"\npath = "x.csv"',
            r"needs exactly one of `dataset`.*got both",
        ),
        (
            "[models.seasonal_naive]\n[models.lstm]\nhidden_size = 16\nmax_steps = 20\n",
            "",
            "no models",
        ),
        (
            "[models.lstm]\nhidden_size = 16",
            "[models.lstm]\nhorizon = 16",
            r"`models\.lstm\.horizon` cannot differ",
        ),
        ("[backtest]", "[backtest]\nmetrics = ['smap']", r"unknown metric .*did you mean 'smape'"),
    ],
)
def test_inconsistent_configs_are_refused(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, GOOD.replace(old, new)))


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "name = \n"))
    assert issubclass(ConfigError, InputError)


@pytest.mark.parametrize("metric", ["pinball", "coverage_80", "msis_95", "msis"])
def test_interval_metrics_come_with_levels_not_the_metrics_list(
    tmp_path: Path, metric: str
) -> None:
    # msis_95 was "an unknown metric", though every level's MSIS is reported
    path = write(tmp_path, GOOD.replace("n_windows = 2", f'n_windows = 2\nmetrics = ["{metric}"]'))
    with pytest.raises(ConfigError, match=r"lists '.*'; drop it: pinball loss, coverage and MSIS"):
        load_config(path)
    with pytest.raises(InputError, match=r"reported for every level of `levels`"):
        tsf.backtest(
            tsf.datasets.load("air_passengers").df,
            ["naive"],
            horizon=2,
            levels=(95,),
            metrics=["mase", metric],
        )


# --------------------------------------------------------------------------- the registry
def _defaults(name: str) -> dict[str, object]:
    """Every parameter a user may set on `name`, at its default (None has no TOML form)."""
    cls = registry.spec(name).cls
    defaults = cls.param_defaults()
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key in registry.spec(name).user_param_names()
        if (value := defaults[key]) is not None
    }


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


@pytest.mark.parametrize("name", registry.names())
def test_every_registered_model_takes_every_parameter_in_its_table(
    tmp_path: Path, name: str
) -> None:
    params = _defaults(name)
    table = "".join(f"{key} = {_toml(value)}\n" for key, value in params.items())
    text = GOOD.split("[models.")[0] + f"[models.{name}]\n{table}"
    config = load_config(write(tmp_path, text))
    assert [(m.name, m.params) for m in config.models] == [(name, params)]


def test_seq2seq_parameters_are_accepted(tmp_path: Path) -> None:
    text = GOOD + "[models.seq2seq]\ninput_size = 336\nteacher_forcing = 0.3\n"
    config = load_config(write(tmp_path, text))
    assert config.models[-1].params == {"input_size": 336, "teacher_forcing": 0.3}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "max_steps = 20",
            "max_steps = 20\ndropout = 1.5",
            r"`models\.lstm`: `dropout` must be a number in \[0, 1\), got 1\.5",
        ),
        (
            "[models.lstm]",
            "[models.lstm]\nloss = 'huber2'",
            r"`models\.lstm`: `loss` must be one of",
        ),
        (
            "[models.seasonal_naive]",
            "[models.seasonal_naive]\nn_jobs = -7",
            r"`models\.seasonal_naive`: `n_jobs` must be a positive integer, -1 or None",
        ),
    ],
)
def test_a_value_the_model_refuses_is_refused_at_load_with_the_table_named(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert re.search(expected, refusal(tmp_path, old, new))


def test_levels_are_percentages(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("levels = [80, 95]", "levels = [0.8, 0.95]"))
    with pytest.raises(ConfigError, match=r"`backtest\.levels`: .*did you mean \(80, 95\)\?"):
        load_config(path)


def test_data_takes_fill_and_freq_as_the_api_does(tmp_path: Path) -> None:
    text = GOOD.replace("[data]", '[data]\nfill = "interpolate"\nfreq = "MS"')
    config = load_config(write(tmp_path, text))
    assert (config.data.fill, config.data.freq) == ("interpolate", "MS")
    integer_step = load_config(write(tmp_path, GOOD.replace("[data]", "[data]\nfreq = 5")))
    assert integer_step.data.freq == 5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('fill = "bfill"', r"`data\.fill`: `fill` must be None or one of \['ffill'"),
        ('freq = "hourly"', r"`data\.freq`: `freq` 'hourly' is not a pandas frequency"),
        ("freq = 0", r"`data\.freq`: `freq` must be a pandas frequency .* got 0"),
    ],
)
def test_bad_fill_and_freq_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, GOOD.replace("[data]", f"[data]\n{line}"))
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_data_covariates_choose_the_covariate_columns_of_a_file(tmp_path: Path) -> None:
    # a file's other numeric columns are covariates, which a statistical model refuses; a
    # config had no way to leave them out but editing the file
    import numpy as np
    import pandas as pd

    from tsforecast.cli.data import load_data

    days = pd.date_range("2020-01-01", periods=30, freq="D")
    pd.DataFrame(
        {"store": "a", "date": days, "sales": np.arange(30.0), "rate": 1.0, "promo": True}
    ).to_csv(tmp_path / "sales.csv", index=False)
    head = '[data]\npath = "sales.csv"\nid_col = "store"\ntime_col = "date"\n'
    head += 'target_col = "sales"\n'
    tail = "[backtest]\nhorizon = 4\n[models.naive]\n"
    for covariates, kept in (("[]", []), ('["rate"]', ["rate"])):
        config = load_config(write(tmp_path, f"{head}covariates = {covariates}\n{tail}"))
        assert list(load_data(config).frame.columns) == ["store", "date", "sales", *kept]
    everything = load_config(write(tmp_path, head + tail))
    assert list(load_data(everything).frame.columns)[3:] == ["rate", "promo"]
    with pytest.raises(ConfigError, match="no column 'price'"):
        load_data(load_config(write(tmp_path, f'{head}covariates = ["price"]\n{tail}')))
    with pytest.raises(ConfigError, match=r"`data\.covariates` must be a list"):
        load_config(write(tmp_path, f'{head}covariates = "rate"\n{tail}'))


@pytest.mark.parametrize(
    ("line", "key", "name"),
    [
        ('target_col = ["sales", "sales"]', "target_col", "sales"),
        ('covariates = ["promo", "promo"]', "covariates", "promo"),
    ],
)
def test_a_data_column_named_twice_is_refused_with_the_key_before_any_data_is_read(
    tmp_path: Path, line: str, key: str, name: str
) -> None:
    # the frame cut to the columns had the name twice: the refusal blamed the data file's
    # "duplicated column names", after reading it; the data file here does not even exist
    text = GOOD.replace('dataset = "air_passengers"', f'path = "sales.csv"\n{line}')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: `data.{key}` names ['{name}'] more than once")
    assert "name each column once" in message
    assert "duplicated column names" not in message
