// The explorer's shell: which view the query string asks for, navigation without reloads,
// and the state of each view kept in the URL so that any view can be shared.

import * as compare from './compare.js';
import * as profile from './profile.js';
import * as ranking from './ranking.js';
import { clear, h, queryString } from './util.js';
import * as whatif from './whatif.js';

const VIEWS = { ranking, compare, profile, whatif };
const main = document.getElementById('main');
const status = document.getElementById('status');
let current = null;
let renderCount = 0;

export function params() {
  return new URLSearchParams(window.location.search);
}

// Change the query string. `push` adds a history entry (a new view); otherwise the entry is
// replaced (a view's own controls), so Back goes to the previous view.
export function setParams(changes, { push = false } = {}) {
  const next = params();
  for (const [name, value] of Object.entries(changes)) {
    next.delete(name);
    if (Array.isArray(value)) value.forEach((item) => next.append(name, item));
    else if (value !== null && value !== undefined && value !== '') next.set(name, value);
  }
  const target = `${window.location.pathname}${queryString(next)}`;
  window.history[push ? 'pushState' : 'replaceState'](null, '', target);
}

export function announce(text) {
  status.textContent = '';
  window.setTimeout(() => { status.textContent = text; }, 50);
}

export function navigate(href) {
  window.history.pushState(null, '', href);
  render({ focus: true });
}

function render({ focus = false } = {}) {
  const state = params();
  const name = VIEWS[state.get('view')] ? state.get('view') : 'ranking';
  const view = VIEWS[name];
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (current && current.dispose) current.dispose();
  renderCount += 1;
  const container = h('div', { className: `view view-${name}` });
  clear(main, container);
  document.title = `${view.title} · Juriscope explorer`;
  current = view.render(container, state, { setParams, announce, navigate, isCurrent: ((count) => () => count === renderCount)(renderCount) }) || null;
  if (focus) main.focus({ preventScroll: false });
}

// Same-origin links to `/?...` change the view without reloading the page.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
  const target = new URL(link.href, window.location.href);
  if (target.origin !== window.location.origin || target.pathname !== '/') return;
  event.preventDefault();
  navigate(`/${target.search}`);
});

window.addEventListener('popstate', () => render({ focus: true }));

document.getElementById('share').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  try {
    await navigator.clipboard.writeText(window.location.href);
    button.textContent = 'Link copied';
  } catch {
    window.prompt('Copy this link', window.location.href);
  }
  announce('Link to this view copied');
  window.setTimeout(() => { button.textContent = 'Copy link'; }, 2000);
});

render();
