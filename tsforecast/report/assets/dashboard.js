(function () {
  'use strict';
  const META = JSON.parse(document.getElementById('tsf-meta').textContent);
  const {PALETTE, rgba, decodeSeries, fillSelect, esc, short} = window.tsfCommon;
  const CONFIG = {displaylogo: false, responsive: true};
  const $ = (id) => document.getElementById(id);
  const colorOf = (model) => PALETTE[Math.max(0, META.models.indexOf(model)) % PALETTE.length];
  const errors = [];
  window.tsfDashboard = {ready: false, errors: errors};

  const cache = new Map();
  function loadSeries(k) {
    if (cache.has(k)) return cache.get(k);
    const s = Object.assign({id: META.series[k]},
                            decodeSeries($('tsf-s-' + k).textContent, META.models));
    if (cache.size > 24) cache.delete(cache.keys().next().value);
    cache.set(k, s);
    return s;
  }

  // ---------------------------------------------------------------- helpers
  function note(div, text) {
    div.innerHTML = '<div class="note">' + text + '</div>';
    div.classList.remove('plot');
  }
  const targetIdx = () => Math.max(0, Number($('tsf-target').value || 0));
  const targetName = () => String(META.targets[targetIdx()]);
  const xType = META.is_datetime ? 'date' : 'linear';
  const baseLayout = (extra) => Object.assign({
    margin: {l: 60, r: 20, t: 36, b: 46}, hovermode: 'closest',
    legend: {orientation: 'h', y: -0.18}, font: {size: 12},
  }, extra);

  // ---------------------------------------------------------------- explorer
  function seriesOptions() {
    const needle = $('tsf-filter').value.trim().toLowerCase();
    const out = [];
    META.series.forEach((id, k) => {
      if (!needle || String(id).toLowerCase().includes(needle)) out.push([k, String(id)]);
    });
    return out;
  }
  function refreshSeriesList() {
    const current = $('tsf-series').value;
    const options = seriesOptions();
    fillSelect($('tsf-series'), options);
    if (options.some((o) => String(o[0]) === current)) $('tsf-series').value = current;
    $('tsf-series-count').textContent = options.length + ' of ' + META.series.length + ' series';
  }
  function refreshCutoffs(keep) {
    const k = Number($('tsf-series').value);
    if (Number.isNaN(k)) return;
    const s = loadSeries(k);
    const previous = $('tsf-cutoff').value;
    const options = [['all', 'all cutoffs']].concat(s.cutoffs.map((c, i) => [i, c[0]]));
    let value = 'all';
    if (keep && options.some((o) => String(o[0]) === previous)) value = previous;
    else if (overlapping(s)) value = s.cutoffs.length - 1;
    fillSelect($('tsf-cutoff'), options, value);
  }
  function overlapping(s) {
    // forecasts of consecutive cutoffs overlap when step < horizon: show one cutoff at a time
    const ends = new Map();
    for (const f of s.forecasts) {
      const [lo, hi] = [f.pos[0], f.pos[f.pos.length - 1]];
      const e = ends.get(f.cutoff) || [lo, hi];
      ends.set(f.cutoff, [Math.min(e[0], lo), Math.max(e[1], hi)]);
    }
    const spans = Array.from(ends.values()).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) if (spans[i][0] <= spans[i - 1][1]) return true;
    return false;
  }
  function drawExplorer() {
    const div = $('tsf-explorer');
    const k = Number($('tsf-series').value);
    if (Number.isNaN(k)) { Plotly.purge(div); return; }
    const s = loadSeries(k);
    const g = targetIdx();
    const which = $('tsf-cutoff').value;
    const withBands = $('tsf-intervals').checked;
    const traces = [{
      type: 'scatter', mode: 'lines', name: 'actual', x: s.t, y: s.y[g],
      line: {color: '#222', width: 1.4}, hovertemplate: '%{y}<extra>actual</extra>',
    }];
    const shown = new Set();
    const cutoffsShown = new Set();
    let first = s.t.length - 1;
    let last = 0;
    for (const f of s.forecasts) {
      if (f.target !== g || (which !== 'all' && String(f.cutoff) !== which)) continue;
      cutoffsShown.add(f.cutoff);
      const x = f.pos.map((p) => s.t[p]);
      first = Math.min(first, f.pos[0]);
      last = Math.max(last, f.pos[f.pos.length - 1]);
      const color = colorOf(f.model);
      if (withBands && f.cols.length > 1) {
        const nLevels = (f.cols.length - 1) / 2;
        for (let j = nLevels - 1; j >= 0; j--) {  // widest band first, narrow on top
          const level = META.levels[j];
          traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[1 + 2 * j],
                       line: {width: 0, color: color}, legendgroup: f.model, showlegend: false,
                       hoverinfo: 'skip'});
          traces.push({type: 'scatter', mode: 'lines', x: x, y: f.cols[2 + 2 * j],
                       line: {width: 0, color: color}, fill: 'tonexty',
                       fillcolor: rgba(color, 0.10 + 0.08 * (nLevels - 1 - j)),
                       legendgroup: f.model, showlegend: false, hoverinfo: 'skip',
                       name: f.model + ' ' + level + '%'});
        }
      }
      traces.push({type: 'scatter', mode: 'lines', name: f.model, x: x, y: f.cols[0],
                   legendgroup: f.model, showlegend: !shown.has(f.model),
                   line: {color: color, width: 1.8},
                   hovertemplate: '%{y}<extra>' + f.model + ' (cutoff ' +
                                  s.cutoffs[f.cutoff][0] + ')</extra>'});
      shown.add(f.model);
    }
    const shapes = Array.from(cutoffsShown).map((c) => ({
      type: 'line', xref: 'x', yref: 'paper', x0: s.cutoffs[c][1], x1: s.cutoffs[c][1],
      y0: 0, y1: 1, line: {color: '#999', width: 1, dash: 'dot'},
    }));
    const span = Math.max(1, last - first + 1);
    // long series: open on the folds and three times their span of history (zoom out freely)
    const from = Math.max(0, first - 3 * span);
    // the y range of what that window shows (plotly would fit the whole, unseen history)
    let low = Infinity;
    let high = -Infinity;
    for (const tr of traces) {
      for (let i = 0; i < tr.x.length; i++) {
        const v = tr.y[i];
        if (v === null || tr.x[i] < s.t[from]) continue;
        low = Math.min(low, v);
        high = Math.max(high, v);
      }
    }
    const pad = 0.05 * (high - low) || 1;
    const layout = baseLayout({
      title: {text: String(s.id) + (META.targets.length > 1 ? ' · ' + targetName() : ''),
              x: 0.01},
      xaxis: {type: xType, range: [s.t[from], s.t[s.t.length - 1]]},
      yaxis: Object.assign({title: {text: targetName()}},
                           Number.isFinite(low) ? {range: [low - pad, high + pad]} : {}),
      shapes: shapes, uirevision: String(k) + '|' + which + '|' + g,
    });
    Plotly.react(div, traces, layout, CONFIG);
    div.dataset.series = String(s.id);
    drawSeriesMetrics(s);
  }
  function drawSeriesMetrics(s) {
    const box = $('tsf-series-metrics');
    const m = (s.metrics || {})[targetName()];
    if (!m || !Object.keys(m).length) { box.innerHTML = ''; return; }
    const metrics = Object.keys(m);
    let out = '<table class="board"><thead><tr><th>model</th>';
    for (const name of metrics) out += '<th>' + esc(name) + '</th>';
    out += '</tr></thead><tbody>';
    META.models.forEach((model, j) => {
      out += '<tr><td>' + esc(model) + '</td>';
      for (const name of metrics) {
        const v = m[name][j];
        out += '<td class="num">' + short(v) + '</td>';
      }
      out += '</tr>';
    });
    box.innerHTML = '<h3>This series (all its cutoffs)</h3>' + out + '</tbody></table>';
  }
  function step(delta) {
    const sel = $('tsf-series');
    const i = sel.selectedIndex + delta;
    if (i >= 0 && i < sel.options.length) {
      sel.selectedIndex = i;
      sel.dispatchEvent(new Event('change'));
    }
  }

  // ---------------------------------------------------------------- worst series
  function drawWorst() {
    const box = $('tsf-worst');
    const worst = META.worst[targetName()];
    const models = worst ? META.models.filter((m) => worst.models[m]) : [];
    if (!models.length) {
      box.innerHTML = '<p class="muted">The result has no per-series MASE or sMAPE to rank.</p>';
      return;
    }
    // one column per model, rank i in row i: each cell a button that opens the series
    const rows = Math.max(...models.map((m) => worst.models[m].length));
    let out = '<table class="board" id="tsf-worst-table"><thead><tr><th>#</th>';
    for (const m of models) out += '<th>' + esc(m) + '</th>';
    out += '</tr></thead><tbody>';
    for (let i = 0; i < rows; i++) {
      out += '<tr><td class="num">' + (i + 1) + '</td>';
      for (const m of models) {
        const e = worst.models[m][i];
        out += !e ? '<td></td>' : '<td><button type="button" class="series-link" data-series="' +
          e[0] + '">' + esc(META.series[e[0]]) + '</button> <span class="muted">' +
          short(e[1]) + '</span></td>';
      }
      out += '</tr>';
    }
    box.innerHTML = '<p class="muted small">Per model, the series with the highest ' +
      worst.metric.toUpperCase() + ' over all their cutoffs; click one to open it in the ' +
      'series explorer.</p>' + out + '</tbody></table>';
  }
  function showSeries(k) {
    const sel = $('tsf-series');
    if (!Array.from(sel.options).some((o) => o.value === String(k))) {
      $('tsf-filter').value = '';  // the filter hides this series: clear it
      refreshSeriesList();
    }
    sel.value = String(k);
    sel.dispatchEvent(new Event('change'));
    $('explorer').scrollIntoView({block: 'start'});
  }

  // ---------------------------------------------------------------- summary plots
  function metricsOf(table) {
    const perTarget = table[targetName()] || {};
    return Object.keys(perTarget);
  }
  function metricSelect(id, table) {
    const metrics = metricsOf(table);
    const sel = $(id);
    const keep = metrics.includes(sel.value) ? sel.value
      : (metrics.includes(META.default_metric) ? META.default_metric : metrics[0]);
    fillSelect(sel, metrics.map((m) => [m, m]), keep);
    return metrics.length > 0;
  }
  function drawHorizon() {
    const div = $('tsf-horizon');
    if (!metricSelect('tsf-horizon-metric', META.horizon)) {
      note(div, 'The result has no metrics by horizon step.');
      return;
    }
    const metric = $('tsf-horizon-metric').value;
    const perModel = META.horizon[targetName()][metric] || {};
    const traces = Object.keys(perModel).map((model) => ({
      type: 'scatter', mode: 'lines+markers', name: model, x: perModel[model].x,
      y: perModel[model].y, line: {color: colorOf(model)}, marker: {size: 4},
    }));
    Plotly.react(div, traces, baseLayout({
      xaxis: {title: {text: 'horizon step'}}, yaxis: {title: {text: metric}},
    }), CONFIG);
  }
  function drawFolds() {
    const div = $('tsf-folds');
    const folds = META.folds;
    if (!metricSelect('tsf-fold-metric', folds.data)) {
      note(div, 'The result has no metrics by fold.');
      return;
    }
    const metric = $('tsf-fold-metric').value;
    const perModel = folds.data[targetName()][metric] || {};
    const models = META.models.filter((m) => perModel[m] !== undefined);
    const z = models.map((m) => perModel[m]);
    Plotly.react(div, [{
      type: 'heatmap', x: folds.labels, y: models, z: z, texttemplate: '%{z:.4g}',
      // errors: pale (low) to red (high); coverage has no "worse" end, so a neutral blue
      colorscale: /^coverage/.test(metric) ? 'Blues'
        : [[0, '#ffffcc'], [0.5, '#fd8d3c'], [1, '#bd0026']],
      hovertemplate: '%{y} · %{x}<br>' + metric + ' %{z:.4g}<extra></extra>',
      colorbar: {title: {text: metric}},
    }], baseLayout({margin: {l: 110, r: 20, t: 20, b: 46},
                    yaxis: {autorange: 'reversed', type: 'category'},
                    xaxis: {type: 'category'}}), CONFIG);
  }
  function drawCoverage() {
    const div = $('tsf-coverage');
    const rows = META.coverage[targetName()] || [];
    if (!rows.length) {
      note(div, 'No prediction intervals in this run (no model was asked for levels).');
      return;
    }
    const levels = Array.from(new Set(rows.map((r) => r.level))).sort((a, b) => a - b);
    const models = META.models.filter((m) => rows.some((r) => r.model === m));
    const traces = levels.map((level, j) => ({
      type: 'bar', name: level + '% interval', x: models,
      y: models.map((m) => {
        const r = rows.find((q) => q.model === m && q.level === level);
        return r && r.value !== null ? 100 * r.value : null;
      }),
      marker: {color: ['#9ecae1', '#3182bd', '#08519c', '#6baed6'][j % 4]},
      hovertemplate: '%{x}: %{y:.1f}% inside (nominal ' + level + '%)<extra></extra>',
    }));
    const shapes = levels.map((level) => ({
      type: 'line', xref: 'paper', x0: 0, x1: 1, y0: level, y1: level,
      line: {color: '#d62728', width: 1, dash: 'dash'},
    }));
    Plotly.react(div, traces, baseLayout({
      barmode: 'group', shapes: shapes, yaxis: {title: {text: 'actuals inside (%)'},
                                                range: [0, 105]},
    }), CONFIG);
  }
  function drawTraining() {
    const div = $('tsf-training');
    if (!META.training.length) {
      note(div, META.neural.length
        ? 'The result carries no training history for ' + META.neural.join(', ') + '.'
        : 'No neural model in this run, so no training curves.');
      return;
    }
    const traces = [];
    for (const c of META.training) {
      const color = colorOf(c.model);
      traces.push({type: 'scatter', mode: 'lines', name: c.label + ' train', x: c.step,
                   y: c.train_loss, line: {color: color, dash: 'dot'}, legendgroup: c.label});
      if (c.val_loss.some((v) => v !== null)) {
        traces.push({type: 'scatter', mode: 'lines', name: c.label + ' validation', x: c.step,
                     y: c.val_loss, line: {color: color}, legendgroup: c.label});
      }
    }
    Plotly.react(div, traces, baseLayout({
      xaxis: {title: {text: 'training step'}}, yaxis: {title: {text: 'loss'}, type: 'log'},
    }), CONFIG);
  }
  function drawSummaries() {
    drawWorst(); drawHorizon(); drawFolds(); drawCoverage(); drawTraining();
  }

  // ---------------------------------------------------------------- wiring
  try {
    fillSelect($('tsf-target'), META.targets.map((t, i) => [i, String(t)]), 0);
    // many models' bands hide each other: start with the lines only, the box brings them back
    $('tsf-intervals').checked = META.models.length <= 3;
    refreshSeriesList();
    refreshCutoffs(false);
    $('tsf-filter').addEventListener('input', () => {
      refreshSeriesList(); refreshCutoffs(true); drawExplorer();
    });
    $('tsf-series').addEventListener('change', () => { refreshCutoffs(true); drawExplorer(); });
    $('tsf-cutoff').addEventListener('change', drawExplorer);
    $('tsf-intervals').addEventListener('change', drawExplorer);
    $('tsf-prev').addEventListener('click', () => step(-1));
    $('tsf-worst').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-series]');
      if (button) showSeries(Number(button.dataset.series));
    });
    $('tsf-next').addEventListener('click', () => step(1));
    $('tsf-target').addEventListener('change', () => { drawExplorer(); drawSummaries(); });
    $('tsf-horizon-metric').addEventListener('change', drawHorizon);
    $('tsf-fold-metric').addEventListener('change', drawFolds);
    drawExplorer();
    drawSummaries();
    window.tsfDashboard.ready = true;
  } catch (err) {
    errors.push(String(err && err.stack || err));
    console.error(err);
  }
  window.tsfDashboard.load = loadSeries;
})();
