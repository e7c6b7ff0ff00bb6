// Profile: one jurisdiction's regulators, features by category, metric series and timeline.

import * as api from './api.js';
import { sparkline } from './charts.js';
import { CATEGORIES } from './compare.js';
import { clear, confidenceBadge, errorBox, formatDate, formatValue, h, humanize, loading, uid } from './util.js';

export const title = 'Profile';

export function render(root, state, ctx) {
  const code = (state.get('j') || 'HK').toUpperCase();
  const select = h('select', { id: uid('j') });
  const body = h('div', { className: 'profile' }, loading());
  clear(root,
    h('div', { className: 'filters' }, h('label', { htmlFor: select.id }, 'Jurisdiction '), select),
    body);
  select.addEventListener('change', () => ctx.navigate(`/?view=profile&j=${encodeURIComponent(select.value)}`));

  (async () => {
    try {
      const base = `/v1/jurisdictions/${encodeURIComponent(code)}`;
      const [all, profile, values, observations, events, featureList, metricList] = await Promise.all([
        api.jurisdictions(), api.get(base), api.getAll(`${base}/features`), api.getAll(`${base}/metrics`),
        api.getAll(`${base}/events`), api.features(), api.metrics(),
      ]);
      if (!ctx.isCurrent()) return;
      clear(select, all.map((item) => h('option', { value: item.code, selected: item.code === profile.code }, `${item.name} (${item.code})`)));
      document.title = `${profile.name} · Juriscope explorer`;
      const featureDefs = new Map(featureList.map((feature) => [feature.key, feature]));
      const metricDefs = new Map(metricList.map((metric) => [metric.key, metric]));
      const parent = profile.parent_code ? all.find((item) => item.code === profile.parent_code) : null;
      clear(body,
        h('h1', null, profile.name, ' ', h('span', { className: 'code' }, profile.code)),
        h('p', { className: 'meta' }, [humanize(profile.kind), humanize(profile.region), profile.currency].filter(Boolean).join(' \u00b7 '),
          parent ? [' \u00b7 part of ', h('a', { href: `/?view=profile&j=${encodeURIComponent(parent.code)}` }, parent.name)] : null),
        profile.summary ? h('p', { className: 'lede' }, profile.summary) : null,
        h('p', { className: 'actions' },
          h('a', { className: 'button', href: `/?view=whatif&j=${encodeURIComponent(profile.code)}` }, 'What if\u2026'),
          h('a', { className: 'button quiet', href: `/?view=compare&j=${encodeURIComponent(profile.code)},${profile.code === 'SG' ? 'HK' : 'SG'}` }, 'Compare'),
          h('a', { className: 'button quiet', href: base }, 'JSON')),
        regulators(profile.regulators),
        featuresSection(values, featureDefs),
        metricsSection(observations, metricDefs),
        timeline(events));
      ctx.announce(`Profile of ${profile.name}`);
    } catch (error) {
      clear(body, errorBox(error));
    }
  })();
}

function regulators(list) {
  return h('section', { 'aria-labelledby': 'reg-h' }, h('h2', { id: 'reg-h' }, 'Regulators'),
    list.length ? h('ul', { className: 'cards' }, list.map((regulator) => h('li', { className: 'card' },
      h('h3', null, regulator.url ? h('a', { href: regulator.url, rel: 'noopener noreferrer', target: '_blank' }, regulator.name) : regulator.name,
        regulator.acronym ? h('span', { className: 'code' }, ` ${regulator.acronym}`) : null),
      h('p', { className: 'tags' }, regulator.remit.map((remit) => h('span', { className: 'tag' }, humanize(remit)))))))
      : h('p', null, 'None recorded.'));
}

function featuresSection(values, definitions) {
  const groups = CATEGORIES.map((category) => [category, values.filter((value) => value.category === category)]).filter(([, items]) => items.length);
  return h('section', { 'aria-labelledby': 'feat-h' }, h('h2', { id: 'feat-h' }, `Features in force (${values.length})`),
    groups.length ? h('div', { className: 'feature-groups' }, groups.map(([category, items]) => h('section', { className: 'card feature-group' },
      h('h3', null, humanize(category)),
      h('dl', null, items.map((item) => {
        const definition = definitions.get(item.feature_key) || {};
        return [
          h('dt', null, definition.name || humanize(item.feature_key)),
          h('dd', null, h('span', { className: 'value' }, formatValue(item.value, definition)), ' ', confidenceBadge(item.confidence),
            h('span', { className: 'muted since' }, ` since ${formatDate(item.valid_from)}`)),
        ];
      }))))) : h('p', null, 'No feature values in force.'));
}

function metricsSection(observations, definitions) {
  const series = new Map();
  for (const item of observations) {
    const key = `${item.metric_key}|${item.counterpart_code || ''}`;
    if (!series.has(key)) series.set(key, []);
    series.get(key).push(item);
  }
  const cards = [...series.entries()].map(([key, items]) => {
    const [metricKey, counterpart] = key.split('|');
    const definition = definitions.get(metricKey) || { name: humanize(metricKey) };
    items.sort((a, b) => (a.period_start < b.period_start ? -1 : 1));
    const last = items[items.length - 1];
    const name = `${definition.name}${counterpart ? ` (to ${counterpart})` : ''}`;
    const alt = `${name}: ${items.map((item) => `${item.period} ${formatValue(item.value, definition)}`).join('; ')}`;
    return h('li', { className: 'card metric' },
      h('h3', null, name),
      h('p', { className: 'latest' }, h('strong', null, formatValue(last.value, definition)), ` in ${last.period} `, confidenceBadge(last.confidence)),
      items.length > 1 ? sparkline(items.map((item) => ({ label: item.period, value: item.value })), { label: alt }) : null,
      h('p', { className: 'muted range' }, items.length > 1 ? `${items[0].period} \u2192 ${last.period}, ${items.length} observations` : 'One observation'));
  });
  return h('section', { 'aria-labelledby': 'met-h' }, h('h2', { id: 'met-h' }, 'Metrics'),
    cards.length ? h('ul', { className: 'cards metrics' }, cards) : h('p', null, 'No observations.'));
}

function timeline(events) {
  const sorted = events.slice().sort((a, b) => (a.date < b.date ? 1 : -1));
  return h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, `Timeline (${events.length} events)`),
    sorted.length ? h('ol', { className: 'timeline' }, sorted.map((event) => h('li', null,
      h('time', { dateTime: event.date }, formatDate(event.date)),
      h('span', { className: 'tag' }, humanize(event.kind)),
      h('h3', null, event.title),
      event.summary ? h('p', null, event.summary) : null))) : h('p', null, 'No events recorded.'));
}
