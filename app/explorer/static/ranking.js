// Ranking: the index as stacked bars (each component's contribution), weights re-queried live.

import * as api from './api.js';
import { stackedBar } from './charts.js';
import { PALETTE, clear, debounce, errorBox, h, loading, number, s, uid } from './util.js';

export const title = 'Ranking';

// `w=key:weight,...` (the API's own `weights=` syntax): only the weights the user changed.
export function parseWeights(text) {
  const weights = {};
  for (const part of (text || '').split(',')) {
    const [key, value] = part.split(':');
    const weight = Number(value);
    if (key && value !== undefined && Number.isFinite(weight) && weight >= 0) weights[key.trim()] = weight;
  }
  return weights;
}

export function weightsParam(weights) {
  return Object.entries(weights).map(([key, value]) => `${key}:${value}`).join(',');
}

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

export function render(root, state, ctx) {
  const changed = parseWeights(state.get('w'));
  let minCoverage = Number(state.get('min') ?? '0.8');
  if (!Number.isFinite(minCoverage) || minCoverage < 0 || minCoverage > 1) minCoverage = 0.8;
  let controller = null;
  let definition = null;

  const heading = h('h1', null, 'Ranking');
  const intro = h('p', { className: 'lede' }, 'Loading the index…');
  const weightsForm = h('form', { className: 'weights', onsubmit: (event) => event.preventDefault() });
  const controls = h('details', { className: 'panel controls', open: window.matchMedia('(min-width: 60em)').matches },
    h('summary', null, 'Weights and coverage'), weightsForm);
  const legend = h('ul', { className: 'legend', 'aria-label': 'Components' });
  const chart = h('div', { className: 'chart', 'aria-live': 'off' }, loading());
  const unranked = h('section', { className: 'unranked', 'aria-labelledby': 'unranked-h' });
  const table = h('details', { className: 'table-alt' });
  clear(root, heading, intro, h('div', { className: 'ranking-layout' }, controls, h('div', { className: 'ranking-main' }, legend, chart, unranked, table)));

  const colour = (key) => PALETTE[definition.components.findIndex((component) => component.key === key) % PALETTE.length];
  const componentName = (key) => (definition.components.find((component) => component.key === key) || { name: key }).name;

  async function refresh() {
    if (controller) controller.abort();
    controller = new AbortController();
    chart.setAttribute('aria-busy', 'true');
    try {
      const body = await api.get(`/v1/indices/${encodeURIComponent(definition.key)}/scores`, {
        weights: weightsParam(changed), min_coverage: minCoverage, limit: 500,
      }, { signal: controller.signal });
      if (!ctx.isCurrent()) return;
      draw(body);
    } catch (error) {
      if (error.name === 'AbortError') return;
      clear(chart, errorBox(error));
    } finally {
      chart.removeAttribute('aria-busy');
    }
  }

  const requery = debounce(refresh, 200);

  function draw(body) {
    for (const [key, weight] of Object.entries(body.weights)) {
      const output = weightsForm.querySelector(`[data-share="${key}"]`);
      if (output) output.textContent = `${percent(weight)} of the total`;
    }
    const ranked = body.items.filter((item) => item.rank !== null);
    const rest = body.items.filter((item) => item.rank === null);
    const list = h('ol', { className: 'bars', 'aria-label': `${definition.name}, ${ranked.length} jurisdictions ranked` });
    for (const item of ranked) {
      const parts = item.components.filter((component) => component.contribution > 0);
      const description = `${item.name}: rank ${item.rank}, score ${number(item.score)} of 100, coverage ${percent(item.coverage)}. `
        + (parts.length ? `Contributions: ${parts.map((component) => `${componentName(component.key)} ${number(component.contribution)}`).join(', ')}.` : 'No contributions.');
      list.append(h('li', { className: 'bar-row', dataset: { code: item.code } },
        h('span', { className: 'rank', 'aria-hidden': 'true' }, item.rank),
        h('a', { className: 'name', href: `/?view=profile&j=${encodeURIComponent(item.code)}` }, item.name, ' ', h('span', { className: 'code' }, item.code)),
        stackedBar(parts.map((component) => ({ value: component.contribution, color: colour(component.key), label: componentName(component.key) })), { label: description }),
        h('span', { className: 'score' }, number(item.score)),
        h('span', { className: 'coverage', title: 'Share of the index weight with data' },
          h('span', { className: 'meter', 'aria-hidden': 'true' }, h('span', { className: `fill f${Math.round(item.coverage * 10)}` })),
          `${percent(item.coverage)} data`)));
    }
    clear(chart, ranked.length ? list : h('p', null, 'No jurisdiction has enough data at this minimum coverage.'));

    clear(unranked, rest.length ? [
      h('h2', { id: 'unranked-h' }, `Unranked (${rest.length})`),
      h('p', null, `Their data covers less than ${percent(minCoverage)} of the index weight, so a score would say more about the gaps than about the place.`),
      h('ul', { className: 'unranked-list' }, rest.map((item) => h('li', { dataset: { code: item.code } },
        h('a', { href: `/?view=profile&j=${encodeURIComponent(item.code)}` }, item.name), ` — ${percent(item.coverage)} data`))),
    ] : []);

    const headers = ['Rank', 'Jurisdiction', 'Score', 'Coverage', ...definition.components.map((component) => component.name)];
    clear(table, h('summary', null, 'The ranking as a table'), h('div', { className: 'scroll' }, h('table', null,
      h('caption', null, `${definition.name}: contribution of each component, in points of the score`),
      h('thead', null, h('tr', null, headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', null, body.items.map((item) => h('tr', null,
        h('td', null, item.rank ?? '—'), h('th', { scope: 'row' }, item.name), h('td', null, number(item.score)), h('td', null, percent(item.coverage)),
        item.components.map((component) => h('td', null, component.contribution === null ? 'no data' : number(component.contribution)))))))));
    ctx.announce(`Ranking updated: ${ranked.length} ranked, ${rest.length} unranked.`);
  }

  function buildControls() {
    const rows = definition.components.map((component) => {
      const id = uid('w');
      const value = changed[component.key] ?? component.weight;
      const output = h('output', { htmlFor: id, className: 'weight-value' }, value.toFixed(2));
      const input = h('input', {
        type: 'range', id, min: 0, max: 1, step: 0.05, value, name: component.key,
        'aria-describedby': `${id}-share`,
        oninput: () => {
          const weight = Number(input.value);
          output.textContent = weight.toFixed(2);
          if (Math.abs(weight - component.weight) < 1e-9) delete changed[component.key];
          else changed[component.key] = weight;
          ctx.setParams({ w: weightsParam(changed) });
          requery();
        },
      });
      return h('div', { className: 'weight' },
        h('label', { htmlFor: id }, swatchSvg(colour(component.key)), component.name),
        input, output, h('span', { className: 'share', id: `${id}-share`, dataset: { share: component.key } }, ''));
    });
    const coverageId = uid('min');
    const coverageOut = h('output', { htmlFor: coverageId, className: 'weight-value' }, percent(minCoverage));
    const coverage = h('input', {
      type: 'range', id: coverageId, min: 0, max: 1, step: 0.05, value: minCoverage,
      oninput: () => {
        minCoverage = Number(coverage.value);
        coverageOut.textContent = percent(minCoverage);
        ctx.setParams({ min: minCoverage === 0.8 ? null : minCoverage });
        requery();
      },
    });
    const reset = h('button', {
      type: 'button', className: 'quiet',
      onclick: () => {
        for (const key of Object.keys(changed)) delete changed[key];
        minCoverage = 0.8;
        ctx.setParams({ w: null, min: null });
        buildControls();
        refresh();
      },
    }, 'Reset to the index weights');
    clear(weightsForm,
      h('fieldset', null, h('legend', null, 'Weight of each component (0-1, divided by their sum)'), rows),
      h('fieldset', null, h('legend', null, 'Minimum coverage to be ranked'),
        h('div', { className: 'weight' }, h('label', { htmlFor: coverageId }, 'Share of the weight with data'), coverage, coverageOut)),
      reset);
  }

  (async () => {
    try {
      const list = await api.indices();
      const key = state.get('index') || list[0].key;
      definition = await api.index(key);
      if (!ctx.isCurrent()) return;
      heading.textContent = definition.name;
      clear(intro, 'Each bar is a jurisdiction\u2019s score out of 100, split into what each component contributes. Move the weights to see the ranking change; missing data is left out, never scored as zero. ',
        h('a', { href: `/v1/indices/${encodeURIComponent(definition.key)}` }, 'Index definition'), '.');
      clear(legend, definition.components.map((component) => h('li', null, swatchSvg(colour(component.key)), component.name)));
      buildControls();
      await refresh();
    } catch (error) {
      clear(chart, errorBox(error));
    }
  })();

  return { dispose: () => controller && controller.abort() };
}

// Colours go through SVG attributes: the page's CSP allows no inline styles.
export function swatchSvg(color) {
  return s('svg', { viewBox: '0 0 10 10', class: 'swatch', 'aria-hidden': 'true' },
    s('rect', { width: 10, height: 10, rx: 2, fill: color }));
}
