// What both pages (the backtest dashboard and the forecast page) share: the colours, decoding
// of the per-series blobs (see tsforecast/report/series.py) and small DOM helpers.
window.tsfCommon = (function () {
  'use strict';
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
                   '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const rgba = (hex, a) => {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  };

  function bytesOf(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  // float32 -> the shortest decimal that round-trips (hover shows 123.4, not 123.40000152)
  const tidy = (v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : null);
  const f32 = (text) => Array.from(new Float32Array(bytesOf(text)), tidy);
  const f64 = (text) => Array.from(new Float64Array(bytesOf(text)));
  const i32 = (text) => Array.from(new Int32Array(bytesOf(text)));

  // One series' blob (the text of its JSON element, tsf-s-K), decoded; `models` names the
  // model codes of its forecasts.
  function decodeSeries(text, models) {
    const raw = JSON.parse(text);
    let t;
    if (raw.t.b64 !== undefined) t = f64(raw.t.b64);
    else t = Array.from({length: raw.t.n}, (_, i) => raw.t.start + i * raw.t.step);
    return {
      t: t, y: raw.y.map(f32), cutoffs: raw.c, metrics: raw.m,
      forecasts: raw.f.map((e) => {
        const flat = f32(e[6]);
        const n = e[4];
        const cols = [];
        for (let j = 0; j < e[5]; j++) cols.push(flat.slice(j * n, (j + 1) * n));
        const pos = typeof e[3] === 'number' ? Array.from({length: n}, (_, i) => e[3] + i)
                                             : i32(e[3]);
        return {cutoff: e[0], model: models[e[1]], target: e[2], pos: pos, cols: cols};
      }).sort((a, b) => a.cutoff - b.cutoff || models.indexOf(a.model) -
                                                  models.indexOf(b.model)),
    };
  }

  function fillSelect(select, options, value) {
    select.innerHTML = '';
    for (const [val, label] of options) {
      const o = document.createElement('option');
      o.value = String(val);
      o.textContent = label;
      select.appendChild(o);
    }
    if (value !== undefined && value !== null) select.value = String(value);
  }
  // model names and series ids are the user's strings: escape them before they go into HTML
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const short = (v) => (v === null ? '–' : String(Number(v.toPrecision(4))));

  return {PALETTE: PALETTE, rgba: rgba, decodeSeries: decodeSeries, fillSelect: fillSelect,
          esc: esc, short: short};
})();
