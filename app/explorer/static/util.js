// Small helpers: DOM building (text nodes only, never HTML strings), SVG, formatting, URL state.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function assign(node, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (name in node && !(node instanceof SVGElement) && name !== 'list' && name !== 'form') {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? '' : value);
    }
  }
  return node;
}

export function h(tag, attributes, ...children) {
  return append(assign(document.createElement(tag), attributes), children);
}

export function s(tag, attributes, ...children) {
  return append(assign(document.createElementNS(SVG_NS, tag), attributes), children);
}

export function clear(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

export function humanize(text) {
  if (!text) return '';
  const words = String(text).replaceAll('_', ' ').replace(/\baml\b/gi, 'AML');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const UNITS = { percent: '%', years: ' years', business_days: ' business days' };

export function number(value, digits = 1) {
  if (value === null || value === undefined) return '—';
  const rounded = Math.round(value * 10 ** digits) / 10 ** digits;
  return rounded.toLocaleString('en', { maximumFractionDigits: digits });
}

// A raw value as a person reads it, given its feature or metric definition (when known).
export function formatValue(value, definition = {}) {
  if (value === null || value === undefined) return 'no value';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (Array.isArray(definition.allowed_values)) {
    const option = definition.allowed_values.find((allowed) => allowed.value === value);
    if (option) return option.label;
  }
  if (typeof value === 'number') {
    const unit = definition.unit;
    if (unit === 'percent') return `${number(value, 2)}%`;
    const text = Math.abs(value) >= 1e6
      ? value.toLocaleString('en', { notation: 'compact', maximumFractionDigits: 1 })
      : Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en') : number(value, 2);
    if (!unit || unit === 'count' || unit === 'rank') return text;
    if (UNITS[unit]) return `${text}${UNITS[unit]}`;
    return `${text} ${/^[a-z]{3}$/.test(unit) ? unit.toUpperCase() : humanize(unit).toLowerCase()}`;
  }
  if (definition.value_type === 'enum') return humanize(value);
  return String(value);
}

export function formatDate(iso) {
  if (!iso) return '';
  const [year, month, day] = iso.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString('en-GB', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });
}

export const CONFIDENCE = {
  verified: 'Verified against a primary or authoritative source',
  reported: 'Reported: known second-hand',
  estimated: 'Estimated',
  disputed: 'Disputed: contradicted by better sources',
};

export function confidenceBadge(confidence) {
  return h('span', { className: `badge conf-${confidence}`, title: CONFIDENCE[confidence] || '' }, confidence);
}

// 0-1 score to one of five colour classes (s0 worst .. s4 best); null: neutral.
export function scoreClass(score) {
  if (score === null || score === undefined || Number.isNaN(score)) return 's-none';
  return `s${Math.min(4, Math.floor(score * 5))}`;
}

// Component colours: distinguishable, with text alternatives everywhere they are used.
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f', '#ff9da7', '#4b3d8f', '#8cd17d', '#d37295'];

// Query-string state: readable (commas and colons left as they are) and shareable.
export function queryString(params) {
  const parts = [];
  for (const [name, value] of params) {
    if (value === '' || value === null || value === undefined) continue;
    const encoded = encodeURIComponent(value).replaceAll('%2C', ',').replaceAll('%3A', ':').replaceAll('%7E', '~');
    parts.push(`${encodeURIComponent(name)}=${encoded}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export function codesParam(text) {
  return (text || '').split(',').map((code) => code.trim().toUpperCase()).filter(Boolean);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function errorBox(error) {
  const problem = error && error.problem && typeof error.problem === 'object' ? error.problem : null;
  return h('div', { className: 'error', role: 'alert' },
    h('strong', null, problem ? `${problem.status} ${problem.title}` : 'Could not load the data'),
    h('p', null, error.message || String(error)),
    problem && Array.isArray(problem.errors) && problem.errors.length
      ? h('ul', null, problem.errors.map((item) => h('li', null, `${(item.loc || []).join('.')}: ${item.msg}`)))
      : null);
}

export function loading(text = 'Loading…') {
  return h('p', { className: 'loading', role: 'status' }, text);
}
