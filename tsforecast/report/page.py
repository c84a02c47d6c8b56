"""The dashboard's HTML: the template `assets/page.html` filled with the collected data.

The page's sections live in `assets/page.html` inside the document shell every page shares
(`assets/shell.html`: head, header, meta and scripts; see `fill_shell`), its script and style
in `assets/dashboard.js` and `assets/dashboard.css` (package data, read with
`importlib.resources`). Everything is inlined, plotly.js included, so the one file works
offline. The leaderboard and run tables are HTML made here; the plots are drawn in the
browser from the JSON in `tsf-meta` and the per-series blobs (see `series.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import string
from importlib import resources
from typing import Any

import pandas as pd

from tsforecast.report.encode import json_safe, json_scalar, script_json, to_float

__all__ = [
    "asset",
    "build_page",
    "default_title",
    "failures_html",
    "fill_shell",
    "format_number",
    "settings_html",
]

# Metrics where a larger value is better (nothing to highlight as "lowest is best").
_HIGHER_IS_BETTER = re.compile(r"^coverage")
_NEURAL = re.compile(r"^(lstm|bilstm|seq2seq)(_\d+)?$")  # the registry's names, maybe numbered
_NOT_AN_ERROR = re.compile(r"^(coverage|pinball|n_|fit_|time|elapsed)")


@functools.cache
def asset(name: str) -> str:
    """The text of `assets/NAME` (read once: every page of a run uses the same files)."""
    return (resources.files("tsforecast.report") / "assets" / name).read_text(encoding="utf-8")


def fill_shell(
    *, title: str, facts: list[str], nav: str, main: str, meta: str, blobs: str, js: str
) -> str:
    """The whole document: `main` (a page's filled sections) inside the shared shell, with
    plotly.js, the style and the scripts inlined. `title` and `facts` are plain text."""
    # plotly is imported when a page is built, not with the package
    from plotly.offline import get_plotlyjs

    from tsforecast import __version__

    return string.Template(asset("shell.html")).substitute(
        version=__version__,
        title=html.escape(title),
        facts=html.escape(" · ".join(facts)),
        nav=nav,
        main=main,
        meta=meta,
        blobs=blobs,
        css=asset("dashboard.css"),
        plotly=get_plotlyjs(),
        common_js=asset("common.js"),
        js=js,
    )


def nav_links(*sections: tuple[str, str]) -> str:
    """The header's links to the page's sections, given as (anchor, label)."""
    return " ".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in sections)


def default_title(settings: dict[str, Any]) -> str:
    name = settings.get("name") or settings.get("experiment")
    return f"tsforecast backtest — {name}" if name else "tsforecast backtest"


def build_page(data: dict[str, Any], title: str) -> str:
    """The whole HTML document of `data` (what `collect.dashboard_data` returns)."""
    from tsforecast import __version__

    blobs = "\n".join(
        f'<script type="application/json" id="tsf-s-{k}">{blob}</script>'
        for k, blob in enumerate(data["blobs"])
    )
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = [
        f"{len(data['series_ids'])} series",
        f"{len(data['models'])} models",
        f"{data['n_cutoffs']} fold{'s' if data['n_cutoffs'] != 1 else ''}",
        f"{data['n_forecasts']} forecasts",
        f"tsforecast {__version__}",
        created,
    ]
    # with one target the selector stays (the script reads it) but is hidden
    target_control = (
        '<label class="target">target <select id="tsf-target"></select></label>'
        if len(data["targets"]) > 1
        else '<select id="tsf-target" hidden></select>'
    )
    main = string.Template(asset("page.html")).substitute(
        leaderboard=_leaderboard_html(data["leaderboard"]),
        run=settings_html(data["settings"]) + failures_html(data["failures"]),
    )
    nav = nav_links(
        ("leaderboard", "leaderboard"),
        ("worst", "worst series"),
        ("explorer", "explorer"),
        ("horizon", "by horizon"),
        ("folds", "folds"),
        ("coverage", "coverage"),
        ("training", "training"),
        ("run", "run"),
    )
    return fill_shell(
        title=title,
        facts=facts,
        nav=f"{nav} {target_control}",
        main=main,
        meta=script_json(_meta(data)),
        blobs=blobs,
        js=asset("dashboard.js"),
    )


def _meta(data: dict[str, Any]) -> dict[str, Any]:
    """What the script reads from `tsf-meta`: everything but the per-series blobs."""
    return {
        "models": data["models"],
        "targets": data["targets"],
        "levels": data["levels"],
        "is_datetime": data["is_datetime"],
        "series": data["series_ids"],
        "horizon": data["horizon"],
        "folds": data["folds"],
        "coverage": data["coverage"],
        "training": data["training"],
        "worst": data["worst"],
        "n_cutoffs": data["n_cutoffs"],
        "neural": [m for m in data["models"] if _NEURAL.match(str(m))],
        "season_length": data["settings"].get("season_length"),
        "default_metric": _default_metric(data),
    }


def _default_metric(data: dict[str, Any]) -> str | None:
    """The leaderboard's first error metric (its sort key), else any metric by horizon."""
    board = data["leaderboard"]
    if board is not None:
        for column in board.columns:
            name = str(column)
            if (
                name not in ("model", "target", "rank")
                and not _NOT_AN_ERROR.match(name)
                and pd.api.types.is_numeric_dtype(board[column])
            ):
                return name
    for per_metric in data["horizon"].values():
        errors = [m for m in per_metric if not _NOT_AN_ERROR.match(m)]
        return errors[0] if errors else next(iter(per_metric), None)
    return None


def _leaderboard_html(board: pd.DataFrame | None) -> str:
    if board is None or board.empty:
        return '<p class="muted">No metrics in this result.</p>'
    columns = [str(c) for c in board.columns]
    numeric = [pd.api.types.is_numeric_dtype(board[c]) for c in board.columns]
    best: dict[int, Any] = {}
    for k, column in enumerate(board.columns):
        if numeric[k] and str(column) not in ("rank",):
            values = pd.to_numeric(board[column], errors="coerce")
            if values.notna().any() and not _HIGHER_IS_BETTER.match(str(column)):
                best[k] = values.min()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in board.itertuples(index=False):
        cells = []
        for k, value in enumerate(row):
            if numeric[k]:
                text = format_number(value)
                css = ' class="num best"' if k in best and value == best[k] else ' class="num"'
            else:
                text, css = html.escape(str(json_scalar(value))), ""
            cells.append(f"<td{css}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="board" id="tsf-leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        '<p class="muted small">Lower is better; the best value of each error column is '
        "in bold. Coverage is the share of actuals inside the interval (nominal: its level).</p>"
    )


def format_number(value: Any) -> str:
    number = to_float(value)
    if number is None:
        return "–"
    if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
        return f"{number:.3e}"
    return f"{number:,.4g}" if abs(number) >= 1000 else f"{number:.4g}"


def settings_html(settings: dict[str, Any]) -> str:
    if not settings:
        return '<p class="muted">The result carries no settings.</p>'
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_short(v))}</td></tr>"
        for k, v in settings.items()
    )
    return f'<table class="kv">{rows}</table>'


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(json_safe(value)) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failures_html(failures: pd.DataFrame | None, limit: int = 200) -> str:
    if failures is None or failures.empty:
        return "<h3>Fallbacks</h3><p>None: every model fitted every series.</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in failures.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_short(v, 200))}</td>" for v in row) + "</tr>"
        for row in failures.head(limit).itertuples(index=False)
    )
    more = (
        f'<p class="muted">… and {len(failures) - limit} more.</p>' if len(failures) > limit else ""
    )
    return (
        f"<h3>Fallbacks ({len(failures)})</h3><details><summary>show</summary>"
        f'<table class="board" id="tsf-failures"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>{more}</details>"
    )
