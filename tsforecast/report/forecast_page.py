"""The forecast page's HTML: `assets/forecast.html` filled with `forecast.forecast_data`, inside
the shell every page shares (`page.fill_shell`).

Same approach as the backtest dashboard (`page.py`): plotly.js, the style and the scripts are
inlined, the per-series data are `<script type="application/json">` blobs parsed when a series
is shown. The panels saying how the forecast was made (model, what `auto` chose and why, the
fallbacks) are HTML made here.
"""

from __future__ import annotations

import datetime as dt
import html
import string
from typing import Any

from tsforecast.report.encode import json_scalar, script_json
from tsforecast.report.page import (
    asset,
    failures_html,
    fill_shell,
    format_number,
    nav_links,
    settings_html,
)

__all__ = ["PICKER_PAGE", "build_forecast_page", "default_forecast_title"]

PICKER_PAGE = 500  # series listed at once in the picker; the search box narrows the rest
_EXCLUDED_SHOWN = 200  # excluded series named in the selection panel


def default_forecast_title(data: dict[str, Any]) -> str:
    return f"tsforecast forecast — {data['model']}"


def build_forecast_page(data: dict[str, Any], title: str) -> str:
    """The whole HTML document of `data`."""
    from tsforecast import __version__

    blobs = "\n".join(
        f'<script type="application/json" id="tsf-s-{k}">{blob}</script>'
        for k, blob in enumerate(data["blobs"])
    )
    levels = data["levels"]
    facts = [
        f"{len(data['series_ids'])} series",
        f"horizon {data['horizon']}",
        f"target{'s' if len(data['targets']) > 1 else ''} {', '.join(data['targets'])}",
        f"levels {' / '.join(f'{v:g}' for v in levels)} %" if levels else "no intervals",
        f"model {data['model']}",
        f"tsforecast {__version__}",
        dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    ]
    history_note = (
        ""
        if data["has_history"]
        else '<p class="note-inline" id="tsf-no-history">No <code>history_df</code> was given: '
        "the page shows the forecast only. Pass <code>history_df=df</code> (the frame the "
        "forecast was made from) to draw each series' past.</p>"
    )
    meta = {
        "model": data["model"],
        "targets": data["targets"],
        "levels": levels,
        "is_datetime": data["is_datetime"],
        "series": data["series_ids"],
        "has_history": data["has_history"],
        "page_size": PICKER_PAGE,
    }
    main = string.Template(asset("forecast.html")).substitute(
        history_note=history_note,
        model=_model_html(data),
        run=settings_html(data["settings"]) + failures_html(data["failures"]),
    )
    return fill_shell(
        title=title,
        facts=facts,
        nav=nav_links(("series", "series"), ("model", "model"), ("run", "run")),
        main=main,
        meta=script_json(meta),
        blobs=blobs,
        js=asset("forecast.js"),
    )


def _model_html(data: dict[str, Any]) -> str:
    """The model panel: its name and, for `auto`, what it measured and chose."""
    settings = data["settings"]
    selection = data["selection"]
    head = f'<p>Model: <b id="tsf-model">{html.escape(data["model"])}</b>'
    if settings.get("seconds") is not None:
        head += f" · {format_number(settings['seconds'])} s"
    head += "</p>"
    if selection is None:
        if settings.get("model") == "auto":
            return head + '<p class="muted">The frame carries no record of what auto chose.</p>'
        return head
    return head + _selection_html(selection, settings)


def _selection_html(selection: dict[str, Any], settings: dict[str, Any]) -> str:
    from tsforecast.estimators.auto_selection import option_name

    chosen = [str(m) for m in selection.get("chosen") or []]
    weights = [float(w) for w in selection.get("weights") or []]
    chosen_key = option_name(chosen, weights) if chosen else "nothing"
    by_owa = selection.get("criterion") == "owa" and bool(selection.get("inner_owa"))
    measure = f"inner OWA vs {selection.get('owa_reference')}" if by_owa else "inner MASE"
    scores: dict[str, Any] = dict(selection.get("inner_owa" if by_owa else "inner_mase") or {})
    skipped: dict[str, Any] = dict(selection.get("skipped") or {})
    names = list(scores) + [
        str(c) for c in selection.get("candidates") or [] if str(c) not in scores
    ]
    names += [n for n in skipped if n not in names]
    ranked = sorted(names, key=lambda n: (scores.get(n) is None, scores.get(n) or 0.0))
    rows = []
    for name in ranked:
        is_chosen = name == chosen_key
        note = "chosen" if is_chosen else html.escape(str(skipped.get(name, "")))
        if not note and name not in scores:
            note = "not scored"
        rows.append(
            f"<tr{' class=chosen' if is_chosen else ''}><td>{html.escape(name)}</td>"
            f'<td class="num">{format_number(scores.get(name))}</td><td>{note}</td></tr>'
        )
    parts = [
        f'<p>auto chose <b id="tsf-chosen">{html.escape(chosen_key)}</b>'
        f"{' (the median of their forecasts)' if len(chosen) > 1 and not weights else ''}"
        f"{' (the weighted mean of their forecasts)' if weights else ''}: "
        f"{html.escape(str(selection.get('reason') or 'no reason recorded'))}.</p>",
        '<table class="board" id="tsf-candidates"><thead><tr><th>candidate or combination</th>'
        f"<th>{html.escape(measure)}</th><th></th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table>",
        '<p class="muted small">Inner MASE: each candidate\'s mean MASE over a rolling-origin '
        "backtest on the end of the training data; inner OWA (when every value is > 0): the mean "
        "of its MASE and sMAPE ratios to the candidate of lowest MASE; median(a, b) and "
        "0.75 a + 0.25 b combine the best ones on the same folds. The lowest is chosen.</p>",
    ]
    budget = settings.get("time_budget_s")
    parts.append(
        f"<p>Time budget: {format_number(budget) + ' s' if budget is not None else 'none'}"
        f" · used {format_number(selection.get('seconds'))} s</p>"
    )
    excluded = list(selection.get("excluded") or [])
    if excluded:
        shown = ", ".join(html.escape(str(json_scalar(u))) for u in excluded[:_EXCLUDED_SHOWN])
        n_more = len(excluded) - _EXCLUDED_SHOWN
        more = f" … and {n_more} more" if n_more > 0 else ""
        parts.append(
            f'<div id="tsf-excluded">{len(excluded)} series were too short for the inner folds '
            "and took no part in the choice (they are forecast by the chosen model): "
            f"<details><summary>show</summary>{shown}{more}</details></div>"
        )
    else:
        parts.append('<p id="tsf-excluded">Every series took part in the choice.</p>')
    known = {"chosen", "inner_mase", "candidates", "skipped", "excluded", "reason", "seconds"}
    known |= {"weights", "criterion", "owa_reference", "inner_owa"}
    other = {k: v for k, v in selection.items() if k not in known}
    if other:  # what a later version of the record holds, shown as it is
        parts.append(settings_html(other))
    return "".join(parts)
