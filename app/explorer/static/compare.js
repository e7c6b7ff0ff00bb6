// Compare: 2-10 jurisdictions side by side, coloured by score, grouped by category; a cell
// opens its value, grade, dates, note, sources and history.

import * as api from './api.js';
import { sparkline } from './charts.js';
import {
  CONFIDENCE, clear, codesParam, confidenceBadge, errorBox, formatDate, formatValue, h, humanize, loading, scoreClass, uid,
} from './util.js';

export const title = 'Compare';

export const CATEGORIES = ['licensing', 'token_classification', 'stablecoins', 'innovation', 'taxation', 'aml_compliance', 'market_access', 'consumer_protection', 'talent', 'privacy'];
const DEFAULT = ['HK', 'SG', 'AE-DU'];
const MAX = 10;

// Metric cells have no score of their own: min-max across the compared set, by direction.
function metricScores(row) {
  const values = Object.values(row.values).filter(Boolean).map((cell) => cell.value);
  if (row.higher_is_better === null || values.length < 2) return () => null;
  const min = Math.min(...values);
  const max = Math.max(...values);
  return (value) => {
    if (max === min) return 1;
    const scaled = (value - min) / (max - min);
    return row.higher_is_better ? scaled : 1 - scaled;
  };
}

export function render(root, state, ctx) {
  let codes = codesParam(state.get('j'));
  if (codes.length < 2) codes = [...DEFAULT];
  codes = codes.slice(0, MAX);
  let category = CATEGORIES.includes(state.get('cat')) ? state.get('cat') : '';
  let onlyDiffering = state.get('diff') === '1';
  let comparison = null;
  let requestId = 0;

  const picker = h('fieldset', { className: 'picker' }, h('legend', null, `Jurisdictions (2 to ${MAX})`), loading());
  const categorySelect = h('select', { id: uid('cat') },
    h('option', { value: '' }, 'All categories'),
    CATEGORIES.map((key) => h('option', { value: key, selected: key === category }, humanize(key))));
  const differing = h('input', { type: 'checkbox', id: uid('diff'), checked: onlyDiffering });
  const hint = h('p', { className: 'hint', role: 'status' });
  const matrix = h('div', { className: 'matrix-wrap' }, loading());
  const dialog = h('dialog', { className: 'cell-dialog', 'aria-labelledby': 'cell-title' });
  clear(root,
    h('h1', null, 'Compare jurisdictions'),
    h('p', { className: 'lede' }, 'Features in force today and the latest metrics, side by side. Colours show each value\u2019s score from worst to best; \u2260 marks rows whose values differ. Choose a cell for its sources and history.'),
    h('details', { className: 'panel', open: window.matchMedia('(min-width: 60em)').matches || !state.get('j') },
      h('summary', null, `Jurisdictions: ${codes.join(', ')}`), picker),
    h('div', { className: 'filters' },
      h('label', { htmlFor: categorySelect.id }, 'Category '), categorySelect,
      h('span', { className: 'check' }, differing, h('label', { htmlFor: differing.id }, 'Only rows that differ'))),
    hint, scaleLegend(), matrix, dialog);

  categorySelect.addEventListener('change', () => {
    category = categorySelect.value;
    ctx.setParams({ cat: category || null });
    load();
  });
  differing.addEventListener('change', () => {
    onlyDiffering = differing.checked;
    ctx.setParams({ diff: onlyDiffering ? '1' : null });
    draw();
  });
  dialog.addEventListener('close', () => ctx.setParams({ cell: null }));
  dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });

  async function buildPicker() {
    const all = await api.jurisdictions();
    const boxes = all.map((jurisdiction) => {
      const id = uid('j');
      const box = h('input', { type: 'checkbox', id, value: jurisdiction.code, checked: codes.includes(jurisdiction.code) });
      box.addEventListener('change', () => {
        codes = all.map((item) => item.code).filter((code) => (code === box.value ? box.checked : codes.includes(code)));
        picker.closest('details').querySelector('summary').textContent = `Jurisdictions: ${codes.join(', ') || 'none'}`;
        limit();
        ctx.setParams({ j: codes.join(',') });
        if (codes.length >= 2) load();
      });
      return h('span', { className: 'check' }, box, h('label', { htmlFor: id }, jurisdiction.name, ' ', h('span', { className: 'code' }, jurisdiction.code)));
    });
    clear(picker, h('legend', { className: 'visually-hidden' }, `Jurisdictions (2 to ${MAX})`), h('div', { className: 'checks' }, boxes));
    limit();
  }

  function limit() {
    for (const box of picker.querySelectorAll('input[type=checkbox]')) box.disabled = !box.checked && codes.length >= MAX;
    hint.textContent = codes.length < 2 ? 'Choose at least two jurisdictions.' : codes.length >= MAX ? `At most ${MAX} at a time.` : '';
  }

  async function load() {
    requestId += 1;
    const mine = requestId;
    matrix.setAttribute('aria-busy', 'true');
    try {
      const body = await api.get('/v1/compare', { jurisdictions: codes.join(','), categories: category });
      if (mine !== requestId || !ctx.isCurrent()) return;
      comparison = body;
      draw();
      const cell = state.get('cell');
      if (cell && !dialog.open) openCell(...cell.split(':'));
    } catch (error) {
      clear(matrix, errorBox(error));
    } finally {
      matrix.removeAttribute('aria-busy');
    }
  }

  function cellButton(kind, key, code, text, score, cell, best) {
    return h('button', {
      type: 'button', className: 'cell', dataset: { kind, key, code, score: score ?? '' },
      'aria-label': `${text}${score === null || score === undefined ? '' : `, score ${Math.round(score * 100)} of 100`}${best ? ', best of the set' : ''}${cell && cell.confidence !== 'verified' ? `, ${cell.confidence}` : ''}. Details`,
      onclick: () => { state.set('cell', `${kind}:${key}:${code}`); ctx.setParams({ cell: `${kind}:${key}:${code}` }); openCell(kind, key, code); },
    },
    h('span', { className: 'value' }, text, best ? h('span', { className: 'best', title: 'Best of the compared set' }, '\u2605') : null),
    cell && cell.confidence !== 'verified' ? h('span', { className: `mark conf-${cell.confidence}`, title: CONFIDENCE[cell.confidence] }, cell.confidence) : null);
  }

  async function draw() {
    const definitions = new Map((await api.features()).map((feature) => [feature.key, feature]));
    const metricDefinitions = new Map((await api.metrics()).map((metric) => [metric.key, metric]));
    const names = comparison.jurisdictions;
    const head = h('thead', null, h('tr', null,
      h('th', { scope: 'col', className: 'corner' }, 'Feature'),
      names.map((jurisdiction) => h('th', { scope: 'col' }, h('a', { href: `/?view=profile&j=${encodeURIComponent(jurisdiction.code)}` }, jurisdiction.name), ' ', h('span', { className: 'code' }, jurisdiction.code)))));
    const bodies = [];
    let shown = 0;
    for (const group of CATEGORIES) {
      const rows = comparison.features.filter((row) => row.category === group && (!onlyDiffering || row.differs));
      if (!rows.length) continue;
      shown += rows.length;
      bodies.push(h('tbody', null,
        h('tr', { className: 'group' }, h('th', { scope: 'colgroup', colSpan: names.length + 1 }, humanize(group))),
        rows.map((row) => h('tr', { className: row.differs ? 'differs' : '', dataset: { key: row.key } },
          h('th', { scope: 'row' }, row.name, row.differs ? h('span', { className: 'differs-mark', title: 'Values differ' }, ' \u2260', h('span', { className: 'visually-hidden' }, ' (values differ)')) : null),
          names.map((jurisdiction) => {
            const cell = row.values[jurisdiction.code];
            return h('td', { className: scoreClass(cell ? cell.score : null) }, cellButton('f', row.key, jurisdiction.code, cell ? formatValue(cell.value, definitions.get(row.key) || row) : '—', cell ? cell.score : null, cell, row.leaders.includes(jurisdiction.code)));
          })))));
    }
    if (!category && comparison.metrics.length) {
      bodies.push(h('tbody', null,
        h('tr', { className: 'group' }, h('th', { scope: 'colgroup', colSpan: names.length + 1 }, 'Metrics (latest)')),
        comparison.metrics.map((row) => {
          const score = metricScores(row);
          const definition = metricDefinitions.get(row.key) || row;
          return h('tr', { dataset: { key: row.key } }, h('th', { scope: 'row' }, row.name),
            names.map((jurisdiction) => {
              const cell = row.values[jurisdiction.code];
              const value = cell ? score(cell.value) : null;
              return h('td', { className: scoreClass(value) }, cellButton('m', row.key, jurisdiction.code, cell ? `${formatValue(cell.value, definition)} (${cell.period})` : '—', value, cell, row.leaders.includes(jurisdiction.code)));
            }));
        })));
    }
    clear(matrix, shown || bodies.length ? h('div', { className: 'scroll' }, h('table', { className: 'matrix' },
      h('caption', { className: 'visually-hidden' }, `Comparison of ${names.map((jurisdiction) => jurisdiction.name).join(', ')} as of ${comparison.as_of}`),
      head, bodies)) : h('p', null, 'No rows to show: every value is the same, or none is known.'));
    ctx.announce(`Comparison of ${names.length} jurisdictions: ${shown} features.`);
  }

  async function openCell(kind, key, code) {
    if (!comparison) return;
    const row = (kind === 'm' ? comparison.metrics : comparison.features).find((item) => item.key === key);
    const jurisdiction = comparison.jurisdictions.find((item) => item.code === code);
    if (!row || !jurisdiction) return;
    const cell = row.values[code];
    const definition = kind === 'm'
      ? (await api.metrics()).find((metric) => metric.key === key) || row
      : (await api.features()).find((feature) => feature.key === key) || row;
    const sources = new Map(comparison.sources.map((source) => [source.id, source]));
    const history = h('section', { className: 'history', 'aria-labelledby': 'history-h' }, h('h3', { id: 'history-h' }, 'History'), loading());
    clear(dialog,
      h('div', { className: 'dialog-head' },
        h('h2', { id: 'cell-title' }, row.name, h('span', { className: 'sub' }, ` \u2014 ${jurisdiction.name}`)),
        h('button', { type: 'button', className: 'close', onclick: () => dialog.close(), 'aria-label': 'Close' }, '\u00d7')),
      definition.description ? h('p', { className: 'muted' }, definition.description) : null,
      cell ? h('dl', { className: 'facts' },
        h('dt', null, 'Value'), h('dd', { className: 'big' }, formatValue(cell.value, definition)),
        h('dt', null, 'Confidence'), h('dd', null, confidenceBadge(cell.confidence), ' ', CONFIDENCE[cell.confidence] || ''),
        kind === 'm' ? [h('dt', null, 'Period'), h('dd', null, cell.period)]
          : [h('dt', null, 'Valid from'), h('dd', null, formatDate(cell.valid_from), cell.valid_to ? ` to ${formatDate(cell.valid_to)}` : ' (in force)')],
        cell.inherited_from ? [h('dt', null, 'Inherited from'), h('dd', null, h('a', { href: `/?view=profile&j=${encodeURIComponent(cell.inherited_from)}` }, cell.inherited_from))] : null,
        cell.note ? [h('dt', null, 'Note'), h('dd', null, cell.note)] : null,
        h('dt', null, 'Sources'), h('dd', null, sourceList(cell.source_ids, sources)))
        : h('p', null, `No value is known for ${jurisdiction.name}: it is left out of scores, never counted as zero.`),
      history);
    if (!dialog.open) dialog.showModal();
    try {
      if (kind === 'm') {
        const observations = (await api.getAll(`/v1/jurisdictions/${encodeURIComponent(code)}/metrics`, { metrics: key }))
          .filter((item) => item.counterpart_code === null);
        clear(history, h('h3', { id: 'history-h' }, 'History'), observations.length ? [
          sparkline(observations.map((item) => ({ label: item.period, value: item.value })),
            { label: `${row.name}, ${jurisdiction.name}: ${observations.map((item) => `${item.period} ${formatValue(item.value, definition)}`).join('; ')}`, width: 280, height: 60 }),
          historyTable(['Period', 'Value', 'Confidence'], observations.map((item) => [item.period, formatValue(item.value, definition), confidenceBadge(item.confidence)])),
        ] : h('p', null, 'No observations.'));
      } else {
        const body = await api.get(`/v1/jurisdictions/${encodeURIComponent(code)}/features/${encodeURIComponent(key)}`);
        const missing = body.history.flatMap((item) => item.source_ids).filter((id) => !sources.has(id));
        await Promise.all([...new Set(missing)].map(async (id) => sources.set(id, await api.get(`/v1/sources/${encodeURIComponent(id)}`))));
        clear(history, h('h3', { id: 'history-h' }, `History (${body.history.length} value${body.history.length === 1 ? '' : 's'})`),
          h('ol', { className: 'value-history' }, body.history.slice().reverse().map((item) => h('li', null,
            h('span', { className: 'when' }, `${formatDate(item.valid_from)} \u2192 ${item.valid_to ? formatDate(item.valid_to) : 'now'}`),
            h('strong', null, formatValue(item.value, definition)), ' ', confidenceBadge(item.confidence),
            item.note ? h('p', { className: 'muted' }, item.note) : null,
            sourceList(item.source_ids, sources)))));
      }
    } catch (error) {
      clear(history, h('h3', { id: 'history-h' }, 'History'), errorBox(error));
    }
  }

  clear(matrix, loading());
  buildPicker().catch((error) => clear(picker, errorBox(error)));
  load();
}

function sourceList(ids, sources) {
  if (!ids.length) return h('span', null, 'none listed');
  return h('ul', { className: 'sources' }, ids.map((id) => {
    const source = sources.get(id);
    if (!source) return h('li', null, id);
    const label = `${source.publisher}: ${source.title}`;
    return h('li', null, source.url ? h('a', { href: source.url, rel: 'noopener noreferrer', target: '_blank' }, label) : label);
  }));
}

function historyTable(headers, rows) {
  return h('table', { className: 'small' },
    h('thead', null, h('tr', null, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', null, rows.map((cells) => h('tr', null, cells.map((cell) => h('td', null, cell))))));
}

function scaleLegend() {
  return h('p', { className: 'scale', 'aria-label': 'Colour scale: from worst to best score; grey where a value cannot be scored' },
    h('span', { className: 'muted' }, 'Score: '),
    ['s0', 's1', 's2', 's3', 's4'].map((name, i) => h('span', { className: `chip ${name}` }, ['worst', '', '', '', 'best'][i] || '\u00a0')),
    h('span', { className: 'chip s-none' }, 'not scored'));
}

