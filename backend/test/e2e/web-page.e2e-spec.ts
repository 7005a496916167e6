import fs from 'node:fs';
import path from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { givenBatchFeatureOn } from '../support/factories';
import { enableBatchesOn, spawnServer } from '../support/server-process';
import { givenDatabase } from '../support/temp-database';
import { devToken } from '../support/wait';
import { givenApp, TestApp } from '../support/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

describe('Web page in headless Chromium (e2e)', () => {
  let sut: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (the global setup unpacks @sparticuz/chromium's)`);
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600', ROLLOUT_EVALUATION_MS: '200' });
    await givenBatchFeatureOn(sut);
    // playwright-core gives every launch a fresh, empty user data dir of its own.
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

  it('logs in, submits 2,000 demo items and shows the bar reach 100 % and completed', async () => {
    const page = await browser.newPage({ viewport: { width: 420, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(sut.baseUrl + '/');
    await page.getByRole('button', { name: 'Dev login' }).waitFor();
    await page.getByLabel('Development login: user id').fill('browser-user');
    await page.getByRole('button', { name: 'Dev login' }).click();
    await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
    await page.getByLabel('Demo items').fill('2000');
    await page.getByRole('button', { name: 'Generate demo items' }).click();
    await page.getByRole('button', { name: 'Submit batch' }).click();
    const bar = page.getByRole('progressbar').first();
    await page.waitForFunction(
      () => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100',
      null,
      {
        timeout: 60_000,
      },
    );
    await page
      .locator('.batch .status')
      .first()
      .filter({ hasText: /^completed$/ })
      .waitFor({ timeout: 30_000 });
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    expect(await page.locator('.batch .counts').first().textContent()).toContain('2000 / 2000 processed');
    // The papers section lists them with the state of their full text.
    await page.locator('#papers-table tbody tr').first().waitFor();
    expect(await page.locator('#papers-table tbody tr').first().textContent()).toContain('not fetched');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    const papers = await sut.prisma.paper.count({ where: { userId: 'browser-user' } });
    expect(papers).toBe(2000);
  });

  it('shows stored HTML as text, never as markup', async () => {
    const page = await browser.newPage();
    const token = sut.tokenFor('xss-user');
    const res = await sut
      .http()
      .post('/batches')
      .set('Authorization', `Bearer ${token}`)
      .send({
        operation: 'diagnostics.echo',
        items: [{ failPermanently: true, note: '<img src=x onerror="window.pwned=1">' }],
      })
      .expect(202);
    await page.goto(sut.baseUrl + '/');
    await page.evaluate((t) => localStorage.setItem('batchToken', t), token);
    await page.reload();
    const li = page.locator(`li[data-id="${res.body.id as string}"]`);
    await li.waitFor();
    await li.getByRole('button', { name: 'Show failed items' }).click();
    await li.locator('.failed li').first().waitFor();
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
  });

  const signInWith = async (userId: string) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(sut.baseUrl + '/');
    await page.evaluate((t) => localStorage.setItem('batchToken', t), sut.tokenFor(userId));
    await page.reload();
    return { page, errors };
  };

  it('splits the bar by outcome: a cancelled or all-failed batch never fills green (finding 1), statuses in words (finding 10)', async () => {
    const token = sut.tokenFor('bar-user');
    const post = (body: object) =>
      sut.http().post('/batches').set('Authorization', `Bearer ${token}`).send(body).expect(202);
    const failing = await post({
      operation: 'diagnostics.echo',
      items: [{ failPermanently: true }, { failPermanently: true }],
    });
    const slow = await post({
      operation: 'diagnostics.echo',
      items: Array.from({ length: 40 }, (_, i) => ({ n: i, delayMs: 50 })),
      options: { chunkSize: 2 },
    });
    const { page, errors } = await signInWith('bar-user');
    const failed = page.locator(`li[data-id="${failing.body.id}"]`);
    await failed.locator('.status', { hasText: /^completed with errors$/ }).waitFor();
    const width = (li: typeof failed, part: string) =>
      li.locator(`.fill-${part}`).evaluate((el) => (el as HTMLElement).style.width);
    expect([await width(failed, 'ok'), await width(failed, 'failed')]).toEqual(['0%', '100%']);
    // Cancel asks first: dismissed, nothing happens; accepted, the batch is cancelled.
    const running = page.locator(`li[data-id="${slow.body.id}"]`);
    await running.locator('.status', { hasText: /^processing$/ }).waitFor();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await running.getByRole('button', { name: `Cancel of batch ${slow.body.id}` }).click();
    await page.waitForTimeout(300);
    expect(
      (await sut.http().get(`/batches/${slow.body.id}`).set('Authorization', `Bearer ${token}`)).body.status,
    ).not.toBe('cancelled');
    page.once('dialog', (dialog) => void dialog.accept());
    await running.getByRole('button', { name: `Cancel of batch ${slow.body.id}` }).click();
    await running.locator('.status', { hasText: /^cancelled$/ }).waitFor();
    // Items in flight at the cancel settle just after it: then every item is in one of the three shares.
    await page.waitForFunction((id) => {
      const li = document.querySelector(`li[data-id="${id}"]`);
      const sum = ['ok', 'failed', 'cancelled']
        .map((part) =>
          parseFloat((li?.querySelector(`.fill-${part}`) as HTMLElement | null)?.style.width ?? '0'),
        )
        .reduce((a, b) => a + b, 0);
      return Math.abs(sum - 100) < 0.001;
    }, slow.body.id as string);
    const ok = parseFloat(await width(running, 'ok'));
    const cancelled = parseFloat(await width(running, 'cancelled'));
    expect(ok).toBeLessThan(100);
    expect(cancelled).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('says when live updates are down and since when, keeps the user’s name, and clears it when the server is back (finding 5)', async () => {
    const db = await givenDatabase();
    const env = { DATABASE_URL: db.url, LOG_DIR: path.join(db.dir, 'logs') };
    let server = await spawnServer(env);
    try {
      await enableBatchesOn(server);
      const page = await browser.newPage();
      await page.goto(server.baseUrl + '/');
      await page.evaluate((t) => localStorage.setItem('batchToken', t), devToken('outage-user'));
      await page.reload();
      await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
      await server.crash();
      await page.locator('#connection', { hasText: /Live updates paused since \d\d:\d\d:\d\d/ }).waitFor();
      expect(await page.locator('#who').textContent()).toBe('Signed in as outage-user');
      expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(true);
      server = await spawnServer(env, { port: server.port });
      await page.waitForFunction(() => document.querySelector('#connection')?.textContent === '', undefined, {
        timeout: 20_000,
      });
      expect(await page.evaluate(() => document.body.classList.contains('stale'))).toBe(false);
      expect(await page.locator('#who').textContent()).toBe('Signed in as outage-user');
    } finally {
      await server.stop();
      await db.remove();
    }
  });

  it('creates one batch on a double click of Submit (finding 9)', async () => {
    const { page, errors } = await signInWith('double-click-user');
    await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
    await page.locator('#operation').selectOption('diagnostics.echo');
    await page.getByLabel(/^Items:/).fill(JSON.stringify([{ n: 1 }, { n: 2 }]));
    await page.getByRole('button', { name: 'Submit batch' }).dblclick();
    await page.getByText(/^Submitted batch /).waitFor();
    await page.waitForTimeout(500);
    const mine = await sut
      .http()
      .get('/batches')
      .set('Authorization', `Bearer ${sut.tokenFor('double-click-user')}`)
      .expect(200);
    expect(mine.body.data).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('keeps the final state after “Retry failed”, even when the live completion beats the HTTP reply', async () => {
    const token = sut.tokenFor('retry-user');
    const created = await sut
      .http()
      .post('/batches')
      .set('Authorization', `Bearer ${token}`)
      .send({ operation: 'diagnostics.echo', items: [{ failPermanently: true }, { n: 1 }, { n: 2 }] })
      .expect(202);
    const id = created.body.id as string;
    const { page, errors } = await signInWith('retry-user');
    const li = page.locator(`li[data-id="${id}"]`);
    await li.locator('.status', { hasText: /^completed with errors$/ }).waitFor();
    await li.getByRole('button', { name: `Retry failed of batch ${id}` }).click();
    await page.waitForTimeout(1500);
    expect(await li.locator('.status').textContent()).toBe('completed with errors');
    expect(await li.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    // Only what the status allows is enabled, and each button names its batch.
    expect(await li.getByRole('button', { name: `Pause of batch ${id}` }).isDisabled()).toBe(true);
    expect(await li.getByRole('button', { name: `Cancel of batch ${id}` }).isDisabled()).toBe(true);
    expect(await li.getByRole('button', { name: `Retry failed of batch ${id}` }).isEnabled()).toBe(true);
    await li.getByRole('button', { name: `Show failed items of batch ${id}` }).click();
    await li.locator('.failed li').first().waitFor();
    expect(await li.locator('.failed li').first().textContent()).toMatch(/^Item 0: /);
    expect(errors).toEqual([]);
  });

  it('shows nothing of the previous user after signing in as another one, and a 409 next to its batch', async () => {
    const token = sut.tokenFor('first-user');
    const created = await sut
      .http()
      .post('/batches')
      .set('Authorization', `Bearer ${token}`)
      .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] })
      .expect(202);
    const { page, errors } = await signInWith('first-user');
    const li = page.locator(`li[data-id="${created.body.id as string}"]`);
    await li.locator('.status', { hasText: /^completed$/ }).waitFor();
    // A 409 from the server (the page thought the batch could still be cancelled) lands next to the batch.
    // Enabled and clicked in one step: a live render could disable it again in between.
    page.once('dialog', (dialog) => void dialog.accept());
    await li.locator('button[data-action="cancel"]').evaluate((button: HTMLButtonElement) => {
      button.disabled = false;
      button.click();
    });
    await li.locator('.batch-error', { hasText: /INVALID_STATE/ }).waitFor();
    expect(await page.locator('#submit-result').textContent()).toBe('');
    await page.getByLabel('Development login: user id').fill('second-user');
    await page.getByRole('button', { name: 'Dev login' }).click();
    await page.getByText('Signed in as second-user').waitFor();
    await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
    expect(await page.locator('#batches li').count()).toBe(0);
    expect(errors).toEqual([]);
    const icon = await page.request.get(sut.baseUrl + '/favicon.ico');
    expect(icon.status()).toBe(200);
  });

  it('opens a batch’s details: live throughput chart, items filtered by status and paged, readable errors', async () => {
    const { page, errors } = await signInWith('detail-user');
    await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
    await page.locator('#operation').selectOption('papers.import');
    const items = Array.from({ length: 60 }, (_, i) =>
      i % 10 === 0
        ? { title: `Bad ${i}`, doi: 'not-a-doi' }
        : { title: `Paper ${i}`, doi: `10.1000/detail-${i}` },
    );
    await page.getByLabel(/^Items:/).fill(JSON.stringify(items));
    await page.getByRole('button', { name: 'Submit batch' }).click();
    const li = page.locator('.batch').first();
    await li.locator('.status', { hasText: /^completed with errors$/ }).waitFor({ timeout: 30_000 });
    await li.getByRole('button', { name: /^Details of batch/ }).click();
    const detail = page.getByRole('region', { name: /^Batch / });
    await detail.locator('tbody tr').first().waitFor();
    expect(await detail.locator('tbody tr').count()).toBe(20);
    await detail.getByRole('button', { name: 'Next page' }).click();
    await page.waitForFunction(() => document.querySelector('#items-table tbody td')?.textContent === '20');
    await detail.getByLabel('Items with status').selectOption('failed');
    await page.waitForFunction(() => document.querySelectorAll('#items-table tbody tr').length === 6);
    expect(await detail.locator('tbody tr').first().textContent()).toContain(
      'must be a DOI such as 10.1000/xyz',
    );
    // The kind of failure and whether a retry can help, in words (errorCategory, retryable).
    expect(await detail.locator('tbody tr').first().locator('td').nth(5).textContent()).toBe(
      'invalid item (final)',
    );
    expect(await detail.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    expect(await page.locator('#chart').count()).toBe(1);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'batch-detail.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('gives admins every user’s batches with their owners, and the flag panel with a rollout slider and the audit trail', async () => {
    const owner = sut.tokenFor('someone-else');
    await sut
      .http()
      .post('/batches')
      .set('Authorization', `Bearer ${owner}`)
      .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] })
      .expect(202);
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    await page.goto(sut.baseUrl + '/');
    await page.evaluate(
      (t) => localStorage.setItem('batchToken', t),
      sut.tokenFor('root-admin', { admin: true }),
    );
    await page.reload();
    await page.getByRole('heading', { name: 'All batches (admin)' }).waitFor();
    await page.getByText('owner: someone-else').first().waitFor();
    const slider = page.getByLabel('Rollout slider');
    await slider.waitFor();
    await page.locator('#flag-audit li').first().waitFor();
    await slider.fill('40');
    expect(await page.getByLabel('Rollout %').inputValue()).toBe('40');
    await page.getByLabel('Rollout %').fill('100');
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByText('Saved').waitFor();
    await page.locator('#flag-audit li', { hasText: 'root-admin' }).first().waitFor();
    // An empty or non-numeric rollout is refused, not saved as 0 % (finding 2).
    await page.getByLabel('Rollout %').evaluate((el) => ((el as HTMLInputElement).value = ''));
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByText('Rollout must be a number from 0 to 100; nothing was saved.').waitFor();
    const admin = `Bearer ${sut.tokenFor('root-admin', { admin: true })}`;
    expect(
      (await sut.http().get('/feature-flags/BATCH_OPERATIONS').set('Authorization', admin)).body.rollout,
    ).toBe(100);
    // "alice, bob" is two ids, not "alice," (finding 11).
    await page.getByLabel('Rollout %').fill('100');
    await page.getByLabel(/^Whitelist/).fill('alice, bob');
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByText('Saved').waitFor();
    expect(
      (await sut.http().get('/feature-flags/BATCH_OPERATIONS').set('Authorization', admin)).body.whitelist,
    ).toEqual(['alice', 'bob']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin.png'), fullPage: true });
  });

  it('lets an admin start a rollout plan and watch it move by itself: steps, guards against thresholds, history', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
    await page.goto(sut.baseUrl + '/');
    await page.evaluate(
      (t) => localStorage.setItem('batchToken', t),
      sut.tokenFor('plan-admin', { admin: true }),
    );
    await page.reload();
    await page.getByText('No rollout plan.').waitFor();
    await page.getByLabel(/New plan/).fill(
      JSON.stringify({
        steps: [{ rollout: 50 }, { rollout: 100 }],
        minStepSeconds: [1, 3600],
        guards: { serverErrorRate: { max: 0.05, minSamples: 5 } },
      }),
    );
    await page.getByRole('button', { name: 'Start plan' }).click();
    // Users use the batch routes meanwhile (those the flag lets in are the guard's cohort).
    const traffic = setInterval(() => {
      for (let i = 0; i < 10; i++)
        void sut
          .http()
          .get('/batches')
          .set('Authorization', `Bearer ${sut.tokenFor(`plan-user-${i}`)}`)
          .then();
    }, 150);
    try {
      // Pushed over the socket: the plan advanced by itself after its first step's second.
      await page.getByText('Rollout advanced at step 2 (100 %)').waitFor({ timeout: 20_000 });
    } finally {
      clearInterval(traffic);
    }
    await page.getByText(/Plan active, step 2 of 2 \(100 %\)/).waitFor();
    await page
      .locator('#plan-guards tr', { hasText: '5xx answers' })
      .getByText(/holds|too few samples/)
      .waitFor();
    await page.locator('#plan-history li', { hasText: 'advanced · step 2 (100 %) · rollout-plan' }).waitFor();
    expect(await page.locator('#plan-steps li[aria-current="step"]').textContent()).toContain('100 %');
    await page.screenshot({ path: path.join(ARTIFACTS, 'rollout-plan.png'), fullPage: true });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Abort plan' }).click();
    await page.getByText(/Plan aborted, step 2 of 2/).waitFor();
  });

  it('shows the stage of each item live in the details while an operation reports progress inside items', async () => {
    const { page, errors } = await signInWith('stage-user');
    await page.getByText('BATCH_OPERATIONS is on for you').waitFor();
    await page.locator('#operation').selectOption('diagnostics.echo');
    const stages = ['downloading', 'extracting', 'saving'];
    await page.getByLabel(/^Items:/).fill(JSON.stringify([{ n: 0, delayMs: 3000, stages }]));
    await page.getByRole('button', { name: 'Submit batch' }).click();
    const li = page.locator('.batch').first();
    await li.getByRole('button', { name: /^Details of batch/ }).click();
    const stage = page.locator('#items-table tr[data-seq="0"] td').nth(3);
    await stage.filter({ hasText: /^(extracting 67|saving 100)%$/ }).waitFor({ timeout: 10_000 });
    await li.locator('.status', { hasText: /^completed$/ }).waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });
});
