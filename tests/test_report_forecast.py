"""The page of a forecast: `tsf.report(fc, path, history_df=df)` of what `tsf.forecast()` returns.

Per series its history, the forecast and a band per interval level, one plot per target; what
made it (the model; for `auto` the candidates, their inner MASE, the choice, the excluded series
and the time budget) and the fallbacks. Pandas and polars, datetime and integer time.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
from tests.browser import Browser
from tsforecast import datasets
from tsforecast.cli.main import main
from tsforecast.errors import InputError
from tsforecast.estimators.auto_selection import option_name
from tsforecast.report import render, report

SERIES = ["H1", "H2", "H150", "H300"]


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    """Four M4 Hourly series (integer time), the last 400 hours of each."""
    df = datasets.load("m4_hourly").df
    df = df[df["unique_id"].isin(SERIES)]
    return df.groupby("unique_id", sort=False).tail(400).reset_index(drop=True)


@pytest.fixture(scope="module")
def auto_fc(hourly: pd.DataFrame) -> pd.DataFrame:
    """`auto` over two cheap candidates, with 80 and 95 % intervals."""
    return tsf.forecast(
        hourly,
        48,
        levels=(80, 95),
        candidates=["naive", "seasonal_naive"],
        season_length=24,
        time_budget_s=60,
        n_jobs=1,
    )


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    return datasets.load("air_passengers").df


def _meta(page: str) -> dict[str, Any]:
    return json.loads(re.search(r'id="tsf-meta">(.*?)</script>', page).group(1))  # type: ignore[union-attr]


def _blob(page: str, k: int) -> dict[str, Any]:
    match = re.search(rf'<script type="application/json" id="tsf-s-{k}">(.*?)</script>', page)
    assert match is not None
    return json.loads(match.group(1))


def _f32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def _block(page: str, k: int, target_k: int = 0) -> np.ndarray:
    """Series k's forecast of target `target_k`: rows y_hat, lo_1, hi_1, lo_2, hi_2 ..."""
    entry = next(e for e in _blob(page, k)["f"] if e[2] == target_k)
    _, _, _, _, n, n_cols, values = entry
    return _f32(values).reshape(n_cols, n)


# ---------------------------------------------------------------- what the forecast carries
def test_the_forecast_says_how_it_was_made_for_pandas_and_polars(
    hourly: pd.DataFrame, auto_fc: pd.DataFrame
) -> None:
    settings = auto_fc.attrs["settings"]
    assert {k: settings[k] for k in ("model", "horizon", "id_col", "time_col")} == {
        "model": "auto",
        "horizon": 48,
        "id_col": "unique_id",
        "time_col": "ds",
    }
    assert settings["levels"] == [80, 95] and settings["target_cols"] == ["y"]
    assert settings["time_budget_s"] == 60 and settings["seconds"] > 0
    assert auto_fc.attrs["auto_selection"].candidates == ["naive", "seasonal_naive"]
    assert auto_fc.attrs["failures"] == []  # records: every series fitted
    # polars frames have no attrs of their own: the output carries the same dict as an attribute
    fp = tsf.forecast(pl.from_pandas(hourly), 12, model="naive", n_jobs=1)
    assert isinstance(fp, pl.DataFrame)
    assert fp.attrs["settings"]["model"] == "naive" and "auto_selection" not in fp.attrs


def test_a_forecast_with_its_attrs_still_concatenates_and_prints(auto_fc: pd.DataFrame) -> None:
    # pandas compares attrs when it concatenates (and when it prints a wide frame): a frame
    # inside attrs made that raise "the truth value of a DataFrame is ambiguous"
    both = pd.concat([auto_fc, auto_fc])
    assert len(both) == 2 * len(auto_fc)
    assert "H150" in auto_fc.to_string(max_cols=3)


# ---------------------------------------------------------------- the page's content
def test_the_page_shows_every_series_its_history_and_each_level(
    hourly: pd.DataFrame, auto_fc: pd.DataFrame, tmp_path: Path
) -> None:
    path = tsf.report(auto_fc, tmp_path / "fc.html", history_df=hourly)
    page = path.read_text(encoding="utf-8")
    meta = _meta(page)
    assert meta["series"] == SERIES and meta["levels"] == [80, 95] and meta["has_history"]
    assert page.count('type="application/json" id="tsf-s-') == len(SERIES)
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, flags=re.I)  # plotly.js inline
    assert "tsf-no-history" not in page
    for k, uid in enumerate(SERIES):
        rows = auto_fc[auto_fc["unique_id"] == uid]
        expected = rows[["y", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]].to_numpy().T
        np.testing.assert_allclose(_block(page, k), expected, rtol=1e-6)
        blob = _blob(page, k)
        history = hourly.loc[hourly["unique_id"] == uid, "y"].to_numpy()
        y = _f32(blob["y"][0])
        np.testing.assert_allclose(y[: len(history)], history, rtol=1e-6)
        assert np.isnan(y[len(history) :]).all() and len(y) == len(history) + 48
        # the marker stands at the series' last observed hour
        assert blob["c"][0][1] == hourly.loc[hourly["unique_id"] == uid, "ds"].max()


def test_the_page_inlines_its_packaged_assets(auto_fc: pd.DataFrame) -> None:
    page = render(auto_fc)
    assets = resources.files("tsforecast.report") / "assets"
    for name in ("common.js", "forecast.js", "dashboard.css"):
        assert (assets / name).read_text(encoding="utf-8") in page
    for template in ("forecast.html", "shell.html"):
        placeholders = re.findall(r"\$\{\w+\}", (assets / template).read_text(encoding="utf-8"))
        assert len(placeholders) >= 2 and not [p for p in placeholders if p in page]


def test_the_page_says_what_auto_chose_and_why(hourly: pd.DataFrame, auto_fc: pd.DataFrame) -> None:
    selection = auto_fc.attrs["auto_selection"]
    page = render(auto_fc, history_df=hourly)
    chosen = option_name(selection.chosen, selection.get("weights", []))
    assert f'<b id="tsf-chosen">{chosen}</b>' in page
    assert _meta(page)["model"] == f"auto ({chosen})"
    table = re.search(r'<table class="board" id="tsf-candidates">(.*?)</table>', page)
    assert table is not None
    shown = selection.inner_owa if selection.criterion == "owa" else selection.inner_mase
    for name, value in shown.items():  # each candidate and combination
        assert re.search(rf"<td>{re.escape(name)}</td><td class=\"num\">{value:.4g}</td>", page)
    # naive, seasonal_naive, their median and their weighted means 0.75 / 0.25 either way
    assert len(selection.inner_mase) == 5
    assert "Time budget: 60 s" in page and selection.reason in page
    assert "Every series took part in the choice." in page


def test_excluded_series_and_fallbacks_are_listed(auto_fc: pd.DataFrame) -> None:
    fc = auto_fc.copy()
    fc.attrs["auto_selection"] = tsf.api.AutoSelection(
        chosen=["naive"],
        inner_mase={"naive": 1.0},
        candidates=["naive", "lstm"],
        skipped={"lstm": "uses no known-future covariates"},
        excluded=["H300"],
    )
    fc.attrs["failures"] = [{"unique_id": "H2", "model": "ets", "error": "did not converge"}]
    page = render(fc)
    excluded = re.search(r'<div id="tsf-excluded">(.*?)</div>', page)
    assert excluded is not None and excluded.group(1).startswith("1 series were too short")
    assert "H300" in excluded.group(1)
    assert "<h3>Fallbacks (1)</h3>" in page and "did not converge" in page
    # a candidate that did not run is listed with the reason, without a score
    assert '<td>lstm</td><td class="num">–</td><td>uses no known-future covariates</td>' in page


def test_polars_integer_time_and_a_named_model(hourly: pd.DataFrame) -> None:
    fp = tsf.forecast(pl.from_pandas(hourly), 24, model="seasonal_naive", season_length=24)
    page = render(fp, history_df=pl.from_pandas(hourly))
    meta = _meta(page)
    assert meta["model"] == "seasonal_naive" and meta["levels"] == []
    assert meta["is_datetime"] is False
    assert '<b id="tsf-model">seasonal_naive</b>' in page
    assert "tsf-candidates" not in page  # no selection panel for a model that chose nothing
    fc = fp.to_pandas()
    np.testing.assert_allclose(_block(page, 0)[0], fc.loc[fc.unique_id == "H1", "y"], rtol=1e-6)


def test_datetime_time_and_every_target_of_a_multivariate_forecast() -> None:
    data = datasets.load("etth1")
    df = data.df[["unique_id", "ds", "OT", "HUFL"]].tail(24 * 20).reset_index(drop=True)
    fc = tsf.forecast(df, 24, model="seasonal_naive", target_col=["OT", "HUFL"], levels=(80,))
    page = render(fc, history_df=df)
    meta = _meta(page)
    assert meta["targets"] == ["OT", "HUFL"] and meta["is_datetime"] is True
    blob = _blob(page, 0)
    assert len(blob["y"]) == 2 and sorted(e[2] for e in blob["f"]) == [0, 1]
    for k, target in enumerate(["OT", "HUFL"]):
        expected = fc[[target, f"{target}_lo_80", f"{target}_hi_80"]].to_numpy().T
        np.testing.assert_allclose(_block(page, 0, k), expected, rtol=1e-6)
        np.testing.assert_allclose(_f32(blob["y"][k])[: len(df)], df[target], rtol=1e-6)
    # the time axis is epoch milliseconds, hourly
    assert blob["t"]["step"] == 3_600_000.0


def test_without_history_the_forecast_still_renders_and_says_so(auto_fc: pd.DataFrame) -> None:
    page = render(auto_fc)
    assert 'id="tsf-no-history"' in page and "history_df=df" in page
    assert _meta(page)["has_history"] is False
    y = _f32(_blob(page, 0)["y"][0])
    assert len(y) == 48 and np.isnan(y).all()  # only the future on the axis


def test_a_forecast_read_back_from_csv_renders(auto_fc: pd.DataFrame, tmp_path: Path) -> None:
    auto_fc.to_csv(tmp_path / "fc.csv", index=False)
    fc = pd.read_csv(tmp_path / "fc.csv")  # no attrs: the default names, bounds by suffix
    meta = _meta(render(fc))
    assert meta["targets"] == ["y"] and meta["levels"] == [80, 95] and meta["model"] == "forecast"


def test_many_series_keep_less_history_so_the_page_stays_bounded(
    hourly: pd.DataFrame, auto_fc: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = sys.modules["tsforecast.report.forecast"]
    # a budget of 4 series x (48 forecast steps x 5 columns + 100 history steps + overhead)
    overhead = module._SERIES_OVERHEAD_NUMBERS
    monkeypatch.setattr(module, "FORECAST_PAGE_NUMBERS", 4 * (48 * 5 + 100 + overhead))
    page = render(auto_fc, history_df=hourly)
    assert len(_f32(_blob(page, 0)["y"][0])) == 100 + 48
    # never below two horizons of history, and an explicit `max_history` is kept as given
    monkeypatch.setattr(module, "FORECAST_PAGE_NUMBERS", 10)
    assert len(_f32(_blob(render(auto_fc, history_df=hourly), 0)["y"][0])) == 2 * 48 + 48
    page = render(auto_fc, history_df=hourly, max_history=7)
    assert len(_f32(_blob(page, 0)["y"][0])) == 7 + 48


@pytest.mark.slow
def test_ten_thousand_series_make_a_page_under_the_budget(tmp_path: Path) -> None:
    n_series, length = 10_000, 200
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{k}" for k in range(n_series)], length),
            "ds": np.tile(np.arange(length), n_series),
            "y": rng.normal(size=n_series * length).cumsum(),
        }
    )
    fc = tsf.forecast(df, 24, model="naive", levels=(80, 95))
    path = report(fc, tmp_path / "big.html", history_df=df)
    size = path.stat().st_size
    print(f"10,000 series x 24 steps, levels 80/95, history {length}: {size / 1e6:.1f} MB")
    assert size < tsf.report.__globals__["SIZE_BUDGET_MB"] * 1e6
    assert path.read_text(encoding="utf-8").count('id="tsf-s-') == n_series


# ---------------------------------------------------------------- refusals and writing
def test_bad_input_is_refused_with_what_to_do(
    hourly: pd.DataFrame, auto_fc: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"must end in \.html, got '.*fc\.png'"):
        report(auto_fc, tmp_path / "fc.png")
    with pytest.raises(InputError, match=r"`tsforecast.forecast\(...\)` returns .* got list"):
        report([1, 2], tmp_path / "fc.html")
    with pytest.raises(
        InputError, match=r"no rows for 1 series of the forecast \('unique_id'\): \['H300'\]"
    ):
        render(auto_fc, history_df=hourly[hourly["unique_id"] != "H300"])
    other = pd.concat([hourly, hourly.assign(unique_id="H999")])
    with pytest.raises(
        InputError, match=r"holds 1 series the forecast does not have \('unique_id'\): \['H999'\]"
    ):
        render(auto_fc, history_df=other)
    with pytest.raises(InputError, match=r"lacks the forecast's columns \['y'\]"):
        render(auto_fc, history_df=hourly.rename(columns={"y": "value"}))
    with pytest.raises(InputError, match="must be a pandas or polars DataFrame, got dict"):
        render(auto_fc, history_df={"unique_id": []})
    dated = hourly.assign(ds=pd.Timestamp("2020-01-01") + pd.to_timedelta(hourly["ds"], "h"))
    with pytest.raises(InputError, match=r"`history_df\['ds'\]` is datetime64.* forecast's is int"):
        render(auto_fc, history_df=dated)
    res = tsf.backtest(hourly, ["naive"], horizon=24, n_windows=1, n_jobs=1)
    with pytest.raises(InputError, match="pass the backtest result itself"):
        render(res.forecasts)
    with pytest.raises(InputError, match=r"lacks the columns \['unique_id'\]"):
        render(auto_fc.rename(columns={"unique_id": "id"}).pipe(_without_attrs))
    assert list(tmp_path.iterdir()) == []  # nothing written for a refused call


def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs = {}
    return frame


def test_the_page_is_written_atomically(
    auto_fc: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fc.html"
    report(auto_fc, path)
    before = path.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        report(auto_fc, path)
    assert path.read_bytes() == before  # the old page stays, no temporary file is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.html"]


def test_the_cli_forecast_writes_its_report(air: pd.DataFrame, tmp_path: Path) -> None:
    data = tmp_path / "air.csv"
    air.to_csv(data, index=False)
    out, page = tmp_path / "fc.csv", tmp_path / "fc.html"
    args = ["forecast", str(data), "-H", "12", "--model", "theta", "--levels", "80", "95"]
    assert main([*args, "--out", str(out), "--report", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert '<b id="tsf-model">theta</b>' in html and _meta(html)["has_history"] is True
    assert len(pd.read_csv(out)) == 12
    # a report path that is not .html is refused before any forecast is made
    assert main([*args, "--report", str(tmp_path / "fc.pdf")]) == 2
    assert not (tmp_path / "fc.pdf").exists()


# ---------------------------------------------------------------- in a real browser
def test_forecast_page_in_headless_chromium(
    hourly: pd.DataFrame, auto_fc: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a picker page of 2 series, so that the 4 series need paging
    monkeypatch.setattr(sys.modules["tsforecast.report.forecast_page"], "PICKER_PAGE", 2)
    path = report(auto_fc, tmp_path / "fc.html", history_df=hourly)
    with Browser(width=1300, height=1000) as browser:
        browser.open(path)
        browser.wait_until("window.tsfForecast && window.tsfForecast.ready")

        def plotted() -> dict[str, Any]:
            return browser.evaluate(
                "(() => { const gd = document.getElementById('tsf-plot-0'); return {series: "
                "document.getElementById('tsf-plots').dataset.series, names: gd.data.map(t => "
                "t.name || null), history: gd.data[0].y.filter(v => v !== null).length, "
                "options: [...document.getElementById('tsf-series').options].map(o => o.text),"
                " count: document.getElementById('tsf-series-count').textContent}; })()"
            )

        first = plotted()
        selection = auto_fc.attrs["auto_selection"]
        chosen = option_name(selection.chosen, selection.get("weights", []))
        assert first["series"] == "H1" and first["options"] == ["H1", "H2"]
        assert "4 of 4 series (listing 1–2" in first["count"]
        assert first["names"] == [
            "history",
            None,
            "95% interval",
            None,
            "80% interval",
            f"auto ({chosen})",
        ]
        assert first["history"] == 400
        # the arrow walks past the listed page: the picker turns to the next one
        browser.evaluate("document.getElementById('tsf-next').click()")
        browser.evaluate("document.getElementById('tsf-next').click()")
        third = plotted()
        assert third["series"] == "H150" and third["options"] == ["H150", "H300"]
        # the search narrows the list and shows its first match
        browser.evaluate(
            "(() => { const f = document.getElementById('tsf-filter'); f.value = 'h30'; "
            "f.dispatchEvent(new Event('input')); })()"
        )
        found = plotted()
        assert found["series"] == "H300" and found["options"] == ["H300"]
        assert found["count"] == "1 of 4 series"
        browser.screenshot(tmp_path / "forecast.png")
        assert browser.console_errors() == []
        urls = browser.requested_urls()
        assert all(u.startswith(("file:", "data:", "blob:")) for u in urls), urls


def test_a_multivariate_forecast_without_history_in_chromium(tmp_path: Path) -> None:
    data = datasets.load("etth1")
    df = data.df[["unique_id", "ds", "OT", "HUFL"]].tail(24 * 20).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = tsf.forecast(df, 24, model="seasonal_naive", target_col=["OT", "HUFL"])
    path = report(fc, tmp_path / "mv.html")
    with Browser(width=1300, height=1000) as browser:
        browser.open(path)
        browser.wait_until("window.tsfForecast && window.tsfForecast.ready")
        state = browser.evaluate(
            "[...document.querySelectorAll('#tsf-plots > div')].map(d => "
            "[d.layout.title.text, d.data.map(t => t.name)])"
        )
        # one plot per target, the forecast only (no history trace, no interval)
        assert state == [
            ["ETTh1 · OT", ["seasonal_naive"]],
            ["ETTh1 · HUFL", ["seasonal_naive"]],
        ]
        assert browser.console_errors() == []


def test_a_page_path_that_is_a_folder_is_refused_before_the_page_is_built(tmp_path: Path) -> None:
    # it was an IsADirectoryError from os.replace once the page had been rendered
    folder = tmp_path / "page.html"
    folder.mkdir()
    fc = pd.DataFrame({"unique_id": "a", "ds": [1, 2], "y": [1.0, 2.0]})
    with pytest.raises(InputError, match="is a folder"):
        tsf.report(fc, folder)
    assert list(tmp_path.iterdir()) == [folder] and not any(folder.iterdir())
