// The dashboard in a real headless Chromium against a real daemon, real containers and the
// controller's own nginx, with --auth-token set: the login, the apps and app pages, live updates
// without a reload, charts with data under load, the events page, a session ended by a restart,
// and no console errors; then the same pages once in Firefox.
//
// AUTOSERVE_SCREENSHOTS=1 also saves docs/screenshots/apps.png and app.png from this run.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { AppHistoryAnswer } from '../../../src/history/history-views.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/free-port.js';
import { launchBrowser, launchFirefox, type TestBrowser } from '../../support/browser.js';
import { httpGet } from '../../support/http-get.js';
import { LoadGenerator } from '../../support/load-generator.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const TOKEN = 'dashboard-e2e-token';
const SCREENSHOTS = process.env.AUTOSERVE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots') : undefined;

/** An autoscaled app on the node echo server: load moves its requests, latency, CPU and replicas. */
const SHOP = appManifest('shop', {
  image: 'autoserve-node-echo:v1',
  spec: `  resources: { cpu: 0.25, memory: 64Mi }
  scaling:
    minReplicas: 1
    maxReplicas: 3
    policy:
      mode: auto
      cooldownSeconds: 5
      http: { targetRPSPerReplica: 12, maxP95LatencyMs: 50, windowSeconds: 5 }
      cpu: { targetUtilizationPct: 60 }`,
});

describe('dashboard in headless Chromium', () => {
  let t: TestDaemon;
  let browser: TestBrowser;
  let base: string;

  beforeAll(async () => {
    // A fixed port, so the page's origin survives the controller restart below.
    t = await startTestDaemon('dashboard', { authToken: TOKEN, historyIntervalMs: 1_000, port: await freePort() });
    base = `http://127.0.0.1:${t.daemon.apiPort}`;
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 2 }));
    await t.writeManifest('api.yaml', appManifest('api', { replicas: 1 }));
    await t.writeManifest('shop.yaml', SHOP);
    // Never valid: no spec to run, a ManifestInvalid condition the apps page must make stand out.
    await t.writeManifest('broken.yaml', appManifest('broken', { replicas: -1 }));
    await eventually(() => {
      for (const app of ['web', 'api', 'shop']) expect(t.daemon.store.app(app)?.phase, app).toBe('Running');
    }, { timeoutMs: 90_000, intervalMs: 250 });
    browser = await launchBrowser();
  });
  afterEach(() => {
    // Every test: nothing went to the console as an error, no uncaught exception.
    const errors = browser?.errors.splice(0) ?? [];
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.cleanup();
  });

  /** Logs in from a clean slate (no session cookie left by an earlier test). */
  async function login(page: Page): Promise<void> {
    await browser.context.clearCookies();
    await page.goto(`${base}/ui/`);
    await page.getByLabel('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('[data-testid="apps-table"] tr[data-app]').first().waitFor();
  }

  it('refuses without the token: a login form, no data, and a wrong token is turned away', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/ui/`);
    await expect(page.getByRole('heading', { name: 'Log in' }).isVisible()).resolves.toBe(true);
    expect(await page.locator('[data-testid="apps-table"]').count()).toBe(0);
    // The data behind the page needs the token or a session: a plain request from this browser is refused.
    expect((await page.request.get(`${base}/apps`)).status()).toBe(401);
    expect((await page.request.get(`${base}/watch`)).status()).toBe(401);

    await page.getByLabel('token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong token' }).waitFor();
    // The browser reports the refused login itself; that line is expected here and only here.
    expect(browser.errors.splice(0)).toEqual([expect.stringMatching(/status of 401.*\/ui\/login/)]);
    expect(await browser.context.cookies()).toEqual([]);
    await page.close();
  });

  it('after login the apps page lists the running apps; the token is in no URL, the cookie is HttpOnly', async () => {
    const page = await browser.newPage();
    const urls: string[] = [];
    page.on('request', (req) => urls.push(req.url()));
    await login(page);
    const rows = page.locator('[data-testid="apps-table"] tr[data-app]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-app')))).toEqual(['api', 'broken', 'shop', 'web']);
    // Conditions that are not fine stand out; fine apps carry no chip.
    const broken = page.locator('tr[data-app="broken"]');
    expect(await broken.getAttribute('class')).toContain('attention');
    expect(await broken.locator('.col-phase').innerText()).toBe('Failed');
    expect(await broken.locator('.col-conditions .chip.problem').allInnerTexts()).toEqual(['ManifestInvalid']);
    expect(await page.locator('tr[data-app="web"] .col-conditions .chip').count()).toBe(0);
    const web = page.locator('tr[data-app="web"]');
    expect(await web.locator('.col-phase').innerText()).toBe('Running');
    expect(await web.locator('.col-ready').innerText()).toBe('2/2');
    expect(await web.locator('.col-image').innerText()).toBe('autoserve-demo:v1');
    expect(await web.locator('.col-host').innerText()).toBe('web.localhost');
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    const cookies = await browser.context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'autoserve_session', httpOnly: true, sameSite: 'Strict' })]);
    expect(await page.evaluate(() => document.cookie)).toBe(''); // out of reach of page script

    // Sorting by a column reorders the rows; a second click reverses them.
    await page.getByRole('columnheader', { name: 'Name' }).click();
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-app')))).toEqual(['web', 'shop', 'broken', 'api']);
    await page.getByRole('columnheader', { name: 'Name' }).click();
    await page.close();
  });

  it('the app page shows the replicas; a manifest scale change shows on the open page within 3 s, without a reload', async () => {
    const page = await browser.newPage();
    await login(page);
    await page.locator('tr[data-app="web"] a').click();
    await page.getByRole('heading', { name: 'web', exact: true }).waitFor();
    const replicaRows = page.locator('section:has(h2:text("Replicas")) tbody tr');
    await eventually(async () => expect(await replicaRows.count()).toBe(2), { timeoutMs: 10_000 });
    const first = await replicaRows.first().innerText();
    expect(first).toMatch(/autoserve-\S+-web-\S+\s+running\s+ready/);
    expect(first).toMatch(/\b\d{1,3}(\.\d{1,3}){3}:\d+\b/); // its address on the AutoServe network

    await page.evaluate(() => Object.assign(window, { marker: 'same document' }));
    const written = Date.now();
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 3 }));
    // The page's part is measured from the moment the controller's status has the change (the
    // file watch, debounce and reconcile before it are the controller's, timed elsewhere).
    await eventually(() => expect(t.daemon.store.app('web')?.replicas.desired).toBe(3), { timeoutMs: 15_000, intervalMs: 20 });
    const inStatus = Date.now();
    await page.getByText(/\/ 3 desired/).waitFor({ timeout: 10_000 });
    const seenAfterMs = Date.now() - inStatus;
    expect(seenAfterMs).toBeLessThan(3_000); // the page follows the status stream, no poll interval
    console.log(`dashboard: manifest scale change in the status after ${inStatus - written} ms, on the open page ${seenAfterMs} ms later`);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');
    // And the new replica turns up in the table once it exists, still without a reload.
    await eventually(async () => expect(await replicaRows.count()).toBe(3), { timeoutMs: 30_000, intervalMs: 200 });
    await page.close();
  });

  it('under load the charts hold data points and the autoscaler marks its decisions', async () => {
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'shop.localhost', '/healthz')).status).toBe(200), { timeoutMs: 30_000 });
    const load = new LoadGenerator({ port: t.options.lbPort, hostHeader: 'shop.localhost', path: '/work?ms=4', ratePerSec: 40, durationMs: 40_000 });
    const running = load.run();
    const page = await browser.newPage();
    try {
      await login(page);
      await page.goto(`${base}/ui/apps/shop`);
      await page.getByRole('heading', { name: 'shop', exact: true }).waitFor();
      // Scaled out by the load: a decision row, and its marker time inside the charted hour.
      await eventually(async () => {
        expect(await page.locator('section:has(h2:text("Scaling decisions")) tbody tr').count()).toBeGreaterThan(0);
      }, { timeoutMs: 40_000, intervalMs: 500 });
      for (const chart of ['rps', 'p95', 'cpu', 'memory', 'replicas']) {
        await eventually(async () => {
          const points = Number(await page.locator(`[data-chart="${chart}"]`).getAttribute('data-points'));
          expect(points, chart).toBeGreaterThanOrEqual(5);
          expect(await page.locator(`[data-chart="${chart}"] canvas`).count(), chart).toBe(1);
        }, { timeoutMs: 15_000 });
      }
      // What the charts draw is real load: the history behind them has requests and CPU.
      const history = await page.evaluate(async (): Promise<AppHistoryAnswer> => (await fetch('/apps/shop/history?fields=rps,cpu')).json());
      const measured = (values: (number | null)[] | undefined) => (values ?? []).filter((v): v is number => v !== null);
      expect(Math.max(...measured(history.series.rps))).toBeGreaterThan(10);
      expect(Math.max(...measured(history.series.cpu))).toBeGreaterThan(0);
      expect(history.scaling.length).toBeGreaterThan(0);
      if (SCREENSHOTS) {
        // The picture shows the scale out through: three ready replicas under load.
        await eventually(() => expect(t.daemon.store.app('shop')?.replicas.ready).toBe(3), { timeoutMs: 30_000 });
        await page.waitForTimeout(3_000);
        await mkdir(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, 'app.png'), fullPage: true });
        await page.goto(`${base}/ui/`);
        await page.locator('tr[data-app="shop"]').waitFor();
        await page.waitForTimeout(1_500); // one more history sample for the sparklines
        await page.setViewportSize({ width: 1400, height: 400 });
        await page.screenshot({ path: join(SCREENSHOTS, 'apps.png') });
      }
    } finally {
      load.stop();
      await running;
      await page.close();
    }
  });

  it('the events page filters by app and type', async () => {
    const page = await browser.newPage();
    await login(page);
    await page.getByRole('link', { name: 'Events' }).click();
    const rows = page.locator('[data-testid="events"] tbody tr');
    await rows.first().waitFor();
    await page.getByLabel('app').selectOption('web');
    await eventually(async () => {
      const apps = await rows.locator('td:nth-child(4)').allInnerTexts();
      expect(apps.length).toBeGreaterThan(0);
      expect(new Set(apps)).toEqual(new Set(['web']));
    });
    expect(page.url()).toBe(`${base}/ui/events?app=web`);
    await page.getByLabel('type').selectOption('Warning');
    await eventually(async () => {
      const types = await rows.locator('td:nth-child(2)').allInnerTexts();
      expect(types.every((type) => type === 'Warning')).toBe(true);
    });
    await page.close();
  });

  it('a controller restart ends the session: the open page turns to the login form by itself', async () => {
    const page = await browser.newPage();
    await login(page);
    await t.restart(); // a new signing key: the old cookie is worth nothing now
    await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('tr[data-app="web"]').waitFor();
    // While the controller was down, the browser may report refused connections; nothing else.
    expect(browser.errors.splice(0).filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
    await page.close();
  });

  it('works in Firefox too: login, the three pages with data and charts, no console errors', async () => {
    const firefox = await launchFirefox();
    try {
      const page = await firefox.newPage();
      await page.goto(`${base}/ui/`);
      await page.waitForSelector('input[name="token"]');
      await page.type('input[name="token"]', TOKEN);
      await page.click('form.login button[type="submit"]');
      await page.waitForFunction(() => document.querySelectorAll('tr[data-app]').length === 4);
      await page.waitForFunction(() => [...document.querySelectorAll('.spark-value')].every((e) => /^\d/.test(e.textContent ?? '')));
      await page.click('tr[data-app="shop"] a');
      await page.waitForFunction(() => ['rps', 'p95', 'cpu', 'memory', 'replicas'].every((c) => Number(document.querySelector(`[data-chart="${c}"]`)?.getAttribute('data-points')) >= 2));
      expect(await page.$$eval('section:has(h2) h2', (hs) => hs.map((h) => h.textContent))).toEqual(expect.arrayContaining(['Replicas', 'Conditions', 'Scaling decisions', 'Events']));
      await page.click('a[data-nav="events"]');
      await page.waitForSelector('[data-testid="events"] tbody tr');
      expect(firefox.errors).toEqual([]);
    } finally {
      await firefox.close();
    }
  });
});
