// The public API, called exactly as any third-party frontend would: same origin, plain fetch,
// JSON in and out, the browser's HTTP cache honouring the API's ETag and Cache-Control.

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = typeof problem === 'object' && problem ? problem.detail || problem.title : problem;
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function url(path, params = {}) {
  const target = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(name, value);
  }
  return target;
}

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new ApiError(response.status, body);
    if (response.status === 429) {
      error.message = `Too many requests: the API asks to wait ${response.headers.get('retry-after') || 'a few'} s.`;
    }
    throw error;
  }
  return body;
}

export async function get(path, params = {}, { signal } = {}) {
  const response = await fetch(url(path, params), { headers: { Accept: 'application/json' }, signal });
  return parse(response);
}

export async function post(path, body, { signal } = {}) {
  const response = await fetch(url(path), {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  return parse(response);
}

// Every page of a list, following `next_cursor` (bounded).
export async function getAll(path, params = {}, options = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const body = await get(path, { ...params, limit: 500, cursor }, options);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// Reference data (taxonomy, jurisdictions, indices) once per page load.
const memo = new Map();
export function once(path, loader = () => getAll(path)) {
  if (!memo.has(path)) {
    const pending = loader().catch((error) => {
      memo.delete(path);
      throw error;
    });
    memo.set(path, pending);
  }
  return memo.get(path);
}

export const jurisdictions = () => once('/v1/jurisdictions');
export const features = () => once('/v1/features');
export const metrics = () => once('/v1/metrics');
export const indices = () => once('/v1/indices');
export const index = (key) => once(`/v1/indices/${encodeURIComponent(key)}`, () => get(`/v1/indices/${encodeURIComponent(key)}`));
