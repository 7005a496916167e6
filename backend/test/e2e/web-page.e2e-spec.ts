import fs from 'node:fs';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { givenBatchFeatureOn } from '../support/factories';
import { enableBatchesOn, spawnServer } from '../support/server-process';
import { givenDatabase } from '../support/temp-database';
import { devToken, clearOfWindowEnd } from '../support/wait';
import { givenApp, TestApp } from '../support/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');
const AXE = require.resolve('axe-core/axe.min.js');
const FEATURE_ON = 'Batch operations are on for you';

/**
 * The operator page (web/, bundled by esbuild, built on the typed client and its React
 * hooks) in a real headless Chromium against the real server. Each numbered finding of
 * issue 23 has a test here that fails on the page it replaced.
 */
describe('Operator page in headless Chromium (e2e)', () => {
  let sut: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (the global setup unpacks @sparticuz/chromium's)`);
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600', ROLLOUT_EVALUATION_MS: '200' });
    await givenBatchFeatureOn(sut);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await sut?.close();
  });

  const auth = (userId: string, admin = false) => ({
    Authorization: `Bearer ${sut.tokenFor(userId, { admin })}`,
  });
  const post = async (userId: string, body: object) =>
    (await sut.http().post('/batches').set(auth(userId)).send(body).expect(202)).body as { id: string };
  const batchOf = async (userId: string, id: string) =>
    (await sut.http().get(`/batches/${id}`).set(auth(userId)).expect(200)).body;
  const finished = async (userId: string, id: string) => {
    for (let i = 0; i < 400; i++) {
      const b = await batchOf(userId, id);
      if (b.finishedAt) return b;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`batch ${id} did not finish`);
  };

  /** A page signed in as `userId` (the token in this browser's storage), at `hash`. */
  const signedIn = async (
    userId: string,
    options: { admin?: boolean; hash?: string; width?: number; base?: string; token?: string } = {},
  ) => {
    const page = await browser.newPage({ viewport: { width: options.width ?? 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const base = options.base ?? sut.baseUrl;
    await page.goto(`${base}/`);
    await page.evaluate(
      (t) => localStorage.setItem('batch-ops.token', t),
      options.token ?? sut.tokenFor(userId, { admin: options.admin }),
    );
    await page.goto(`${base}/${options.hash ?? ''}`);
    await page.reload();
    return { page, errors };
  };

  /** axe-core on the page as it is: no violations. */
  const accessible = async (page: Page, view: string) => {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (c: Document) => Promise<any> } }).axe;
      const result = await axe.run(document);
      return result.violations.map(
        (v: { id: string; nodes: { target: string[] }[] }) =>
          `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      );
    });
    expect({ view, violations }).toEqual({ view, violations: [] });
  };
  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const row = (page: Page, id: string) => page.locator(`tr.batch:has(a[href="#/batches/${id}"])`);

  it('walks a user through every view: dev login, 2,000 demo items to completed, the details, the papers; axe finds nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sut.baseUrl + '/');
    await page.getByRole('button', { name: 'Dev login' }).waitFor();
    await accessible(page, 'sign in');
    await shoot(page, 'sign-in');
    await page.getByLabel('User id').fill('browser-user');
    await page.getByRole('button', { name: 'Dev login' }).click();
    await page.getByText(FEATURE_ON).waitFor();
    await page.getByText('No batches yet.').waitFor();
    await page.getByRole('link', { name: 'New batch' }).first().click();
    await page.getByLabel('Demo items').fill('2000');
    await page.getByRole('button', { name: 'Generate demo items' }).click();
    await page.getByText('2,000 items ready (JSON).').waitFor();
    await accessible(page, 'new batch');
    await shoot(page, 'new-batch');
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.waitForURL(/#\/batches\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop() as string;
    await page.waitForFunction(
      () => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100',
      null,
      { timeout: 60_000 },
    );
    await page
      .locator('article .status', { hasText: /^completed$/ })
      .first()
      .waitFor();
    expect(await page.locator('article .counts').first().textContent()).toBe(
      '2,000 of 2,000 processed · 2,000 succeeded',
    );
    await page.locator('figure.chart svg').waitFor();
    await page.locator('table.items tbody tr').first().waitFor();
    await accessible(page, 'batch details');
    await shoot(page, 'batch-details');
    await page.getByRole('link', { name: '← Batches' }).click();
    await row(page, id)
      .locator('.status', { hasText: /^completed$/ })
      .waitFor();
    await accessible(page, 'batches');
    await shoot(page, 'batches');
    await page.getByRole('link', { name: 'Papers' }).click();
    await page.locator('#papers-table tbody tr').first().waitFor();
    expect(await page.locator('#papers-table tbody tr').first().textContent()).toContain('not fetched');
    await accessible(page, 'papers');
    await shoot(page, 'papers');
    expect(errors).toEqual([]);
    expect(await sut.prisma.paper.count({ where: { userId: 'browser-user' } })).toBe(2000);
  });

  it('splits the bar by outcome: an all-failed or a cancelled batch never fills green (finding 1)', async () => {
    const failing = await post('bar-user', {
      operation: 'diagnostics.echo',
      items: [{ failPermanently: true }, { failPermanently: true }],
    });
    const slow = await post('bar-user', {
      operation: 'diagnostics.echo',
      // 10 s of work: still running when the cancel comes, however long the browser takes to start.
      items: Array.from({ length: 40 }, (_, n) => ({ n, delayMs: 250 })),
      options: { chunkSize: 2 },
    });
    const { page, errors } = await signedIn('bar-user');
    const width = (selector: string, part: string) =>
      page.locator(`${selector} .fill-${part}`).evaluate((el) => (el as HTMLElement).style.width);
    const failedRow = `tr.batch:has(a[href="#/batches/${failing.id}"])`;
    await page.locator(`${failedRow} .status`, { hasText: /^completed with errors$/ }).waitFor();
    expect([await width(failedRow, 'ok'), await width(failedRow, 'failed')]).toEqual(['0%', '100%']);
    await sut.http().post(`/batches/${slow.id}/cancel`).set(auth('bar-user')).expect(202);
    await finished('bar-user', slow.id);
    const slowRow = `tr.batch:has(a[href="#/batches/${slow.id}"])`;
    await page.locator(`${slowRow} .status`, { hasText: /^cancelled$/ }).waitFor();
    await page.waitForFunction((selector) => {
      const parts = ['ok', 'failed', 'cancelled'].map((p) =>
        parseFloat((document.querySelector(`${selector} .fill-${p}`) as HTMLElement).style.width),
      );
      return Math.abs(parts.reduce((a, b) => a + b, 0) - 100) < 0.001 && parts[2] > 0;
    }, slowRow);
    expect(parseFloat(await width(slowRow, 'ok'))).toBeLessThan(100);
    expect(await page.locator(`${slowRow} .counts`).textContent()).toMatch(/ · \d+ cancelled$/);
    expect(errors).toEqual([]);
  });

  it('refuses a rollout that is not a number from 0 to 100 next to the field, saving nothing (finding 2)', async () => {
    const { page, errors } = await signedIn('rollout-admin', { admin: true, hash: '#/flags' });
    const rollout = page.getByLabel('Rollout (% of users)');
    await page.locator('#flag-audit li').first().waitFor();
    const before = (await sut.http().get('/feature-flags/BATCH_OPERATIONS').set(auth('a', true))).body;
    for (const bad of ['', 'abc', '101', '5.555']) {
      await rollout.fill(bad);
      await page
        .locator('#flag-rollout-error', {
          hasText: 'Rollout must be a number from 0 to 100, with at most 2 decimals.',
        })
        .waitFor();
      expect(await page.getByRole('button', { name: 'Save flag' }).isDisabled()).toBe(true);
    }
    await page.keyboard.press('Enter');
    const after = (await sut.http().get('/feature-flags/BATCH_OPERATIONS').set(auth('a', true))).body;
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(after.rollout).toBe(before.rollout);
    await rollout.fill('100');
    expect(await page.locator('#flag-rollout-error').textContent()).toBe('');
    expect(errors).toEqual([]);
  });

  it('says what is wrong next to the field while typing, and puts the server’s details there too (finding 3)', async () => {
    const { page, errors } = await signedIn('form-user', { hash: '#/new' });
    const items = page.getByLabel('Items', { exact: true });
    const itemsError = page.locator('#items-error');
    // Nothing is said of an empty box before the user does anything; Submit says it, and sends nothing.
    expect(await itemsError.textContent()).toBe('');
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await itemsError.getByText('Add at least one item: a JSON array or CSV with a header line.').waitFor();
    await items.fill('[{"title": }]');
    await itemsError.getByText(/^The items are not valid JSON: /).waitFor();
    await items.fill('[{"doi": "nope"}]');
    await itemsError.getByText('Item 0: title is required').waitFor();
    await itemsError.getByText(/^Item 0: doi must match /).waitFor();
    expect(await items.getAttribute('aria-invalid')).toBe('true');
    // Submitting invalid items sends nothing.
    await page.getByRole('button', { name: 'Submit batch' }).click();
    expect((await sut.http().get('/batches').set(auth('form-user'))).body.data).toEqual([]);
    // What only the server can tell (metadata over 4 KiB) lands under the metadata field.
    await items.fill('[{"title": "Fine"}]');
    await page.getByText('Options and metadata').click();
    await page
      .getByLabel('Metadata (JSON object, optional)')
      .fill(JSON.stringify({ note: 'x'.repeat(5000) }));
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page
      .locator('#metadata-error', { hasText: /^metadata must be a JSON object of at most 4096 bytes/ })
      .waitFor();
    expect(await page.locator('#form-error').textContent()).toBe('');
    await page.getByLabel('Chunk size (items per transaction, 1–500)').fill('0');
    await page
      .locator('#chunk-size-error', { hasText: 'Chunk size must be a whole number from 1 to 500.' })
      .waitFor();
    expect((await sut.http().get('/batches').set(auth('form-user'))).body.data).toEqual([]);
    await accessible(page, 'new batch with errors');
    expect(errors).toEqual([]);
  });

  it('refuses a CSV whose header names no item field, and submits exported failures again once fixed (finding 4)', async () => {
    const broken = await post('csv-user', {
      operation: 'papers.import',
      items: [
        { title: 'Good', doi: '10.1000/good' },
        { title: 'Bad one', doi: 'not-a-doi' },
        { title: 'Bad two', doi: 'also-bad' },
      ],
    });
    await finished('csv-user', broken.id);
    const { page, errors } = await signedIn('csv-user', { hash: '#/new' });
    await page.getByLabel('Items', { exact: true }).fill('name,identifier\nOn Batches,10.1000/x');
    await page.locator('#items-error', { hasText: /^Unknown columns “name”, “identifier”/ }).waitFor();
    await page.goto(`${sut.baseUrl}/#/batches/${broken.id}`);
    await page.getByRole('button', { name: 'Fix and resubmit failed…' }).click();
    await page.waitForURL(/#\/new$/);
    const items = page.getByLabel('Items', { exact: true });
    await page.locator('#items-error', { hasText: /^Item 0: doi must match / }).waitFor();
    const exported = await items.inputValue();
    expect(exported.split('\n')[0]).toBe('seq,status,attempts,error,payload,result,errorCategory,retryable');
    await items.fill(exported.replace('not-a-doi', '10.1000/fixed-1').replace('also-bad', '10.1000/fixed-2'));
    await page.getByText('2 items ready (exported CSV).').waitFor();
    await page.getByRole('button', { name: 'Submit batch' }).click();
    await page.waitForURL(/#\/batches\/[0-9a-f-]{36}$/);
    await page
      .locator('article .status', { hasText: /^completed$/ })
      .first()
      .waitFor();
    const id = page.url().split('/').pop() as string;
    expect(await batchOf('csv-user', id)).toMatchObject({
      operation: 'papers.import',
      succeededCount: 2,
      metadata: { resubmitOf: broken.id },
    });
    expect(
      (await sut.prisma.paper.findMany({ where: { userId: 'csv-user' }, orderBy: { doi: 'asc' } })).map(
        (p) => p.doi,
      ),
    ).toEqual(['10.1000/fixed-1', '10.1000/fixed-2', '10.1000/good']);
    expect(errors).toEqual([]);
  });

  it('moves counts with items (finding 8); two tabs through a server restart mid-batch: since when it is stale, dimmed, caught up, never backwards (finding 5)', async () => {
    const db = await givenDatabase();
    // A short lease: the chunk the crash leaves behind is taken over within seconds.
    const env = { DATABASE_URL: db.url, LOG_DIR: path.join(db.dir, 'logs'), BATCH_LEASE_MS: '2000' };
    let server = await spawnServer(env);
    try {
      await enableBatchesOn(server);
      const token = devToken('outage-user');
      const created = await request(server.baseUrl)
        .post('/batches')
        .set('Authorization', `Bearer ${token}`)
        .send({
          operation: 'diagnostics.echo',
          // 6 s of work, recorded a few items at a time (the pace), so the page sees steps even when
          // a loaded machine takes seconds to open both tabs.
          items: Array.from({ length: 30 }, (_, n) => ({ n, delayMs: 200 })),
        })
        .expect(202);
      const { page, errors } = await signedIn('outage-user', {
        base: server.baseUrl,
        token,
        hash: `#/batches/${created.body.id}`,
      });
      // A second tab of the same user, on the list.
      const other = await signedIn('outage-user', { base: server.baseUrl, token, hash: '#/batches' });
      await page.locator('article .counts').waitFor();
      // Every count the page shows, as it shows it.
      await page.evaluate(() => {
        const seen: string[] = ((window as any).seenCounts = []);
        const look = () => {
          const text = document.querySelector('article .counts')?.textContent ?? '';
          if (seen[seen.length - 1] !== text) seen.push(text);
        };
        look();
        new MutationObserver(look).observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
        });
      });
      await page
        .locator('article .status', { hasText: /^completed$/ })
        .first()
        .waitFor({ timeout: 30_000 });
      const processed = (await page.evaluate(() => (window as any).seenCounts as string[]))
        .map((t) => Number(/^(\d+) of 30/.exec(t)?.[1] ?? -1))
        .filter((n) => n >= 0);
      // Not 0 → 30 in one step: at least three counts in between, never going back.
      expect(processed.filter((n) => n > 0 && n < 30).length).toBeGreaterThanOrEqual(3);
      expect(processed).toEqual([...processed].sort((a, b) => a - b));
      // A server restart mid-batch, watched from both tabs.
      const mid = await request(server.baseUrl)
        .post('/batches')
        .set('Authorization', `Bearer ${token}`)
        .send({
          operation: 'diagnostics.echo',
          items: Array.from({ length: 40 }, (_, n) => ({ n, delayMs: 100 })),
          options: { chunkSize: 2 },
        })
        .expect(202);
      await page.goto(`${server.baseUrl}/#/batches/${mid.body.id}`);
      await page.evaluate(() => ((window as any).seenCounts.length = 0));
      await page.locator('article .counts', { hasText: /^([4-9]|[1-3]\d) of 40 processed/ }).waitFor();
      await server.crash();
      await page.locator('#connection', { hasText: /^Live updates paused since \d\d?:\d\d:\d\d/ }).waitFor();
      expect(await page.locator('.who').textContent()).toContain('Signed in as outage-user');
      expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true);
      await shoot(page, 'outage');
      await other.page.locator('#connection', { hasText: /^Live updates paused since / }).waitFor();
      server = await spawnServer(env, { port: server.port });
      await page.locator('#connection', { hasText: /^Live$/ }).waitFor({ timeout: 20_000 });
      expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(false);
      // Both tabs catch up and follow the batch to its end (the dead process's chunk is taken over after its lease).
      await page
        .locator('article .counts', { hasText: /^40 of 40 processed · 40 succeeded$/ })
        .waitFor({ timeout: 30_000 });
      await row(other.page, mid.body.id)
        .locator('.status', { hasText: /^completed$/ })
        .waitFor({ timeout: 30_000 });
      const during = (await page.evaluate(() => (window as any).seenCounts as string[]))
        .map((t) => Number(/^(\d+) of 40/.exec(t)?.[1] ?? -1))
        .filter((n) => n >= 0);
      expect(during).toEqual([...during].sort((a, b) => a - b));
      expect(errors).toEqual([]);
      expect(other.errors).toEqual([]);
    } finally {
      await server.stop();
      await db.remove();
    }
  });

  it('after “Retry all failed”: no negative rate, failures that match the count, a chart that stays above its axis (finding 6)', async () => {
    const created = await post('retry-user', {
      operation: 'diagnostics.echo',
      items: [
        ...Array.from({ length: 30 }, (_, n) => ({ n, delayMs: 5 })),
        { failPermanently: true },
        { failPermanently: true },
      ],
    });
    await finished('retry-user', created.id);
    const { page, errors } = await signedIn('retry-user', { hash: `#/batches/${created.id}` });
    await page.locator('table.failures tbody tr').first().waitFor();
    await page.evaluate(() => {
      const rates: string[] = ((window as any).rates = []);
      new MutationObserver(() => rates.push(document.querySelector('.rate')?.textContent ?? '')).observe(
        document.body,
        {
          subtree: true,
          childList: true,
          characterData: true,
        },
      );
    });
    await page.getByRole('button', { name: 'Retry all failed' }).click();
    await page
      .getByRole('dialog', { name: 'Retry failed items?' })
      .getByRole('button', { name: 'Retry' })
      .click();
    await page.getByText('Failed items queued again.').waitFor();
    await page
      .locator('article .status', { hasText: /^completed with errors$/ })
      .first()
      .waitFor();
    // The groups follow the batch: 2 failed, one group of 2.
    await page.locator('table.failures tbody td.num', { hasText: /^2$/ }).waitFor();
    expect(await page.locator('table.failures tbody tr').count()).toBe(1);
    expect(await page.locator('article .counts').first().textContent()).toBe(
      '32 of 32 processed · 30 succeeded · 2 failed',
    );
    const rates = await page.evaluate(() => (window as any).rates as string[]);
    expect(rates.filter((r) => /-\d/.test(r))).toEqual([]);
    const bars = await page
      .locator('figure.chart rect')
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.every((h) => h >= 0)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('gives a batch its own URL: filters per batch, a chart with axes after a reload, results, whole payloads (finding 7)', async () => {
    const long = 'x'.repeat(300);
    const a = await post('url-user', {
      operation: 'diagnostics.echo',
      items: [{ n: 1, note: long }, { failPermanently: true }],
    });
    const b = await post('url-user', { operation: 'diagnostics.echo', items: [{ n: 2 }, { n: 3 }] });
    await finished('url-user', a.id);
    await finished('url-user', b.id);
    // A bookmark of a filtered view opens as it was saved.
    const { page, errors } = await signedIn('url-user', { hash: `#/batches/${a.id}?status=failed` });
    await page.locator('table.items tbody tr').first().waitFor();
    expect(await page.locator('table.items tbody tr').count()).toBe(1);
    expect(await page.getByLabel('Show').inputValue()).toBe('failed');
    // The chart is drawn from stored history for a finished batch, with both axes.
    await page.locator('figure.chart svg').waitFor();
    expect(await page.locator('figure.chart text', { hasText: 'items/s' }).count()).toBe(1);
    expect(await page.locator('figure.chart text', { hasText: 'time since start' }).count()).toBe(1);
    // Another batch starts unfiltered.
    await page.goto(`${sut.baseUrl}/#/batches/${b.id}`);
    await page.locator('table.items tbody tr').nth(1).waitFor();
    expect(await page.locator('table.items tbody tr').count()).toBe(2);
    expect(await page.locator('table.items tbody tr').first().locator('td').nth(5).textContent()).toBe(
      '{"n":2}',
    );
    // The whole payload in the item's details.
    await page.goto(`${sut.baseUrl}/#/batches/${a.id}`);
    await page.getByRole('button', { name: 'Details of item 0' }).click();
    const dialog = page.getByRole('dialog', { name: 'Item 0' });
    await dialog.waitFor();
    expect(await dialog.locator('pre').first().textContent()).toContain(long);
    await accessible(page, 'item details');
    await shoot(page, 'item-details');
    expect(errors).toEqual([]);
  });

  it('creates one batch on a double click of Submit (finding 9)', async () => {
    const { page, errors } = await signedIn('double-click-user', { hash: '#/new' });
    await page.locator('#operation').selectOption('diagnostics.echo');
    await page.getByLabel('Items', { exact: true }).fill(JSON.stringify([{ n: 1 }, { n: 2 }]));
    await page.getByRole('button', { name: 'Submit batch' }).dblclick();
    await page.waitForURL(/#\/batches\/[0-9a-f-]{36}$/);
    await page.waitForTimeout(500);
    expect((await sut.http().get('/batches').set(auth('double-click-user'))).body.data).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('asks before cancelling, speaks words not codes, hides the token, and signs out (finding 10)', async () => {
    const slow = await post('words-user', {
      operation: 'diagnostics.echo',
      // 12 s of work: still running when the page cancels it, however long the browser takes.
      items: Array.from({ length: 60 }, (_, n) => ({ n, delayMs: 200 })),
      options: { chunkSize: 1 },
    });
    const { page, errors } = await signedIn('words-user', { hash: `#/batches/${slow.id}` });
    await page.getByText(/^Batch operations are on for you \(you are in its rollout share\)\.$/).waitFor();
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this batch?' });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await page.waitForTimeout(300);
    expect((await batchOf('words-user', slow.id)).status).not.toBe('cancelled');
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await dialog.getByRole('button', { name: 'Cancel batch' }).click();
    await page
      .locator('article .status', { hasText: /^cancelled$/ })
      .first()
      .waitFor();
    const failing = await post('words-user', {
      operation: 'diagnostics.echo',
      items: [{ failPermanently: true }],
    });
    await finished('words-user', failing.id);
    await page.goto(`${sut.baseUrl}/#/batches`);
    await row(page, failing.id)
      .locator('.status', { hasText: /^completed with errors$/ })
      .waitFor();
    expect(await page.locator('body').textContent()).not.toMatch(
      /completed_with_errors|\(SPLIT\)|kill switch off/,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('Bearer token').getAttribute('type')).toBe('password');
    expect(await page.getByRole('button', { name: 'Submit batch' }).count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('batch-ops.token'))).toBeNull();
    expect(errors).toEqual([]);
  });

  it('pages failures in seq order, pages and filters the admin list, keeps flags on their own view, audits list edits, says when a 429 ends, fetches full text (finding 11)', async () => {
    const many = await post('list-user', {
      operation: 'diagnostics.echo',
      items: Array.from({ length: 120 }, () => ({ failPermanently: true })),
      metadata: { source: 'nightly-import' },
    });
    await finished('list-user', many.id);
    const { page, errors } = await signedIn('list-user', { hash: `#/batches/${many.id}?status=failed` });
    await page.locator('table.items tbody tr').nth(49).waitFor();
    expect(await page.locator('table.items tbody tr').first().locator('td.num').first().textContent()).toBe(
      '0',
    );
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction(
      () => document.querySelector('table.items tbody td.num')?.textContent === '50',
    );
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction(
      () => document.querySelector('table.items tbody td.num')?.textContent === '100',
    );
    expect(await page.locator('table.items tbody tr').count()).toBe(20);
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    // Admins: every user's batches, paged, with owner and text filters.
    for (let i = 0; i < 21; i++)
      await post(`crowd-${i % 3}`, { operation: 'diagnostics.echo', items: [{ n: i }] });
    const admin = await signedIn('list-admin', { admin: true, hash: '#/batches' });
    await admin.page.locator('tr.batch').nth(19).waitFor();
    await admin.page.getByRole('button', { name: 'Older' }).click();
    await admin.page.getByText('Page 2').waitFor();
    await admin.page.getByLabel('Owner').fill('list-user');
    await admin.page.getByLabel('Search id or metadata').fill('NIGHTLY');
    await admin.page.getByRole('button', { name: 'Search' }).click();
    await admin.page.waitForURL(/owner=list-user/);
    await admin.page.waitForFunction(() => document.querySelectorAll('tr.batch').length === 1);
    expect(await row(admin.page, many.id).locator('.owner').textContent()).toBe('list-user');
    // Flags on their own view; "alice, bob" is two ids, and the audit trail says so. The flag's
    // read is held back: the form waits for it, so what is typed is not overwritten when it lands.
    await admin.page.route('**/feature-flags/BATCH_OPERATIONS', async (route) => {
      if (route.request().method() === 'GET') await new Promise((r) => setTimeout(r, 700));
      await route.continue();
    });
    await admin.page.getByRole('link', { name: 'Feature flags' }).click();
    await admin.page.getByLabel(/^Allow list/).fill('alice, bob');
    await admin.page.getByRole('button', { name: 'Save flag' }).click();
    await admin.page.getByText(/^Saved: on for/).waitFor();
    await admin.page.locator('#flag-audit li', { hasText: 'allow list + alice, bob' }).waitFor();
    expect(
      (await sut.http().get('/feature-flags/BATCH_OPERATIONS').set(auth('a', true))).body.whitelist,
    ).toEqual(['alice', 'bob']);
    await accessible(admin.page, 'feature flags');
    await shoot(admin.page, 'feature-flags');
    // Full text from the papers list: the selected paper becomes a papers.fetch-fulltext batch.
    await post('list-user', {
      operation: 'papers.import',
      items: [{ title: 'Fetch me', doi: '10.1000/fetch-me' }],
    });
    await page.goto(`${sut.baseUrl}/#/papers`);
    await page.getByRole('checkbox', { name: 'Select Fetch me' }).check();
    await page.getByRole('button', { name: 'Fetch full text of 1 selected' }).click();
    await page.waitForURL(/#\/batches\/[0-9a-f-]{36}$/);
    const fetchId = page.url().split('/').pop() as string;
    expect((await batchOf('list-user', fetchId)).operation).toBe('papers.fetch-fulltext');
    expect(errors).toEqual([]);
    expect(admin.errors).toEqual([]);
  });

  it('tells the user when a 429 will let them submit again (finding 11)', async () => {
    await clearOfWindowEnd(3_600_000);
    const limited = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1/3600' });
    try {
      await givenBatchFeatureOn(limited);
      const token = limited.tokenFor('limited-user');
      await limited
        .http()
        .post('/batches')
        .set('Authorization', `Bearer ${token}`)
        .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] })
        .expect(202);
      const { page, errors } = await signedIn('limited-user', {
        base: limited.baseUrl,
        token,
        hash: '#/new',
      });
      await page.locator('#operation').selectOption('diagnostics.echo');
      await page.getByLabel('Items', { exact: true }).fill('[{"n": 2}]');
      await page.getByRole('button', { name: 'Submit batch' }).click();
      await page
        .locator('#form-error', {
          hasText: /^Too many requests: you can try again in \d+ (min|s) \(at \d\d?:\d\d:\d\d/,
        })
        .waitFor();
      expect(errors).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('reads well on a phone and in dark mode: no sideways scroll, words kept whole, chart text legible, no button clutter (finding 12)', async () => {
    const done = await post('phone-user', {
      operation: 'diagnostics.echo',
      items: [
        { n: 1, note: 'a sentence with ordinary words that must wrap between words' },
        { failPermanently: true },
      ],
    });
    await finished('phone-user', done.id);
    const { page, errors } = await signedIn('phone-user', { width: 390, hash: '#/batches' });
    await row(page, done.id).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await row(page, done.id).locator('button').count()).toBe(0);
    await accessible(page, 'batches on a phone');
    await shoot(page, 'phone-batches');
    await page.goto(`${sut.baseUrl}/#/batches/${done.id}`);
    await page.locator('figure.chart svg text').first().waitFor();
    await page.locator('table.items tbody tr').nth(1).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const wordBreak = await page
      .locator('table.items td.error-text')
      .first()
      .evaluate((td) => getComputedStyle(td).wordBreak);
    expect(wordBreak).not.toBe('break-all');
    const chartText = await page
      .locator('figure.chart svg text.axis')
      .first()
      .evaluate((t) => t.getBoundingClientRect().height);
    expect(chartText).toBeGreaterThanOrEqual(10);
    // Only what applies to a finished batch with failures: retry, download, resubmit.
    expect(await page.locator('.actions button').allTextContents()).toEqual([
      'Retry all failed',
      'Download failed (CSV)',
      'Fix and resubmit failed…',
    ]);
    await shoot(page, 'phone-batch-details');
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(13, 17, 23)');
    await accessible(page, 'batch details, dark, phone');
    await page.setViewportSize({ width: 1100, height: 900 });
    await shoot(page, 'dark-batch-details');
    expect(errors).toEqual([]);
  });

  it('works from the keyboard: a skip link first, Escape keeps a batch, Enter submits', async () => {
    const slow = await post('keys-user', {
      operation: 'diagnostics.echo',
      // 12 s of work: its Cancel button stays while the keys are pressed (cancelled at the end).
      items: Array.from({ length: 40 }, (_, n) => ({ n, delayMs: 300 })),
      options: { chunkSize: 1 },
    });
    const { page, errors } = await signedIn('keys-user', { hash: `#/batches/${slow.id}` });
    await page.getByRole('button', { name: 'Cancel batch' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.getByRole('button', { name: 'Cancel batch' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Cancel this batch?' }).waitFor();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
    expect((await batchOf('keys-user', slow.id)).status).not.toBe('cancelled');
    await page.goto(`${sut.baseUrl}/#/new`);
    await page.locator('#operation').selectOption('diagnostics.echo');
    await page.getByLabel('Items', { exact: true }).fill('[{"n": 1}]');
    await page.getByLabel('Demo items').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/batches\/[0-9a-f-]{36}$/);
    expect(errors).toEqual([]);
    await sut.http().post(`/batches/${slow.id}/cancel`).set(auth('keys-user')).expect(202);
  });

  it('shows stored HTML as text, never as markup', async () => {
    const created = await post('xss-user', {
      operation: 'diagnostics.echo',
      items: [{ failPermanently: true, note: '<img src=x onerror="window.pwned=1">' }],
      metadata: { source: '<img src=y onerror="window.pwned=2">' },
    });
    await finished('xss-user', created.id);
    const { page } = await signedIn('xss-user', { hash: `#/batches/${created.id}` });
    await page.locator('table.items tbody tr').first().waitFor();
    await page.getByRole('button', { name: 'Details of item 0' }).click();
    await page.getByRole('dialog', { name: 'Item 0' }).waitFor();
    await page.goto(`${sut.baseUrl}/#/batches`);
    await row(page, created.id).waitFor();
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
  });

  it('shows nothing of the previous user after another signs in on the same browser', async () => {
    const first = await post('first-user', { operation: 'diagnostics.echo', items: [{ n: 1 }] });
    const { page, errors } = await signedIn('first-user', { hash: '#/batches' });
    await row(page, first.id).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User id').fill('second-user');
    await page.getByRole('button', { name: 'Dev login' }).click();
    await page.getByText('Signed in as').waitFor();
    await page.getByText('No batches yet.').waitFor();
    expect(await page.locator('tr.batch').count()).toBe(0);
    // Even the URL of the first user's batch shows nothing of it.
    await page.goto(`${sut.baseUrl}/#/batches/${first.id}`);
    await page.getByText('There is no such batch, or it is not yours.').waitFor();
    expect(errors).toEqual([]);
    expect((await page.request.get(sut.baseUrl + '/favicon.ico')).status()).toBe(200);
  });

  it('lets an admin start a rollout plan and watch it move by itself: steps, guards against thresholds, history', async () => {
    const { page, errors } = await signedIn('plan-admin', { admin: true, hash: '#/flags' });
    await page.getByText('No rollout plan.').waitFor();
    await page.getByLabel(/^New plan/).fill(
      JSON.stringify({
        steps: [{ rollout: 50 }, { rollout: 100 }],
        minStepSeconds: [1, 3600],
        guards: { serverErrorRate: { max: 0.05, minSamples: 5 } },
      }),
    );
    await page.getByRole('button', { name: 'Start plan' }).click();
    const traffic = setInterval(() => {
      for (let i = 0; i < 10; i++)
        void sut
          .http()
          .get('/batches')
          .set(auth(`plan-user-${i}`))
          .then();
    }, 150);
    try {
      // Pushed over the admin socket (`flag-rollout`), not found by the 5 s poll.
      await page
        .locator('#plan-pushed', { hasText: /advanced to step 2 \(100 %\)/ })
        .waitFor({ timeout: 20_000 });
      await page.getByText(/^Plan running, step 2 of 2 \(100 %\)/).waitFor({ timeout: 3_000 });
    } finally {
      clearInterval(traffic);
    }
    await page
      .locator('#plan-guards tr', { hasText: 'Server errors (5xx)' })
      .getByText(/holds|too few samples/)
      .waitFor();
    await page.locator('#plan-history li', { hasText: 'advanced · step 2 (100 %) · rollout-plan' }).waitFor();
    expect(await page.locator('#plan-steps li[aria-current="step"]').textContent()).toContain('100 %');
    await accessible(page, 'rollout plan');
    await shoot(page, 'rollout-plan');
    await page.getByRole('button', { name: 'Abort plan' }).click();
    await page
      .getByRole('dialog', { name: 'Abort the rollout plan?' })
      .getByRole('button', { name: 'Abort plan' })
      .click();
    await page.getByText(/^Plan aborted, step 2 of 2/).waitFor();
    expect(errors).toEqual([]);
  });

  it('shows the stage of each item live while an operation reports progress inside items', async () => {
    const stages = ['downloading', 'extracting', 'saving'];
    const created = await post('stage-user', {
      operation: 'diagnostics.echo',
      items: [{ n: 0, delayMs: 3000, stages }],
    });
    const { page, errors } = await signedIn('stage-user', { hash: `#/batches/${created.id}` });
    await page
      .locator('table.items tbody tr td.stage')
      .filter({ hasText: /^(extracting \(67 %\)|saving \(100 %\))$/ })
      .waitFor({ timeout: 10_000 });
    await page
      .locator('article .status', { hasText: /^completed$/ })
      .first()
      .waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });
});
