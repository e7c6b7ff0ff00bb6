// The generated TypeScript SDK against a live `juriscope serve` (JURISCOPE_URL), seeded with
// the bundled dataset. Prints one line per check, then "N passed, N failed".
import { createClient } from './generated/client';
import {
  compareJurisdictions,
  evaluateScenario,
  getIndexScores,
  getJurisdiction,
  listFeatureValues,
  listJurisdictions,
  listJurisdictionsCsv,
} from './generated';
import type { JurisdictionList, JurisdictionRead, Problem } from './generated';

const client = createClient({ baseUrl: process.env.JURISCOPE_URL ?? 'http://127.0.0.1:8000' });
const results: Array<[string, string | null]> = [];

function check(condition: boolean, message: string): void {
  if (!condition) {
    throw new Error(message);
  }
}

async function test(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    results.push([name, null]);
  } catch (error) {
    results.push([name, error instanceof Error ? error.message : String(error)]);
  }
}

function sent(response: Response | undefined): Response {
  if (response === undefined) {
    throw new Error('no response');
  }
  return response;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'status' in value && 'title' in value;
}

async function main(): Promise<void> {
  await test('paginates jurisdictions to the end', async () => {
    const seen: Array<JurisdictionRead> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { data, error }: { data?: JurisdictionList; error?: unknown } =
        await listJurisdictions({ client, query: { limit: 7, cursor } });
      check(error === undefined && data !== undefined, `page ${pages} failed`);
      if (data === undefined) return;
      seen.push(...data.items);
      cursor = data.next_cursor;
      pages += 1;
    } while (cursor !== null);
    const codes = seen.map((j) => j.code);
    check(pages > 1, `one page only (${codes.length} jurisdictions)`);
    check(new Set(codes).size === codes.length, 'a jurisdiction on two pages');
    check(codes.includes('HK') && codes.includes('SG'), 'HK or SG missing');
  });

  await test('compares jurisdictions', async () => {
    const { data } = await compareJurisdictions({
      client,
      query: { jurisdictions: 'HK,SG,AE-DU' },
    });
    check(data !== undefined, 'no comparison');
    if (data === undefined) return;
    check(data.jurisdictions.map((j) => j.code).join(',') === 'HK,SG,AE-DU', 'wrong columns');
    const values = data.features.flatMap((row) => Object.values(row.values));
    const typed = values.every(
      (cell) =>
        cell === null ||
        ['boolean', 'number', 'string'].includes(typeof cell.value),
    );
    check(values.length > 0 && typed, 'untyped feature values');
  });

  await test('ranks on an index, scores rounded', async () => {
    const { data } = await getIndexScores({
      client,
      path: { key: 'va_hub_competitiveness' },
      query: { limit: 500 },
    });
    check(data !== undefined, 'no scores');
    if (data === undefined) return;
    check(data.next_cursor === null, 'a next page at limit 500');
    const first = data.items[0];
    check(first !== undefined && first.rank === 1, 'no first rank');
    for (const item of data.items) {
      const score: number | null = item.score;
      check(score === null || Math.round(score * 1e6) / 1e6 === score, `unrounded ${score}`);
    }
  });

  await test('evaluates a scenario', async () => {
    const { data } = await evaluateScenario({
      client,
      body: {
        index: 'va_hub_competitiveness',
        jurisdiction: 'HK',
        overrides: [{ feature: 'corporate_income_tax_pct', value: 9 }],
      },
    });
    check(data !== undefined, 'no scenario result');
    if (data === undefined) return;
    check(data.jurisdiction === 'HK', 'wrong jurisdiction');
    check(typeof data.score_delta === 'number', 'no score delta');
  });

  await test('reads a 404 as a typed problem', async () => {
    const result = await getJurisdiction({ client, path: { code: 'ZZ' } });
    const { data, error } = result;
    const response = sent(result.response);
    check(data === undefined && response.status === 404, `status ${response.status}`);
    check(isProblem(error) && error.status === 404, 'not a problem');
    check(response.headers.get('content-type') === 'application/problem+json', 'media type');
  });

  await test('reads a 422 as a typed problem', async () => {
    const result = await listFeatureValues({
      client,
      path: { key: 'regulatory_sandbox' },
      query: { as_of: 'not-a-date' },
    });
    const { error } = result;
    const response = sent(result.response);
    check(response.status === 422, `status ${response.status}`);
    check(isProblem(error) && (error.errors ?? []).length > 0, 'no validation errors');
  });

  await test('revalidates with the ETag', async () => {
    const first = await getJurisdiction({ client, path: { code: 'HK' } });
    const etag = sent(first.response).headers.get('etag');
    check(first.data?.code === 'HK' && etag !== null, 'no ETag');
    const again = await fetch(sent(first.response).url, { headers: { 'If-None-Match': etag ?? '' } });
    check(again.status === 304, `status ${again.status}`);
    check(again.headers.get('etag') === etag, 'another ETag on the 304');
  });

  await test('reads CSV as text from its own operation', async () => {
    const result = await listJurisdictionsCsv({ client, query: { limit: 2 }, parseAs: 'text' });
    const { data } = result;
    const response = sent(result.response);
    check(response.headers.get('content-type') === 'text/csv; charset=utf-8', 'media type');
    const text: string | undefined = data;
    check(text !== undefined && text.startsWith('code,name,'), 'not the CSV');
  });

  await test('sends the rate-limit headers', async () => {
    const response = sent((await listJurisdictions({ client, query: { limit: 1 } })).response);
    check(/^"read";q=\d+;w=\d+$/.test(response.headers.get('ratelimit-policy') ?? ''), 'policy');
    check(/^"read";r=\d+;t=\d+$/.test(response.headers.get('ratelimit') ?? ''), 'ratelimit');
  });

  for (const [name, failure] of results) {
    console.log(failure === null ? `ok ${name}` : `FAILED ${name}: ${failure}`);
  }
  const failed = results.filter(([, failure]) => failure !== null).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
