"""The HTML dashboard: self-contained, compact, atomic, and working in a real headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import warnings
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tests.browser import Browser
from tsforecast import datasets
from tsforecast.backtest import backtest
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.report import render, report

SERIES = ["H1", "H2", "H150", "H300"]


@pytest.fixture(scope="module")
def m4() -> pd.DataFrame:
    return datasets.load("m4_hourly").df


@pytest.fixture(scope="module")
def small(m4: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """A real backtest: two baselines on four M4 Hourly series, two 48-step folds."""
    df = m4[m4["unique_id"].isin(SERIES)].reset_index(drop=True)
    result = backtest(
        df, ["naive", "seasonal_naive"], horizon=48, n_windows=2, levels=[80, 95], n_jobs=1
    )
    return result, df


def _blob(page: str, k: int) -> dict[str, Any]:
    match = re.search(rf'<script type="application/json" id="tsf-s-{k}">(.*?)</script>', page)
    assert match is not None
    return json.loads(match.group(1))


def _meta(page: str) -> dict[str, Any]:
    return json.loads(re.search(r'id="tsf-meta">(.*?)</script>', page).group(1))  # type: ignore[union-attr]


def _f32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def test_page_is_self_contained(small: tuple[Any, pd.DataFrame], tmp_path: Path) -> None:
    result, df = small
    path = tsf.report(result, tmp_path / "small.html", history_df=df)
    page = path.read_text(encoding="utf-8")
    # plotly.js is inline: no script, stylesheet or frame is fetched from anywhere
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, flags=re.I)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?https?:", page, flags=re.I)
    assert not re.search(r"<(iframe|img)[^>]*\ssrc\s*=\s*[\"']?https?:", page, flags=re.I)
    assert "Plotly.react" in page and len(page) > 4_000_000  # the bundle itself is ~4.8 MB
    assert path.stat().st_size < 6_000_000
    # one data element per series, nothing hidden in traces
    assert page.count('type="application/json" id="tsf-s-') == len(SERIES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.html"]  # no temporary left


def test_the_page_inlines_the_packaged_assets(small: tuple[Any, pd.DataFrame]) -> None:
    result, df = small
    page = render(result, history_df=df)
    assets = resources.files("tsforecast.report") / "assets"
    for name in ("common.js", "dashboard.js", "dashboard.css"):
        assert (assets / name).read_text(encoding="utf-8") in page
    # every placeholder of the template is filled in
    for template in ("page.html", "shell.html"):
        placeholders = re.findall(r"\$\{\w+\}", (assets / template).read_text(encoding="utf-8"))
        assert len(placeholders) >= 2 and not [p for p in placeholders if p in page]


def test_tsf_report_stays_the_function_beside_its_package() -> None:
    # importing the package's modules must not turn `tsf.report` into the package
    from tsforecast.report import collect, page

    assert collect.__name__ == "tsforecast.report.collect" and page.__name__.endswith(".page")
    assert tsf.report is report and callable(tsf.report)


def test_series_blob_holds_history_actuals_and_forecasts(small: tuple[Any, pd.DataFrame]) -> None:
    result, df = small
    page = render(result, history_df=df)
    meta = _meta(page)
    assert meta["series"] == SERIES  # natural order: H2 before H150
    k = meta["series"].index("H150")
    blob = _blob(page, k)
    series = df[df["unique_id"] == "H150"]
    # integer hours, regular: the axis is start/step/length
    assert blob["t"] == {"start": 1.0, "step": 1.0, "n": len(series)}
    np.testing.assert_allclose(_f32(blob["y"][0]), series["y"].to_numpy(), rtol=1e-6)
    fc = result.forecasts
    assert len(blob["f"]) == 2 * 2  # 2 cutoffs x 2 models
    for cutoff_k, model_k, target_k, start, n, n_cols, values in blob["f"]:
        model = meta["models"][model_k]
        cutoff = blob["c"][cutoff_k][1]
        rows = fc[(fc.unique_id == "H150") & (fc.model == model) & (fc.cutoff == cutoff)]
        assert (target_k, n, n_cols) == (0, 48, 5)  # y_hat + (lo, hi) x 2 levels
        assert start == int(rows["ds"].iloc[0]) - 1  # position on the axis (ds starts at 1)
        block = _f32(values).reshape(n_cols, n)
        expected = rows[["y_hat", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]].to_numpy().T
        np.testing.assert_allclose(block, expected, rtol=1e-6)


def test_summaries_come_from_the_result(small: tuple[Any, pd.DataFrame]) -> None:
    result, df = small
    page = render(result, history_df=df)
    meta = _meta(page)
    by_h = result.metrics_by("horizon")
    mase_1 = by_h[(by_h.model == "naive") & (by_h.metric == "mase") & (by_h.horizon == 1)]
    assert meta["horizon"]["y"]["mase"]["naive"]["y"][0] == pytest.approx(
        mase_1["value"].iloc[0], rel=1e-5
    )
    # series end at different hours, so fold k is each series' k-th cutoff
    assert meta["folds"]["labels"] == ["fold 1", "fold 2"]
    assert set(meta["folds"]["data"]["y"]["smape"]) == {"naive", "seasonal_naive"}
    levels = {(r["model"], r["level"]) for r in meta["coverage"]["y"]}
    assert levels == {(m, lv) for m in ("naive", "seasonal_naive") for lv in (80, 95)}
    assert meta["training"] == []  # baselines only
    for model in ("naive", "seasonal_naive"):
        assert f"<td>{model}</td>" in page  # leaderboard rows


def test_the_worst_series_are_ranked_per_model_by_mase(small: tuple[Any, pd.DataFrame]) -> None:
    result, df = small
    meta = _meta(render(result, history_df=df))
    worst = meta["worst"]["y"]
    assert worst["metric"] == "mase"
    by_series = result.metrics_by("unique_id")
    for model in ("naive", "seasonal_naive"):
        mase = by_series[(by_series.model == model) & (by_series.metric == "mase")]
        expected = mase.sort_values("value", ascending=False)
        # [position in the explorer's series list, value], the highest MASE first
        assert [meta["series"][k] for k, _ in worst["models"][model]] == list(expected.unique_id)
        assert [v for _, v in worst["models"][model]] == pytest.approx(
            list(expected["value"]), rel=1e-5
        )


def test_without_mase_the_worst_series_are_ranked_by_smape(
    small: tuple[Any, pd.DataFrame],
) -> None:
    result, df = small

    def no_mase(by: str) -> pd.DataFrame:
        frame = result.metrics_by(by)
        return frame[frame.metric != "mase"]

    bare = SimpleNamespace(forecasts=result.forecasts, metrics_by=no_mase)
    worst = _meta(render(bare, history_df=df))["worst"]["y"]
    smape = no_mase("unique_id")
    smape = smape[(smape.model == "naive") & (smape.metric == "smape")]
    assert worst["metric"] == "smape"
    assert worst["models"]["naive"][0][1] == pytest.approx(smape["value"].max(), rel=1e-5)
    # no per-series metrics at all: nothing to rank, and the page says so
    assert _meta(render(SimpleNamespace(forecasts=result.forecasts)))["worst"] == {}


def test_training_curves_are_drawn_when_the_result_has_them(
    small: tuple[Any, pd.DataFrame],
) -> None:
    result, df = small

    class WithCurves:
        def __getattr__(self, name: str) -> Any:
            return getattr(result, name)

        training_curves = {  # noqa: RUF012 - a stand-in result attribute
            ("lstm", 911): [
                {"step": 10, "train_loss": 0.9, "val_loss": 1.0},
                {"step": 20, "train_loss": 0.5, "val_loss": 0.7},
            ]
        }

    page = render(WithCurves(), history_df=df)
    meta = _meta(page)
    assert meta["training"] == [
        {
            "model": "lstm",
            "label": "lstm · 911",
            "step": [10, 20],
            "train_loss": [0.9, 0.5],
            "val_loss": [1.0, 0.7],
        }
    ]


def test_write_is_atomic(
    small: tuple[Any, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, df = small
    path = tmp_path / "dash.html"
    report(result, path, history_df=df)
    before = path.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("disk full")

    # the failure happens while writing: the old dashboard stays, no temporary file is left
    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        report(result, path, history_df=df)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dash.html"]


def test_bad_arguments_are_refused(small: tuple[Any, pd.DataFrame], tmp_path: Path) -> None:
    result, _ = small
    with pytest.raises(InputError, match=r"must end in \.html"):
        report(result, tmp_path / "dash.txt")
    with pytest.raises(InputError, match="backtest result with a `forecasts` frame"):
        report(object(), tmp_path / "dash.html")
    with pytest.raises(InputError, match="max_history"):
        render(result, max_history=-1)
    assert list(tmp_path.iterdir()) == []


def test_the_history_comes_with_the_backtest_result(small: tuple[Any, pd.DataFrame]) -> None:
    result, _ = small
    page = render(result)  # no history_df: the result carries the frame it ran on
    y = _f32(_blob(page, 0)["y"][0])
    assert np.isfinite(y).sum() > 2 * 48


def test_without_history_the_actuals_still_show(small: tuple[Any, pd.DataFrame]) -> None:
    result, _ = small
    bare = SimpleNamespace(  # a result-like object that carries no history frame
        forecasts=result.forecasts,
        metrics=result.metrics,
        metrics_by=result.metrics_by,
        leaderboard=result.leaderboard,
        failures=result.failures,
        settings=result.settings,
    )
    page = render(bare)
    y = _f32(_blob(page, 0)["y"][0])
    assert np.isfinite(y).sum() == 2 * 48  # the two folds' actuals, from the forecasts frame


def test_whole_m4_hourly_backtest_stays_small(m4: pd.DataFrame, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = backtest(
            m4, ["naive", "seasonal_naive", "naive2"], horizon=48, n_windows=3, levels=[80, 95]
        )
    path = report(result, tmp_path / "m4.html", history_df=m4)
    size = path.stat().st_size
    print(f"M4 Hourly, 414 series x 3 models x 3 folds, levels 80/95: {size / 1e6:.1f} MB")
    # ~2.4 MB of data per model at this size: seven models stay under the 25 MB budget
    assert size < 14_000_000
    assert path.read_text(encoding="utf-8").count('id="tsf-s-') == 414


def test_dashboard_in_headless_chromium(small: tuple[Any, pd.DataFrame], tmp_path: Path) -> None:
    result, df = small
    path = report(result, tmp_path / "dash.html", history_df=df)
    with Browser(width=1400, height=1000) as browser:
        browser.open(path)
        browser.wait_until("window.tsfDashboard && window.tsfDashboard.ready")
        # every plot holds data (the training section has a note: no neural model here)
        counts = browser.evaluate(
            "Object.fromEntries(['tsf-explorer', 'tsf-horizon', 'tsf-folds', 'tsf-coverage']"
            ".map(id => { const gd = document.getElementById(id); return [id, (gd.data || [])"
            ".reduce((n, t) => n + ((t.y || t.z || []).flat().filter(v => v !== null)"
            ".length), 0)]; }))"
        )
        assert all(n > 0 for n in counts.values()), counts
        assert "No neural model" in browser.evaluate(
            "document.getElementById('tsf-training').textContent"
        )

        def plotted() -> dict[str, Any]:
            return browser.evaluate(
                "(() => { const gd = document.getElementById('tsf-explorer'); "
                "const actual = gd.data.find(t => t.name === 'actual'); return {series: "
                "gd.dataset.series, title: gd.layout.title.text, y: actual.y, "
                "models: gd.data.filter(t => t.showlegend !== false && t.name !== 'actual')"
                ".map(t => t.name)}; })()"
            )

        first = plotted()
        assert first["series"] == first["title"] == "H1"
        assert set(first["models"]) == {"naive", "seasonal_naive"}
        browser.evaluate(
            "(() => { const sel = document.getElementById('tsf-series'); sel.value = "
            "String(window.tsfDashboard.load ? [...sel.options].find(o => o.text === 'H300')"
            ".value : ''); sel.dispatchEvent(new Event('change')); })()"
        )
        second = plotted()
        assert second["series"] == second["title"] == "H300"
        expected = df.loc[df["unique_id"] == "H300", "y"].to_numpy()
        np.testing.assert_allclose(np.array(second["y"], dtype=float), expected, rtol=1e-6)
        assert second["y"] != first["y"]

        # a click in the worst-series ranking opens that series, even one the filter hides
        by_series = result.metrics_by("unique_id")
        mase = by_series[(by_series.model == "naive") & (by_series.metric == "mase")]
        second_worst = mase.sort_values("value", ascending=False).unique_id.iloc[1]
        shown = browser.evaluate(
            "(() => { const f = document.getElementById('tsf-filter'); f.value = 'H3'; "
            "f.dispatchEvent(new Event('input')); const cells = document.querySelectorAll("
            "'#tsf-worst-table tbody tr:nth-child(2) button'); cells[0].click(); return "
            "{series: document.getElementById('tsf-explorer').dataset.series, filter: f.value, "
            "ranking: document.querySelectorAll('#tsf-worst-table tbody tr').length}; })()"
        )
        assert shown == {"series": second_worst, "filter": "", "ranking": len(SERIES)}

        shot = browser.screenshot(tmp_path / "dashboard.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
        print(f"screenshot: {shot}")
        assert browser.console_errors() == []
        urls = browser.requested_urls()
        assert urls and all(u.startswith(("file:", "data:", "blob:")) for u in urls), urls


def test_an_oversized_page_warns_with_advice(
    small: tuple[Any, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, df = small
    module = sys.modules["tsforecast.report"]  # `tsforecast.report` is the function
    monkeypatch.setattr(module, "SIZE_BUDGET_MB", 1)
    with pytest.warns(TsforecastWarning, match=r"over the 1 MB .* smaller `max_history`"):
        render(result, history_df=df)


def test_a_neural_model_is_drawn_like_any_other(m4: pd.DataFrame) -> None:
    df = m4[m4["unique_id"].isin(SERIES)].reset_index(drop=True)
    params = {"max_steps": 5, "input_size": 48, "hidden_size": 8, "progress": False}
    result = backtest(
        df, ["seasonal_naive", ("lstm", params)], horizon=48, levels=[80], n_jobs=1, device="cpu"
    )
    page = render(result, history_df=df)
    meta = _meta(page)
    assert meta["models"] == ["seasonal_naive", "lstm"] and meta["neural"] == ["lstm"]
    entries = _blob(page, 0)["f"]
    lstm = [e for e in entries if meta["models"][e[1]] == "lstm"]
    assert len(lstm) == 1 and lstm[0][5] == 3  # y_hat with its 80% interval
    assert np.isfinite(_f32(lstm[0][6])).all()
    assert {c["model"] for c in meta["training"]} == {"lstm"}  # the engine keeps the history
