// bitline report: draws report.html from the JSON in #bitline-report-data with Vega-Lite (via vegaEmbed).
//
// Every figure is a <div class="figure"> with a unique id, a heading and two attributes read by
// tests/browser/check_report.mjs:
//   data-primary-mark-class  the class Vega puts on the SVG group of the figure's primary mark
//                            (a Vega-Lite unit named N draws its mark as <g class="... N_marks">);
//   data-expected-marks      how many items that mark should draw, counted here from the data it is given
//                            (points, bars, heat-map cells, or lines for line-only marks).
// Nulls are dropped here, before Vega-Lite sees the data, so the counts are exact.
// When every embed has settled, window.bitlineReportReady is true and window.bitlineReportErrors lists
// any failure (each also goes to console.error).
(function () {
  'use strict';

  const EMBED_OPTIONS = {
    mode: 'vega-lite',
    renderer: 'svg',
    actions: { export: true, source: false, compiled: false, editor: false },
  };
  // Shared by every chart: system fonts (nothing to download), readable label sizes.
  const CHART_CONFIG = {
    font: 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
    header: { labelFontSize: 11 },
    range: { category: { scheme: 'tableau10' } },
  };
  const errors = [];
  const pending = [];
  const usedIds = new Set();
  window.bitlineReportErrors = errors;

  // ---- small helpers ----

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  // Values in order of first appearance.
  function distinct(values) {
    return [...new Set(values)];
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function uniqueId(base) {
    const stem = String(base).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'figure';
    let id = stem;
    for (let i = 2; usedIds.has(id) || document.getElementById(id); i++) id = `${stem}-${i}`;
    usedIds.add(id);
    return id;
  }

  function fail(where, err) {
    const message = `${where}: ${err && err.message ? err.message : String(err)}`;
    errors.push(message);
    console.error(`bitline report: ${message}`);
  }

  // "–" for null; big numbers as integers with separators, small ones to `sig` significant digits.
  function formatNumber(v, sig) {
    if (v === null || v === undefined || v === '') return '–';
    if (!isNum(v)) return String(v);
    if (Math.abs(v) >= 10 ** sig) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
    return v.toLocaleString('en-US', { maximumSignificantDigits: sig });
  }

  // "1 row", "2 rows".
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // A quantitative scale for `values`; when they are all equal, an explicit domain around the value,
  // else Vega would draw a zero-width domain with one oddly formatted tick.
  function quantScale(values, log) {
    const lo = values.reduce((a, b) => Math.min(a, b), Infinity);
    const hi = values.reduce((a, b) => Math.max(a, b), -Infinity);
    const scale = log ? { type: 'log' } : { zero: false };
    if (lo === hi) {
      const pad = Math.abs(lo) * 0.05 || 1;
      scale.domain = log ? [lo / 2, lo * 2] : [lo - pad, lo + pad];
    }
    return scale;
  }

  function formatFixed(v, digits) {
    return isNum(v) ? v.toFixed(digits) : v === null || v === undefined ? '–' : String(v);
  }

  // ---- page structure ----

  const main = document.getElementById('report');
  const nav = el('ul');

  function section(id, title) {
    const sec = el('section', { id, class: 'report-section' }, el('h2', {}, title));
    main.append(sec);
    nav.append(el('li', {}, el('a', { href: `#${id}` }, title)));
    return sec;
  }

  function note(parent, text, cls) {
    parent.append(el('p', { class: cls || 'absent' }, text));
  }

  // One figure: a container with heading, optional caption and the vegaEmbed target.
  // `mark` is the name of the Vega-Lite unit whose items `expected` counts.
  function figure(parent, { id, title, caption, spec, mark, expected }) {
    const fid = uniqueId(id);
    const chart = el('div', { class: 'chart' });
    const box = el('div', {
      class: 'figure', id: fid, 'data-expected-marks': expected, 'data-primary-mark-class': `${mark}_marks`,
    }, el('h3', {}, title));
    if (caption) box.append(el('p', { class: 'caption' }, caption));
    box.append(chart);
    parent.append(box);
    const full = Object.assign({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CHART_CONFIG }, spec);
    pending.push(
      Promise.resolve()
        .then(() => vegaEmbed(chart, full, Object.assign({ downloadFileName: fid }, EMBED_OPTIONS)))
        .catch((err) => {
          fail(fid, err);
          chart.append(el('p', { class: 'error' }, `This figure could not be drawn: ${err && err.message ? err.message : err}`));
        }),
    );
  }

  // ---- data views shared by several sections ----

  function prepare(report) {
    const rows = report.rows || [];
    const evaluations = distinct([
      ...rows.map((r) => r.evaluation),
      ...(report.layers || []).map((l) => l.evaluation),
      ...(report.components || []).map((c) => c.evaluation),
    ].filter((e) => e !== null && e !== undefined));
    // Fixed colours per evaluation across every figure; the legend lists those the figure shows.
    const evalColor = (data) => ({
      field: 'evaluation', type: 'nominal', title: 'evaluation', scale: { domain: evaluations },
      legend: { values: evaluations.filter((e) => data.some((d) => d.evaluation === e)) },
    });
    const isSweep = report.kind === 'sweep';
    // A figure's "series": the evaluation in a run, the point's label (plus evaluation when several) in a sweep.
    const seriesOf = (records) => {
      const several = distinct(records.map((r) => r.evaluation)).length > 1;
      return (r) => (isSweep ? (several ? `${r.label} · ${r.evaluation}` : String(r.label)) : String(r.label ?? r.evaluation));
    };
    return { rows, evaluations, evalColor, isSweep, seriesOf };
  }

  // ---- sections ----

  function header(report) {
    const meta = el('dl', { class: 'meta' });
    const add = (k, v) => meta.append(el('dt', {}, k), el('dd', {}, v === null || v === undefined || v === '' ? '–' : String(v)));
    add('Kind', report.kind);
    add('Source directory', report.source_dir);
    add('Generated (UTC)', report.generated_utc);
    add('bitline version', report.bitline_version);
    if (report.kind === 'sweep') {
      add('Sweep axes', (report.axes || []).map((a) => `${a.name} (${a.key})`).join('; ') || '–');
      add('Points', distinct((report.rows || []).map((r) => r.point)).length);
    }
    const title = report.title || 'bitline report';
    document.title = `${title} — bitline report`;
    main.append(el('header', {}, el('h1', {}, title), meta), el('nav', { class: 'contents' }, el('h2', {}, 'Contents'), nav));
  }

  function resultsTable(report, ctx) {
    const sec = section('results', 'Results');
    if (!ctx.rows.length) return note(sec, 'No result rows in this report.');
    const axes = report.axes || [];
    const columns = [
      ...axes.map((a) => ({ title: a.name, get: (r) => r[a.name], fmt: (v) => (v === null || v === undefined ? '–' : String(v)), num: a.numeric })),
      { title: 'evaluation', get: (r) => r.evaluation },
      { title: 'mode', get: (r) => r.mode },
      { title: 'macro', get: (r) => r.macro },
      { title: 'precision', get: (r) => r.precision },
      { title: 'accuracy %', get: (r) => r.accuracy_percent, fmt: (v) => formatFixed(v, 2), num: true },
      { title: 'min CSNR dB', get: (r) => r.min_csnr_db, fmt: (v) => formatFixed(v, 2), num: true },
      { title: 'nJ/image', get: (r) => r.energy_nj_per_image, fmt: (v) => formatNumber(v, 4), num: true },
      { title: 'µs/image', get: (r) => r.latency_us_per_image, fmt: (v) => formatNumber(v, 4), num: true },
      { title: 'TOPS/W', get: (r) => r.tops_per_w, fmt: (v) => formatNumber(v, 3), num: true },
      { title: 'mm²', get: (r) => r.area_mm2, fmt: (v) => formatNumber(v, 3), num: true },
      {
        title: 'Pareto',
        get: (r) => [r.pareto_energy && 'energy', r.pareto_tops_per_w && 'TOPS/W', r.pareto_area && 'area'].filter(Boolean).join(', '),
      },
    ];
    const table = el('table', { class: 'results' });
    table.append(el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { class: c.num ? 'num' : null, scope: 'col' }, c.title)))));
    const body = el('tbody');
    let previousPoint;
    for (const r of ctx.rows) {
      // A rule between sweep points keeps each point's evaluations together.
      const first = ctx.isSweep && previousPoint !== undefined && r.point !== previousPoint;
      previousPoint = r.point;
      body.append(el('tr', { class: first ? 'new-point' : null }, ...columns.map((c) => {
        const v = c.get(r);
        const text = c.fmt ? c.fmt(v) : v === null || v === undefined || v === '' ? '–' : String(v);
        return el('td', { class: c.num ? 'num' : null }, text);
      })));
    }
    table.append(body);
    sec.append(el('div', { class: 'table-scroll' }, table));
  }

  function accuracyVsAxes(report, ctx) {
    const sec = section('accuracy', 'Accuracy vs sweep axes');
    const axes = report.axes || [];
    if (!ctx.isSweep || !axes.length) return note(sec, 'Not a sweep: there are no axes to plot accuracy against.');
    axes.forEach((axis) => {
      const others = axes.filter((a) => a !== axis);
      const data = [];
      for (const r of ctx.rows) {
        let x = r[axis.name];
        if (!isNum(r.accuracy_percent) || x === null || x === undefined) continue;
        if (axis.numeric) {
          x = Number(x);
          if (!Number.isFinite(x)) continue;
        } else x = String(x);
        data.push({
          x, accuracy: r.accuracy_percent, evaluation: r.evaluation, label: r.label,
          others: others.map((a) => `${a.name}=${r[a.name]}`).join(', ') || '(none)',
        });
      }
      const title = `Accuracy vs ${axis.name}`;
      if (!data.length) return note(sec, `${title}: no rows with an accuracy.`);
      const xs = data.map((d) => d.x);
      const positive = axis.numeric && xs.every((x) => x > 0);
      const logX = positive && xs.reduce((a, b) => Math.max(a, b)) / xs.reduce((a, b) => Math.min(a, b)) >= 16;
      const values = distinct(xs);
      const x = axis.numeric
        ? {
          field: 'x', type: 'quantitative', title: axis.name,
          scale: logX ? { type: 'log', base: 2 } : quantScale(xs, false),
          // Ticks at the swept values while there are few of them.
          axis: values.length <= 12 ? { values: values.slice().sort((a, b) => a - b) } : {},
        }
        : { field: 'x', type: 'ordinal', title: axis.name, sort: values, axis: values.length <= 8 ? { labelAngle: 0 } : {} };
      // The other axes' values tell the lines apart: by dash when there are few combinations, else just grouped.
      const combos = distinct(data.map((d) => d.others)).length;
      const lineEncoding = {};
      let caption = null;
      if (others.length) {
        const names = others.map((a) => a.name).join(', ');
        if (combos <= 6) {
          lineEncoding.strokeDash = { field: 'others', type: 'nominal', title: names, sort: distinct(data.map((d) => d.others)) };
          caption = `Dash pattern: ${names}.`;
        } else {
          lineEncoding.detail = { field: 'others', type: 'nominal' };
          caption = `One line per combination of ${names} (${combos}); hover a point for its label.`;
        }
      }
      figure(sec, {
        id: `fig-accuracy-vs-${axis.name}`, title, caption, mark: 'accuracy_points', expected: data.length,
        spec: {
          data: { values: data }, width: 560, height: 300,
          encoding: {
            x, y: { field: 'accuracy', type: 'quantitative', title: 'accuracy %', scale: quantScale(data.map((d) => d.accuracy), false) },
            color: ctx.evalColor(data),
          },
          layer: [
            { mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 }, encoding: lineEncoding },
            {
              name: 'accuracy_points', mark: { type: 'point', filled: true, size: 45 },
              encoding: { tooltip: [{ field: 'label' }, { field: 'evaluation' }, { field: 'x', title: axis.name }, { field: 'accuracy', title: 'accuracy %', format: '.2f' }] },
            },
          ],
        },
      });
    });
  }

  const PARETO = [
    { id: 'fig-pareto-energy', field: 'energy_nj_per_image', flag: 'pareto_energy', title: 'energy (nJ/image)', name: 'energy', log: true, better: 'lower' },
    { id: 'fig-pareto-tops-per-w', field: 'tops_per_w', flag: 'pareto_tops_per_w', title: 'TOPS/W', name: 'TOPS/W', log: false, better: 'higher' },
    { id: 'fig-pareto-area', field: 'area_mm2', flag: 'pareto_area', title: 'area (mm²)', name: 'area', log: false, better: 'lower' },
  ];

  function paretoFronts(report, ctx) {
    const sec = section('pareto', 'Pareto fronts');
    for (const p of PARETO) {
      const data = ctx.rows
        .filter((r) => isNum(r.accuracy_percent) && isNum(r[p.field]) && (!p.log || r[p.field] > 0))
        .map((r) => ({ x: r[p.field], accuracy: r.accuracy_percent, evaluation: r.evaluation, label: r.label, pareto: r[p.flag] === true }));
      const title = `Accuracy vs ${p.name}`;
      if (!data.length) {
        note(sec, `${title}: no rows with both an accuracy and ${p.name}.`);
        continue;
      }
      const front = data.filter((d) => d.pareto).length;
      const tooltip = [{ field: 'label' }, { field: 'evaluation' }, { field: 'x', title: p.title, format: ',.4~g' },
        { field: 'accuracy', title: 'accuracy %', format: '.2f' }, { field: 'pareto', title: 'Pareto-optimal' }];
      figure(sec, {
        id: p.id, title, mark: 'pareto_all', expected: data.length,
        caption: `${plural(data.length, 'row', 'rows')} with both values; ${plural(front, 'Pareto-optimal one', 'Pareto-optimal ones')} ` +
          `(higher accuracy, ${p.better} ${p.name}) ringed and joined.`,
        spec: {
          data: { values: data }, width: 560, height: 300,
          encoding: {
            x: { field: 'x', type: 'quantitative', title: p.title, scale: quantScale(data.map((d) => d.x), p.log) },
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy %', scale: quantScale(data.map((d) => d.accuracy), false) },
          },
          layer: [
            {
              transform: [{ filter: 'datum.pareto' }],
              // The staircase of attainable points: hold each front point's accuracy towards worse x.
              mark: { type: 'line', interpolate: p.better === 'lower' ? 'step-after' : 'step-before', color: '#444', strokeWidth: 1.2 },
            },
            { name: 'pareto_all', mark: { type: 'point', filled: true, size: 40, opacity: 0.75 }, encoding: { color: ctx.evalColor(data), tooltip } },
            {
              transform: [{ filter: 'datum.pareto' }],
              mark: { type: 'point', filled: false, size: 140, color: '#111', strokeWidth: 1.5 }, encoding: { tooltip },
            },
          ],
        },
      });
    }
  }

  function layerCsnr(report, ctx) {
    const sec = section('csnr', 'Per-layer CSNR');
    const layers = report.layers || [];
    const layerOrder = distinct(layers.map((l) => l.layer));
    // Only evaluations that have some CSNR (the float and quantized ones are exact throughout).
    const keyOf = (l) => `${l.point}\u0000${l.evaluation}`;
    const withCsnr = new Set(layers.filter((l) => isNum(l.csnr_db)).map(keyOf));
    const relevant = layers.filter((l) => withCsnr.has(keyOf(l)));
    if (!relevant.length) return note(sec, 'No per-layer CSNR in this report (no simulated evaluation, or every layer exact).');
    const seriesName = ctx.seriesOf(relevant);
    const data = relevant.map((l) => ({
      layer: String(l.layer), series: seriesName(l), evaluation: l.evaluation, label: l.label, csnr: isNum(l.csnr_db) ? l.csnr_db : null,
    }));
    const finite = data.filter((d) => d.csnr !== null);
    const exact = data.length - finite.length;
    const seriesOrder = distinct(data.map((d) => d.series));
    const exactNote = exact ? ` ${plural(exact, 'layer result is', 'layer results are')} exact (no analog error, so no CSNR)` : '';
    const tooltip = [{ field: 'series', title: ctx.isSweep ? 'point' : 'evaluation' }, { field: 'layer' }, { field: 'csnr', title: 'CSNR dB', format: '.2f' }];
    if (seriesOrder.length <= 3) {
      figure(sec, {
        id: 'fig-layer-csnr', title: 'CSNR per layer', mark: 'csnr_bars', expected: finite.length,
        caption: exact ? `${exactNote.trim()} and ${exact > 1 ? 'are' : 'is'} not drawn.` : null,
        spec: {
          data: { values: finite }, width: { step: 36 }, height: 260, name: 'csnr_bars',
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'layer', type: 'nominal', sort: layerOrder, title: 'layer' },
            xOffset: { field: 'series', type: 'nominal', sort: seriesOrder },
            y: { field: 'csnr', type: 'quantitative', title: 'CSNR dB' },
            color: ctx.isSweep ? { field: 'series', type: 'nominal', title: 'point', sort: seriesOrder } : ctx.evalColor(finite),
            tooltip,
          },
        },
      });
    } else {
      figure(sec, {
        id: 'fig-layer-csnr', title: 'CSNR per layer and point', mark: 'csnr_cells', expected: finite.length,
        caption: exact ? `Grey cells:${exactNote}.` : null,
        spec: {
          data: { values: data }, width: { step: 34 }, height: { step: 14 },
          encoding: {
            x: { field: 'layer', type: 'nominal', sort: layerOrder, title: 'layer', axis: { labelAngle: -40 } },
            y: { field: 'series', type: 'nominal', sort: seriesOrder, title: null, axis: { labelLimit: 420 } },
            tooltip,
          },
          layer: [
            { transform: [{ filter: 'datum.csnr === null' }], mark: { type: 'rect', color: '#d4d4d4' } },
            {
              name: 'csnr_cells', transform: [{ filter: 'datum.csnr !== null' }], mark: { type: 'rect' },
              encoding: { color: { field: 'csnr', type: 'quantitative', title: 'CSNR dB', scale: { scheme: 'viridis' } } },
            },
          ],
        },
      });
    }
  }

  // Horizontal stacked bars: one bar per series, one segment per part.
  function stackedBars(sec, { id, title, records, value, part, partTitle, unit, ctx, absent }) {
    const usable = records.filter((r) => isNum(r[value]) && r[part] !== null && r[part] !== undefined);
    if (!usable.length) return note(sec, absent);
    const seriesName = ctx.seriesOf(usable);
    const parts = distinct(usable.map((r) => String(r[part])));
    const data = usable.map((r) => ({
      series: seriesName(r), part: String(r[part]), partIndex: parts.indexOf(String(r[part])), value: r[value], label: r.label, evaluation: r.evaluation,
    }));
    // Left-out entries, counted only for evaluations that have some values (exact ones have none at all).
    const keyOf = (r) => `${r.point}\u0000${r.evaluation}`;
    const shown = new Set(usable.map(keyOf));
    const dropped = records.filter((r) => shown.has(keyOf(r))).length - usable.length;
    figure(sec, {
      id, title, mark: id.replace(/-/g, '_'), expected: data.length,
      caption: dropped ? `${plural(dropped, 'entry', 'entries')} without a value left out.` : null,
      spec: {
        data: { values: data }, width: 520, height: { step: 16 }, name: id.replace(/-/g, '_'),
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'series', type: 'nominal', sort: distinct(data.map((d) => d.series)), title: null, axis: { labelLimit: 420 } },
          x: { field: 'value', type: 'quantitative', title: unit, stack: 'zero' },
          // Segments and legend both in the order the parts first appear (layer order, component order).
          color: { field: 'part', type: 'nominal', title: partTitle, sort: parts, scale: { scheme: 'tableau20' } },
          order: { field: 'partIndex' },
          tooltip: [{ field: 'series', title: ctx.isSweep ? 'point' : 'evaluation' }, { field: 'part', title: partTitle }, { field: 'value', title: unit, format: ',.4~g' }],
        },
      },
    });
  }

  function costBreakdowns(report, ctx) {
    const sec = section('costs', 'Energy and area breakdowns');
    const components = report.components || [];
    stackedBars(sec, {
      id: 'fig-energy-by-component', title: 'Energy by component', records: components, value: 'energy_nj_per_image', part: 'component',
      partTitle: 'component', unit: 'nJ/image', ctx, absent: 'No per-component energy in this report.',
    });
    stackedBars(sec, {
      id: 'fig-area-by-component', title: 'Area by component', records: components, value: 'area_mm2', part: 'component',
      partTitle: 'component', unit: 'mm²', ctx, absent: 'No per-component area in this report.',
    });
    stackedBars(sec, {
      id: 'fig-energy-by-layer', title: 'Energy by layer', records: report.layers || [], value: 'energy_nj_per_image', part: 'layer',
      partTitle: 'layer', unit: 'nJ/image', ctx, absent: 'No per-layer energy in this report.',
    });
  }

  function training(report, ctx) {
    const sec = section('training', 'Training');
    const records = report.training || [];
    if (!records.length) return note(sec, 'No training history in this report (nothing was trained, or its log is absent).');
    const curves = [
      { id: 'fig-training-loss', field: 'train_loss', title: 'Training loss', axis: 'train loss', mark: 'training_loss' },
      { id: 'fig-training-accuracy', field: 'train_accuracy_percent', title: 'Training accuracy', axis: 'train accuracy %', mark: 'training_accuracy' },
    ];
    for (const c of curves) {
      const data = records.filter((r) => isNum(r[c.field]) && isNum(r.epoch))
        .map((r) => ({ epoch: r.epoch, value: r[c.field], stage: String(r.stage), label: String(r.label ?? '') }));
      if (!data.length) {
        note(sec, `${c.title}: no values.`);
        continue;
      }
      const lines = distinct(data.map((d) => `${d.label}\u0000${d.stage}`)).length;
      const tooltip = [{ field: 'label' }, { field: 'stage' }, { field: 'epoch' }, { field: 'value', title: c.axis, format: '.4~g' }];
      const layer = [{
        name: c.mark, mark: { type: 'line', strokeWidth: 1.5, opacity: lines > 12 ? 0.6 : 1 },
        encoding: ctx.isSweep ? { detail: { field: 'label', type: 'nominal' } } : {},
      }];
      // Markers only while few enough to read (and so a one-epoch curve is still seen).
      if (lines <= 12) layer.push({ mark: { type: 'point', filled: true, size: 30 }, encoding: { tooltip } });
      figure(sec, {
        id: c.id, title: c.title, mark: c.mark, expected: lines,
        caption: ctx.isSweep ? `One line per point and stage (${lines}).` : null,
        spec: {
          data: { values: data }, width: 480, height: 260,
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
            y: { field: 'value', type: 'quantitative', title: c.axis, scale: { zero: false } },
            color: { field: 'stage', type: 'nominal', title: 'stage', sort: distinct(data.map((d) => d.stage)) },
          },
          layer,
        },
      });
    }
  }

  // Sweep points whose curves are identical share one panel. `records` carry label; `signatureOf` gives
  // the part of a record that must match. Returns the records of each panel's first point, each with a
  // `panel` title, and the panel count.
  function panelsOf(records, signatureOf) {
    const byLabel = new Map();
    for (const r of records) {
      if (!byLabel.has(r.label)) byLabel.set(r.label, []);
      byLabel.get(r.label).push(r);
    }
    const bySignature = new Map();
    for (const [label, rs] of byLabel) {
      const sig = JSON.stringify(rs.map(signatureOf));
      if (!bySignature.has(sig)) bySignature.set(sig, []);
      bySignature.get(sig).push(label);
    }
    const data = [];
    for (const labels of bySignature.values()) {
      // Second line (the header splits at "\n"): how many more points share the curve.
      const panel = labels.length > 1 ? `${labels[0]}\n+ ${plural(labels.length - 1, 'more point', 'more points')} alike` : labels[0];
      for (const r of byLabel.get(labels[0])) data.push(Object.assign({ panel }, r));
    }
    return { data, panels: bySignature.size, points: byLabel.size };
  }

  // A layered spec; small multiples (one panel per `panel`, own scales) when there are several panels.
  function maybeFacet(data, panels, layerSpec, single, small) {
    if (panels <= 1) return Object.assign({ data: { values: data } }, single, layerSpec);
    return {
      data: { values: data }, columns: 4,
      facet: { field: 'panel', type: 'nominal', title: null, sort: distinct(data.map((d) => d.panel)), header: { labelLimit: 300, labelExpr: "split(datum.value, '\\n')" } },
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: Object.assign({}, small, layerSpec),
    };
  }

  // `points`: how many points the panels stand for; bitline sends each distinct ADC only once, with
  // report.adc_points saying how many points have one.
  function panelCaption({ panels, points }) {
    if (panels <= 1) return points > 1 ? ` The ${points} points share one curve.` : '';
    return ` One panel per distinct curve: ${panels} for ${points} points.`;
  }

  function adc(report) {
    const sec = section('adc', 'ADC');
    const transfer = report.adc || [];
    const linearity = report.adc_linearity || [];
    if (!transfer.length && !linearity.length) return note(sec, 'No ADC characterisation in this report.');
    const macros = distinct([...transfer, ...linearity].map((r) => r.macro ?? 'adc'));
    for (const macro of macros) {
      const ofMacro = (r) => (r.macro ?? 'adc') === macro;
      // Transfer curve: code vs input, the ideal code dashed. Curves without a single code are left out.
      const t = transfer.filter((r) => ofMacro(r) && isNum(r.input_lsb)).map((r) => ({
        label: String(r.label ?? ''), input: r.input_lsb, code: isNum(r.code) ? r.code : null, ideal: isNum(r.ideal_code) ? r.ideal_code : null,
      }));
      const withCode = new Set(t.filter((d) => d.code !== null).map((d) => d.label));
      const tp = panelsOf(t.filter((d) => withCode.has(d.label)), (d) => [d.input, d.code, d.ideal]);
      if (tp.panels) {
        const x = { field: 'input', type: 'quantitative', title: 'input (LSB)', scale: { zero: false } };
        figure(sec, {
          id: `fig-adc-transfer-${macro}`, title: `ADC transfer curve — ${macro}`, mark: 'adc_transfer', expected: tp.panels,
          caption: `Solid: output code; dashed: ideal code.${panelCaption({ panels: tp.panels, points: report.adc_points || tp.points })}`,
          spec: maybeFacet(tp.data, tp.panels, {
            layer: [
              {
                transform: [{ filter: 'datum.ideal !== null' }], mark: { type: 'line', interpolate: 'step-after', strokeDash: [4, 3], color: '#999' },
                encoding: { x, y: { field: 'ideal', type: 'quantitative', title: 'code' } },
              },
              {
                name: 'adc_transfer', transform: [{ filter: 'datum.code !== null' }], mark: { type: 'line', interpolate: 'step-after', color: '#1f77b4' },
                encoding: { x, y: { field: 'code', type: 'quantitative', title: 'code' } },
              },
            ],
          }, { width: 420, height: 260 }, { width: 190, height: 130 }),
        });
      } else note(sec, `ADC transfer curve — ${macro}: no data.`);

      // INL and DNL vs code, one line each per panel.
      const l = [];
      for (const r of linearity) {
        if (!ofMacro(r) || !isNum(r.code)) continue;
        if (isNum(r.inl_lsb)) l.push({ label: String(r.label ?? ''), code: r.code, measure: 'INL', value: r.inl_lsb });
        if (isNum(r.dnl_lsb)) l.push({ label: String(r.label ?? ''), code: r.code, measure: 'DNL', value: r.dnl_lsb });
      }
      const lp = panelsOf(l, (d) => [d.code, d.measure, d.value]);
      if (lp.panels) {
        const lines = distinct(lp.data.map((d) => `${d.panel}\u0000${d.measure}`)).length;
        figure(sec, {
          id: `fig-adc-linearity-${macro}`, title: `ADC linearity — ${macro}`, mark: 'adc_linearity', expected: lines,
          caption: `Integral and differential non-linearity per output code.${panelCaption({ panels: lp.panels, points: report.adc_points || lp.points })}`,
          spec: maybeFacet(lp.data, lp.panels, {
            layer: [
              { mark: { type: 'rule', color: '#bbb' }, encoding: { y: { datum: 0 } } },
              {
                name: 'adc_linearity', mark: { type: 'line', strokeWidth: 1.3 },
                encoding: {
                  x: { field: 'code', type: 'quantitative', title: 'code' },
                  y: { field: 'value', type: 'quantitative', title: 'LSB' },
                  color: { field: 'measure', type: 'nominal', title: null, sort: ['INL', 'DNL'], scale: { domain: ['INL', 'DNL'], range: ['#d62728', '#2ca02c'] } },
                },
              },
            ],
          }, { width: 420, height: 220 }, { width: 190, height: 110 }),
        });
      } else note(sec, `ADC linearity — ${macro}: no data.`);
    }
  }

  // ---- main ----

  function run() {
    let report;
    try {
      report = JSON.parse(document.getElementById('bitline-report-data').textContent);
    } catch (err) {
      fail('report data', err);
      main.append(el('p', { class: 'error' }, 'The report data could not be read.'));
      return;
    }
    const ctx = prepare(report);
    header(report);
    // A failing section is reported and the others still drawn.
    for (const draw of [resultsTable, accuracyVsAxes, paretoFronts, layerCsnr, costBreakdowns, training, adc]) {
      try {
        draw(report, ctx);
      } catch (err) {
        fail(`section ${draw.name}`, err);
      }
    }
  }

  try {
    if (typeof vegaEmbed !== 'function') throw new Error('vegaEmbed is not loaded');
    run();
  } catch (err) {
    fail('report', err);
  }
  Promise.allSettled(pending).then(() => {
    window.bitlineReportReady = true;
    document.documentElement.setAttribute('data-report-ready', errors.length ? 'errors' : 'ok');
  });
})();
