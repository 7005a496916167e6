import fs from 'node:fs';
import path from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { givenBatchFeatureOn } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

describe('Web page in headless Chromium (e2e)', () => {
  let sut: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
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
});
