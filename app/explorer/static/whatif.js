// What if: change some of one jurisdiction's values and see its score and rank move, with
// the components that moved (POST /v1/scenarios/evaluate: nothing is stored).

import * as api from './api.js';
import { compareBars, deltaBar } from './charts.js';
import { parseWeights, weightsParam } from './ranking.js';
import { clear, errorBox, formatValue, h, loading, number, uid } from './util.js';

export const title = 'What if';

// `o=key:value` per override; the value is JSON (true, 9, "in_force", null) or bare text.
export function parseOverride(text) {
  const at = text.indexOf(':');
  if (at < 1) return null;
  const raw = text.slice(at + 1);
  let value;
  try { value = JSON.parse(raw); } catch { value = raw; }
  return [text.slice(0, at), value];
}

const KEEP = '__keep__';

export function render(root, state, ctx) {
  const code = (state.get('j') || 'HK').toUpperCase();
  const overrides = new Map(state.getAll('o').map(parseOverride).filter(Boolean));
  const weights = parseWeights(state.get('w'));
  const select = h('select', { id: uid('j') });
  const form = h('form', { className: 'whatif-form panel' }, loading());
  const result = h('section', { className: 'result', 'aria-labelledby': 'result-h', 'aria-live': 'polite' });
  clear(root, h('h1', null, 'What if\u2026?'),
    h('p', { className: 'lede' }, 'Change some of a jurisdiction\u2019s values and see how its score and rank would move. The whole index is recomputed over every jurisdiction with these values; nothing is stored.'),
    h('div', { className: 'filters' }, h('label', { htmlFor: select.id }, 'Jurisdiction '), select),
    h('div', { className: 'whatif-layout' }, form, result));
  select.addEventListener('change', () => ctx.navigate(`/?view=whatif&j=${encodeURIComponent(select.value)}${weightsQuery(weights)}`));

  let definition = null;
  let item = null;
  const valueDefinitions = new Map();

  function control(component, feature) {
    const id = uid('o');
    const current = item ? item.components.find((part) => part.key === component.key) : null;
    const raw = current ? current.raw : null;
    const chosen = overrides.has(component.key) ? overrides.get(component.key) : undefined;
    const now = `now: ${formatValue(raw, feature)}`;
    let input;
    const type = feature.value_type;
    if (type === 'boolean' || type === 'enum') {
      const options = type === 'boolean' ? [[true, 'Yes'], [false, 'No']] : feature.allowed_values.map((option) => [option.value, option.label]);
      input = h('select', { id, name: component.key },
        h('option', { value: KEEP }, `Keep (${formatValue(raw, feature)})`),
        options.map(([value, label]) => h('option', { value: JSON.stringify(value), selected: chosen !== undefined && chosen === value }, label)),
        h('option', { value: 'null', selected: chosen === null }, 'No value'));
    } else {
      input = h('input', {
        id, name: component.key, type: 'number', step: 'any', inputMode: 'decimal', placeholder: raw === null ? 'no value' : String(raw),
        value: chosen !== undefined && chosen !== null ? String(chosen) : '',
      });
    }
    input.addEventListener('change', () => {
      let value;
      if (input.tagName === 'SELECT') value = input.value === KEEP ? undefined : JSON.parse(input.value);
      else value = input.value.trim() === '' ? undefined : Number(input.value);
      if (value === undefined || (typeof value === 'number' && Number.isNaN(value))) overrides.delete(component.key);
      else overrides.set(component.key, value);
      ctx.setParams({ o: [...overrides.entries()].map(([key, v]) => `${key}:${JSON.stringify(v)}`) });
      input.closest('.override').classList.toggle('changed', overrides.has(component.key));
    });
    return h('div', { className: `override${overrides.has(component.key) ? ' changed' : ''}` },
      h('label', { htmlFor: id }, component.name, h('span', { className: 'muted' }, ` ${Math.round(component.weight * 100)}% weight${input.tagName === 'SELECT' ? '' : ` \u00b7 ${now}`}`)),
      input, feature.unit ? h('span', { className: 'unit' }, feature.unit === 'percent' ? '%' : feature.unit) : null);
  }

  async function evaluate() {
    const request = {
      index: definition.key,
      jurisdiction: code,
      overrides: [...overrides.entries()].map(([key, value]) => {
        const component = definition.components.find((part) => part.key === key);
        return component && component.kind === 'metric' ? { metric: key, value } : { feature: key, value };
      }),
      weights,
    };
    result.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.post('/v1/scenarios/evaluate', request);
      if (!ctx.isCurrent()) return;
      show(answer);
      if (window.matchMedia('(max-width: 60em)').matches) result.scrollIntoView({ block: 'start' });
    } catch (error) {
      clear(result, h('h2', { id: 'result-h' }, 'Result'), errorBox(error));
    } finally {
      result.removeAttribute('aria-busy');
    }
  }

  function show(answer) {
    const { baseline, scenario } = answer;
    const rankText = (part) => (part.rank === null ? 'unranked' : `rank ${part.rank} of ${answer.compared}`);
    const moved = answer.rank_delta === null || answer.rank_delta === undefined ? '' : answer.rank_delta < 0 ? `up ${-answer.rank_delta}` : answer.rank_delta > 0 ? `down ${answer.rank_delta}` : 'unchanged';
    const names = new Map(definition.components.map((component) => [component.key, component.name]));
    const sign = (value) => (value > 0 ? `+${number(value)}` : number(value));
    clear(result,
      h('h2', { id: 'result-h' }, `${answer.name}: ${number(baseline.score)} \u2192 ${number(scenario.score)}`),
      h('p', { className: 'verdict' },
        h('span', { className: `delta-text ${answer.score_delta > 0 ? 'up' : answer.score_delta < 0 ? 'down' : ''}` }, answer.score_delta === null ? 'no score' : `${sign(answer.score_delta)} points`),
        `, ${rankText(baseline)} \u2192 ${rankText(scenario)}${moved ? ` (${moved})` : ''}.`),
      compareBars([
        { label: 'Today', value: baseline.score, className: 'baseline' },
        { label: 'What if', value: scenario.score, className: 'scenario' },
      ], { label: `Score today ${number(baseline.score)}, in the scenario ${number(scenario.score)} out of 100` }),
      answer.changed_components.length ? h('div', { className: 'scroll' }, h('table', { className: 'moved' },
        h('caption', null, 'Components that moved (points of the score)'),
        h('thead', null, h('tr', null, ['Component', 'Today', 'What if', 'Change'].map((text) => h('th', { scope: 'col' }, text)))),
        h('tbody', null, answer.changed_components.map((component) => {
          const delta = (component.scenario.contribution ?? 0) - (component.baseline.contribution ?? 0);
          return h('tr', { dataset: { key: component.key } },
            h('th', { scope: 'row' }, names.get(component.key) || component.key),
            h('td', null, `${formatValue(component.baseline.raw, valueDefinitions.get(component.key))} \u00b7 ${number(component.baseline.contribution)}`),
            h('td', null, `${formatValue(component.scenario.raw, valueDefinitions.get(component.key))} \u00b7 ${number(component.scenario.contribution)}`),
            h('td', { className: 'delta-cell' }, deltaBar(delta, { label: `${sign(delta)} points` }), ' ', sign(delta)));
        })))) : h('p', null, 'No component moved.'),
      answer.unused_overrides && answer.unused_overrides.length ? h('p', { className: 'muted' }, `Not in this index: ${answer.unused_overrides.map((o) => o.feature || o.metric || JSON.stringify(o)).join(', ')}.`) : null,
      h('p', { className: 'muted' }, 'Other jurisdictions\u2019 scores can move too: numbers are scaled between the lowest and highest value of the set.'));
    ctx.announce(`Scenario evaluated: score ${number(baseline.score)} to ${number(scenario.score)}.`);
  }

  (async () => {
    try {
      const [all, list, featureList, metricList] = await Promise.all([api.jurisdictions(), api.indices(), api.features(), api.metrics()]);
      definition = await api.index(state.get('index') || list[0].key);
      if (!ctx.isCurrent()) return;
      clear(select, all.map((jurisdiction) => h('option', { value: jurisdiction.code, selected: jurisdiction.code === code }, `${jurisdiction.name} (${jurisdiction.code})`)));
      const scores = await api.get(`/v1/indices/${encodeURIComponent(definition.key)}/scores`, { weights: weightsParam(weights), jurisdictions: null, limit: 500 });
      item = scores.items.find((entry) => entry.code === code) || null;
      const features = new Map(featureList.map((feature) => [feature.key, feature]));
      const metrics = new Map(metricList.map((metric) => [metric.key, { ...metric, value_type: 'number' }]));
      for (const component of definition.components) {
        valueDefinitions.set(component.key, (component.kind === 'metric' ? metrics : features).get(component.key) || { value_type: 'number' });
      }
      clear(form,
        h('fieldset', null, h('legend', null, `${definition.name}: change any of its components`),
          definition.components.map((component) => control(component, valueDefinitions.get(component.key)))),
        h('div', { className: 'form-actions' },
          h('button', { type: 'submit' }, 'Evaluate'),
          h('button', { type: 'button', className: 'quiet', onclick: () => { overrides.clear(); ctx.navigate(`/?view=whatif&j=${encodeURIComponent(code)}${weightsQuery(weights)}`); } }, 'Clear changes')));
      form.addEventListener('submit', (event) => { event.preventDefault(); evaluate(); });
      clear(result, h('h2', { id: 'result-h' }, 'Result'), h('p', null, item && item.rank !== null
        ? `Today: score ${number(item.score)}, rank ${item.rank}. Change some values and choose Evaluate.`
        : 'Change some values and choose Evaluate.'));
      if (overrides.size) evaluate();
    } catch (error) {
      clear(form, errorBox(error));
    }
  })();
}

function weightsQuery(weights) {
  const text = weightsParam(weights);
  return text ? `&w=${text}` : '';
}
