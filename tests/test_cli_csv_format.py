"""CSV files written in another locale: `--sep`, `--decimal`, `--thousands` on the command line
and `data.sep`, `data.decimal`, `data.thousands` in a config read them as they are written; a
file that needs them is refused with the option to give, never with Python advice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tsforecast.cli.csv_format import CsvFormat, as_reading_advice, check_csv_format, spell_flag
from tsforecast.cli.main import main
from tsforecast.errors import InputError

# 12 daily values, as a German spreadsheet writes them (';' between the columns)
WRITTEN = ["1,5", "2,25", "1.002,5", "3", "4,75", "5,5", "2", "7,125", "8", "1.100", "6,5", "9,25"]
VALUES = [1.5, 2.25, 1002.5, 3.0, 4.75, 5.5, 2.0, 7.125, 8.0, 1100.0, 6.5, 9.25]
GERMAN = "unique_id;ds;y\n" + "".join(
    f"a;2021-01-{d:02d};{v}\n" for d, v in enumerate(WRITTEN, start=1)
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _forecast(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["forecast", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_german_csv_is_read_as_written_with_sep_decimal_and_thousands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "de.csv", GERMAN)
    flags = ["--sep", ";", "--decimal", ",", "--thousands", "."]
    code, out, _ = _forecast([str(path), "-H", "2", "--model", "naive", *flags], capsys)
    assert code == 0
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert [float(r[2]) for r in rows] == [VALUES[-1], VALUES[-1]]  # naive: the last value


def test_the_forecast_of_a_german_csv_equals_that_of_the_same_values_written_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    german = _write(tmp_path, "de.csv", GERMAN)
    plain = tmp_path / "plain.csv"
    pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-01-01", periods=12), "y": VALUES}
    ).to_csv(plain, index=False)
    flags = ["--sep", ";", "--decimal", ",", "--thousands", "."]
    _, from_german, _ = _forecast([str(german), "-H", "3", "--model", "theta", *flags], capsys)
    _, from_plain, err = _forecast([str(plain), "-H", "3", "--model", "theta"], capsys)
    assert from_german == from_plain
    assert "fell back" not in err  # theta itself, not its fallback


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_file_with_another_separator_is_refused_with_the_flag_that_reads_it(
    sep: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was read as one column and refused as "column 'ds' is missing"
    path = _write(
        tmp_path,
        "other.csv",
        sep.join(["unique_id", "ds", "y"]) + "\n" + sep.join(["a", "1", "2"]) + "\n",
    )
    code, _, err = _forecast([str(path), "-H", "2", "--model", "naive"], capsys)
    assert code == 2
    flag = {";": "`--sep ';'`", "\t": "`--sep tab`", "|": "`--sep '|'`"}[sep]
    assert "separated by" in err and flag in err and "pd." not in err


def test_the_decimal_comma_refusal_names_the_flags_not_pandas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "de.csv", GERMAN)
    code, _, err = _forecast([str(path), "-H", "2", "--model", "naive", "--sep", ";"], capsys)
    assert code == 2
    assert "decimal comma" in err and "give `--decimal ,` and `--thousands .`" in err
    assert "pd." not in err and "read_csv" not in err


def test_a_config_reads_a_german_csv_and_its_refusals_name_the_config_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "de.csv", GERMAN)
    body = '[data]\npath = "de.csv"\n{extra}\n[backtest]\nhorizon = 1\n[models.naive]\n'
    config = _write(tmp_path, "de.toml", body.format(extra='sep = ";"'))
    dirs = ["--results-dir", str(tmp_path / "r"), "--dashboards-dir", str(tmp_path / "d")]
    assert main(["backtest", str(config), "--quiet", *dirs]) == 2
    err = capsys.readouterr().err
    assert 'give `data.decimal = ","` and `data.thousands = "."`' in err and "pd." not in err
    extra = 'sep = ";"\ndecimal = ","\nthousands = "."'
    config = _write(tmp_path, "de.toml", body.format(extra=extra))
    assert main(["backtest", str(config), "--quiet", *dirs]) == 0
    forecasts = pd.read_parquet(tmp_path / "r" / "de" / "forecasts.parquet")
    assert forecasts["y_hat"].tolist() == [VALUES[-2]]  # naive at the last cutoff
    assert forecasts["y"].tolist() == [VALUES[-1]]


def test_a_config_refuses_the_csv_keys_for_a_data_set_or_a_parquet_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"unique_id": "a", "ds": range(12), "y": VALUES}).to_parquet(
        tmp_path / "x.parquet"
    )
    for data in ('dataset = "air_passengers"', 'path = "x.parquet"'):
        config = _write(tmp_path, "c.toml", f'[data]\n{data}\ndecimal = ","\n[models.naive]\n')
        assert main(["backtest", str(config)]) == 2
        err = capsys.readouterr().err
        assert "`data.decimal` is for a CSV" in err


def test_the_csv_flags_are_refused_for_a_data_set_or_a_parquet_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.parquet"
    pd.DataFrame({"unique_id": "a", "ds": range(12), "y": VALUES}).to_parquet(path)
    code, _, err = _forecast([str(path), "-H", "2", "--model", "naive", "--decimal", ","], capsys)
    assert code == 2 and "`--decimal ,` is for CSV files" in err
    code, _, err = _forecast(
        ["air_passengers", "-H", "2", "--model", "naive", "--sep", ";"], capsys
    )
    assert code == 2 and "`--sep` is for a CSV file" in err


def test_the_future_file_is_read_with_the_same_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a covariate in a German file: lstm needs it for the steps ahead, from --future
    days = pd.date_range("2021-01-01", periods=40)
    history = "unique_id;ds;y;price\n" + "".join(
        f"a;{d.date()};{i % 7},5;{i % 3},25\n" for i, d in enumerate(days)
    )
    future = "unique_id;ds;price\n" + "".join(
        f"a;{d.date()};1,25\n" for d in pd.date_range(days[-1] + pd.Timedelta(days=1), periods=2)
    )
    data, fut = _write(tmp_path, "h.csv", history), _write(tmp_path, "f.csv", future)
    args = [str(data), "-H", "2", "--model", "lstm", "-p", "max_steps=2", "--future", str(fut)]
    code, out, err = _forecast([*args, "--sep", ";", "--decimal", ","], capsys)
    assert code == 0, err
    assert len(out.splitlines()) == 3


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"sep": "x"}, "`--sep x`: the column separator must be one of"),
        ({"decimal": ";"}, "`--decimal ';'`: the decimal mark must be '.' or ','"),
        ({"thousands": "#"}, "`--thousands #`: the thousands mark must be one of"),
        ({"thousands": "."}, "the thousands mark is also the decimal mark; give `--decimal ,`"),
    ],
)
def test_impossible_csv_options_are_refused_by_name(given: dict[str, str], refused: str) -> None:
    options = {"sep": None, "decimal": None, "thousands": None, **given}
    with pytest.raises(InputError, match=refused.replace("(", r"\(").replace(".", r"\.")):
        check_csv_format(**options, spell=spell_flag)


def test_tab_can_be_given_by_name_or_escape_and_the_defaults_are_a_plain_csv() -> None:
    assert check_csv_format("tab", None, None, spell_flag).sep == "\t"
    assert check_csv_format("\\t", None, None, spell_flag).sep == "\t"
    assert check_csv_format(None, None, None, spell_flag) == CsvFormat()
    assert CsvFormat().given() == []


def test_a_message_without_pandas_advice_is_left_as_it_is() -> None:
    message = "target column 'y' must be numeric; fix or drop those rows."
    assert as_reading_advice(message, spell_flag) == message
