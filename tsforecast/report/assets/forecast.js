(function () {
  'use strict';
  // The forecast page: per series, its history, the forecast and a band per interval level,
  // one plot per target. The picker lists at most META.page_size series at once (10k ids in
  // one <select> make it slow to open); the search box narrows, the arrows walk the matches.
  const META = JSON.parse(document.getElementById('tsf-meta').textContent);
  const {PALETTE, rgba, decodeSeries, fillSelect} = window.tsfCommon;
  const CONFIG = {displaylogo: false, responsive: true};
  const $ = (id) => document.getElementById(id);
  const errors = [];
  window.tsfForecast = {ready: false, errors: errors};
  const xType = META.is_datetime ? 'date' : 'linear';
  const COLOR = PALETTE[0];

  const cache = new Map();
  function loadSeries(k) {
    if (cache.has(k)) return cache.get(k);
    const s = Object.assign({id: META.series[k]},
                            decodeSeries($('tsf-s-' + k).textContent, [META.model]));
    if (cache.size > 24) cache.delete(cache.keys().next().value);
    cache.set(k, s);
    return s;
  }

  // ---------------------------------------------------------------- picker
  let matches = META.series.map((_, k) => k);  // series positions that match the search
  let current = 0;                              // the series shown (a position in META.series)
  function refreshMatches() {
    const needle = $('tsf-filter').value.trim().toLowerCase();
    matches = [];
    META.series.forEach((id, k) => {
      if (!needle || String(id).toLowerCase().includes(needle)) matches.push(k);
    });
    if (matches.length && !matches.includes(current)) current = matches[0];
  }
  function refreshPicker() {
    const at = Math.max(0, matches.indexOf(current));
    const first = Math.floor(at / META.page_size) * META.page_size;
    const page = matches.slice(first, first + META.page_size);
    fillSelect($('tsf-series'), page.map((k) => [k, String(META.series[k])]),
               matches.length ? current : undefined);
    let text = matches.length + ' of ' + META.series.length + ' series';
    if (matches.length > page.length) {
      text += ' (listing ' + (first + 1) + '–' + (first + page.length) +
              '; search or use the arrows for the others)';
    }
    $('tsf-series-count').textContent = text;
  }
  function step(delta) {
    const at = matches.indexOf(current) + delta;
    if (at >= 0 && at < matches.length) show(matches[at]);
  }
  function show(k) {
    current = k;
    if (!matches.includes(k)) { $('tsf-filter').value = ''; refreshMatches(); }
    refreshPicker();
    draw();
  }

  // ---------------------------------------------------------------- plots
  function plotDivs() {
    const box = $('tsf-plots');
    if (box.children.length !== META.targets.length) {
      box.innerHTML = '';
      META.targets.forEach((_, g) => {
        const div = document.createElement('div');
        div.id = 'tsf-plot-' + g;
        div.className = 'plot';
        box.appendChild(div);
      });
    }
    return Array.from(box.children);
  }
  function tracesOf(s, g) {
    const traces = [];
    if (s.y[g].some((v) => v !== null)) {
      traces.push({type: 'scatter', mode: 'lines', name: 'history', x: s.t, y: s.y[g],
                   line: {color: '#222', width: 1.4}, hovertemplate: '%{y}<extra>history</extra>'});
    }
    for (const f of s.forecasts) {
      if (f.target !== g) continue;
      const x = f.pos.map((p) => s.t[p]);
      const nLevels = (f.cols.length - 1) / 2;
      for (let j = nLevels - 1; j >= 0; j--) {  // widest band first, the narrow one on top
        const name = META.levels[j] + '% interval';
        traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[1 + 2 * j],
                     line: {width: 0, color: COLOR}, legendgroup: name, showlegend: false,
                     hovertemplate: '%{y}<extra>' + name + ' low</extra>'});
        traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[2 + 2 * j], name: name,
                     line: {width: 0, color: COLOR}, fill: 'tonexty', legendgroup: name,
                     fillcolor: rgba(COLOR, 0.12 + 0.10 * (nLevels - 1 - j)),
                     hovertemplate: '%{y}<extra>' + name + ' high</extra>'});
      }
      traces.push({type: 'scatter', mode: 'lines', name: META.model, x: x, y: f.cols[0],
                   line: {color: COLOR, width: 2},
                   hovertemplate: '%{y}<extra>' + META.model + '</extra>'});
    }
    return traces;
  }
  function viewOf(s, traces) {
    // open on the forecast and three times its length of history (zoom out freely), with the
    // y range of what that window shows
    const starts = s.forecasts.map((f) => f.pos[0]);
    const first = starts.length ? Math.min(...starts) : 0;
    const span = Math.max(1, s.t.length - first);
    const from = s.t[Math.max(0, first - 3 * span)];
    let low = Infinity;
    let high = -Infinity;
    for (const tr of traces) {
      for (let i = 0; i < tr.x.length; i++) {
        const v = tr.y[i];
        if (v === null || tr.x[i] < from) continue;
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
    const pad = 0.05 * (high - low) || 1;
    return {x: [from, s.t[s.t.length - 1]],
            y: Number.isFinite(low) ? [low - pad, high + pad] : undefined};
  }
  function draw() {
    const divs = plotDivs();
    if (!matches.length) {
      divs.forEach((div) => Plotly.purge(div));
      $('tsf-plots').dataset.series = '';
      return;
    }
    const s = loadSeries(current);
    const origin = s.cutoffs.length ? s.cutoffs[0][1] : null;
    divs.forEach((div, g) => {
      const traces = tracesOf(s, g);
      const view = viewOf(s, traces);
      const target = String(META.targets[g]);
      const layout = {
        title: {text: String(s.id) + (META.targets.length > 1 ? ' · ' + target : ''), x: 0.01},
        margin: {l: 60, r: 20, t: 36, b: 46}, hovermode: 'x unified', font: {size: 12},
        legend: {orientation: 'h', y: -0.18},
        xaxis: {type: xType, range: view.x},
        yaxis: Object.assign({title: {text: target}}, view.y ? {range: view.y} : {}),
        shapes: origin === null || !META.has_history ? [] : [{
          type: 'line', xref: 'x', yref: 'paper', x0: origin, x1: origin, y0: 0, y1: 1,
          line: {color: '#999', width: 1, dash: 'dot'},
        }],
        uirevision: String(current),
      };
      Plotly.react(div, traces, layout, CONFIG);
    });
    $('tsf-plots').dataset.series = String(s.id);
  }

  // ---------------------------------------------------------------- wiring
  try {
    refreshPicker();
    $('tsf-filter').addEventListener('input', () => { refreshMatches(); refreshPicker(); draw(); });
    $('tsf-series').addEventListener('change', () => show(Number($('tsf-series').value)));
    $('tsf-prev').addEventListener('click', () => step(-1));
    $('tsf-next').addEventListener('click', () => step(1));
    draw();
    window.tsfForecast.ready = true;
  } catch (err) {
    errors.push(String(err && err.stack || err));
    console.error(err);
  }
  window.tsfForecast.load = loadSeries;
  window.tsfForecast.show = show;
})();
