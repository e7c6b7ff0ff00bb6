// Drives the explorer in headless Chromium (Debian's, through playwright-core) against a
// running API: node e2e.mjs BASE_URL SCREENSHOT_DIR. Prints one JSON line of findings and
// exits non-zero on the first failed check. Run by tests/explorer/test_e2e.py.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PLAYWRIGHT_CORE_DIR || process.cwd(), 'noop.js'));
const { chromium } = require('playwright-core');

const [base, shots] = process.argv.slice(2);
const findings = { console: [] };

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (message) => { if (['error', 'warning'].includes(message.type())) findings.console.push(message.text()); });
  page.on('pageerror', (error) => findings.console.push(`pageerror: ${error.message}`));
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));

  // Ranking: 10+ stacked bars, each with a text alternative.
  await page.goto(`${base}/`);
  await page.waitForSelector('ol.bars li.bar-row svg.stacked rect:not(.track)');
  const rows = await page.locator('ol.bars li.bar-row').count();
  check(rows >= 10, `ranking shows ${rows} bars`);
  const firstLabel = await page.locator('ol.bars li.bar-row svg.stacked').first().getAttribute('aria-label');
  check(/score .* of 100/.test(firstLabel), 'bars have a text alternative');
  const before = await page.locator('ol.bars li.bar-row').evaluateAll((items) => items.map((item) => item.dataset.code));
  findings.ranking = { rows, top: before.slice(0, 3) };
  await page.screenshot({ path: `${shots}/ranking.png`, fullPage: true });

  // A weight slider, moved with the keyboard, re-queries /scores with weights= and re-ranks.
  const scoresRequest = page.waitForRequest((request) => request.url().includes('/scores?') && request.url().includes('weights=licensed_vasp_count'));
  const slider = page.locator('input[type=range][name=licensed_vasp_count]');
  await slider.focus();
  for (let i = 0; i < 18; i += 1) await page.keyboard.press('ArrowRight');
  const request = await scoresRequest;
  check(request.url().includes('weights=licensed_vasp_count%3A1') || request.url().includes('weights=licensed_vasp_count:1'), `weights sent: ${request.url()}`);
  await page.waitForFunction((old) => {
    const codes = [...document.querySelectorAll('ol.bars li.bar-row')].map((item) => item.dataset.code);
    return codes.join() !== old;
  }, before.join());
  const after = await page.locator('ol.bars li.bar-row').evaluateAll((items) => items.map((item) => item.dataset.code));
  check(new URL(page.url()).searchParams.get('w') === 'licensed_vasp_count:1', `state in URL: ${page.url()}`);
  findings.reweighted = { top: after.slice(0, 3), url: page.url() };

  // Compare from a shared URL; a cell's detail has its sources and history.
  await page.goto(`${base}/?view=compare&j=HK,SG,AE-DU&cat=taxation`);
  await page.waitForSelector('table.matrix tbody tr.differs');
  await page.screenshot({ path: `${shots}/compare.png` });
  await page.goto(`${base}/?view=compare&j=HK,SG,AE-DU&cell=f:stablecoin_regime:HK`);
  await page.waitForSelector('table.matrix tbody tr.differs');
  const heads = await page.locator('table.matrix thead th').allInnerTexts();
  check(heads.length === 4 && heads[1].includes('Hong Kong') && heads[3].includes('AE-DU'), `matrix columns ${heads}`);
  const dialog = page.locator('dialog.cell-dialog');
  await dialog.locator('ol.value-history li').first().waitFor();
  check(await dialog.evaluate((node) => node.open), 'the cell from the URL is open');
  const sourceLinks = await dialog.locator('dl.facts ul.sources a[href^="http"]').count();
  check(sourceLinks >= 1, `cell sources: ${sourceLinks}`);
  findings.compare = { columns: heads, sources: sourceLinks, history: await dialog.locator('ol.value-history > li').count() };
  await page.screenshot({ path: `${shots}/compare-cell.png` });
  await page.keyboard.press('Escape');
  check(!(await dialog.evaluate((node) => node.open)), 'Escape closes the cell');
  check(!new URL(page.url()).searchParams.has('cell'), 'closing forgets the cell in the URL');
  // Another cell, opened with the keyboard.
  await page.locator('button.cell[data-key="corporate_income_tax_pct"][data-code="SG"]').focus();
  await page.keyboard.press('Enter');
  await dialog.locator('dl.facts').waitFor();
  check((await dialog.locator('h2').innerText()).includes('Singapore'), 'keyboard opens a cell');
  check(new URL(page.url()).searchParams.get('cell') === 'f:corporate_income_tax_pct:SG', 'the open cell is in the URL');
  await page.keyboard.press('Escape');

  // Profile: regulators, features, sparklines, timeline.
  await page.goto(`${base}/?view=profile&j=HK`);
  await page.waitForSelector('ol.timeline li');
  const sparklines = await page.locator('.metrics svg.sparkline[aria-label]').count();
  check(sparklines >= 3, `sparklines: ${sparklines}`);
  findings.profile = {
    regulators: await page.locator('section[aria-labelledby=reg-h] li.card').count(),
    sparklines,
    events: await page.locator('ol.timeline li').count(),
  };
  await page.screenshot({ path: `${shots}/profile.png` });

  // What if Hong Kong had a 9% corporate tax and no sandbox?
  await page.goto(`${base}/?view=whatif&j=HK`);
  await page.locator('input[name=corporate_income_tax_pct]').fill('9');
  await page.locator('input[name=corporate_income_tax_pct]').dispatchEvent('change');
  await page.locator('select[name=regulatory_sandbox]').selectOption({ label: 'No' });
  const evaluation = page.waitForResponse((response) => response.url().endsWith('/v1/scenarios/evaluate'));
  await page.getByRole('button', { name: 'Evaluate' }).click();
  check((await evaluation).status() === 200, 'the scenario is evaluated');
  await page.waitForSelector('table.moved tbody tr');
  const verdict = await page.locator('.verdict').innerText();
  check(/points/.test(verdict) && /rank \d+ of \d+ → rank \d+ of \d+/.test(verdict), `verdict: ${verdict}`);
  const moved = await page.locator('table.moved tbody tr').evaluateAll((items) => items.map((item) => item.dataset.key));
  check(moved.includes('corporate_income_tax_pct') && moved.includes('regulatory_sandbox'), `moved: ${moved}`);
  const overrides = new URL(page.url()).searchParams.getAll('o');
  check(overrides.includes('corporate_income_tax_pct:9') && overrides.includes('regulatory_sandbox:false'), `what-if state: ${overrides}`);
  findings.whatif = { verdict, moved, url: page.url() };
  await page.screenshot({ path: `${shots}/whatif.png`, fullPage: true });

  // A phone: the shared what-if URL evaluates by itself; the ranking reads at 390 px.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  small.on('pageerror', (error) => findings.console.push(`pageerror: ${error.message}`));
  await small.goto(findings.whatif.url);
  await small.waitForSelector('table.moved tbody tr');
  const wide = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `no sideways scrolling of the what-if on a phone (${wide} px)`);
  await small.screenshot({ path: `${shots}/phone-whatif.png` });
  await small.goto(`${base}/`);
  await small.waitForSelector('ol.bars li.bar-row svg.stacked rect:not(.track)');
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow} px)`);
  await small.screenshot({ path: `${shots}/phone-ranking.png` });
  await small.goto(`${base}/?view=compare&j=HK,SG,AE-DU&cell=f:crypto_capital_gains_tax_individual_pct:HK`);
  await small.locator('dialog.cell-dialog ol.value-history > li').first().waitFor();
  await small.screenshot({ path: `${shots}/phone-compare-cell.png` });
  await small.goto(`${base}/?view=profile&j=HK`);
  await small.waitForSelector('ol.timeline li');
  await small.screenshot({ path: `${shots}/phone-profile.png` });

  findings.requests = [...new Set(requests.map((item) => new URL(item).pathname))].filter((item) => !item.startsWith('/v1') && !item.startsWith('/explorer/') && item !== '/');
  check(findings.requests.length === 0, `requests outside /, /explorer and /v1: ${findings.requests}`);
  check(findings.console.length === 0, `console errors: ${findings.console.join(' | ')}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(findings));
