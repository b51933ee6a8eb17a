// Issue 14, items 3 and 4: Transport Lab as two instances on one Redis behind a real nginx
// (`npm run start:cluster`, scripts/cluster.mjs). A race in Chromium through the balancer on each
// instance at once, every lane finishing with its figures; and what the balancer's stickiness is for:
// without it socket.io's HTTP long-polling fails ("Session ID unknown"), its websocket transport and
// the sticky balancer do not. The cluster is started by the fixture; without nginx or Redis it fails.
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { LANE_IDS } from '@transport-lab/shared';
import { io, type Socket } from 'socket.io-client';
import { type RunningCluster, startCluster } from '../fixtures/cluster.ts';
import { RacePage, toBytes, toCount, toMs } from '../fixtures/racePage.ts';
import { RoomParticipantPage, RoomPresenterPage } from '../fixtures/roomPage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { test as base, expect } from '../fixtures/test.ts';
import { expectWireAgreement } from '../fixtures/wireAgreement.ts';

const test = base.extend<object, { cluster: RunningCluster }>({
  cluster: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern; the cluster has none.
    async ({}, use) => {
      const cluster = await startCluster({ instances: 2, sticky: true });
      await use(cluster);
      await cluster.close();
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ cluster }, use) => {
    await use(cluster.url);
  },
});

/** A phone's browser context: its viewport, touch and mobile user agent hints. */
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** A browser context that nginx routes to the instance on `port`: without a cookie the balancer
 *  hashes address and User-Agent, so a User-Agent is tried until the balancer answers from there. */
async function contextOn(
  browser: { newContext(o: object): Promise<BrowserContext> },
  url: string,
  port: number,
  options: object = { viewport: { width: 1280, height: 900 } },
) {
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const userAgent = `Mozilla/5.0 (transport-lab cluster e2e ${attempt}) Chrome`;
    const probe = await fetch(`${url}/healthz`, { headers: { 'user-agent': userAgent } });
    await probe.arrayBuffer();
    if (probe.headers.get('x-lab-upstream') === `127.0.0.1:${port}`) {
      return browser.newContext({ ...options, baseURL: url, userAgent });
    }
  }
  throw new Error(`no User-Agent of 64 tried is routed to 127.0.0.1:${port}`);
}

/** Every instance address nginx named (X-Lab-Upstream) for this page's requests to the balancer;
 *  `credentialed: true` counts only those that carried the page's cookies (its lanes, its room), not
 *  the lab's own observation requests, which are sent without. */
function upstreamsOf(page: Page, origin: string, { credentialed = false } = {}): Set<string> {
  const seen = new Set<string>();
  page.on('response', async (response) => {
    if (!response.url().startsWith(origin)) return;
    const upstream = response.headers()['x-lab-upstream'];
    if (credentialed && (await response.request().headerValue('cookie')) === null) return;
    if (upstream) seen.add(upstream);
  });
  return seen;
}

/** Engine.io's polling handshake, then the session's next request, raw, with no cookie: the POST
 *  of socket.io's CONNECT packet (`40`), as socket.io-client sends it. */
async function pollTwice(url: string): Promise<{ second: number; body: string }> {
  const handshake = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  const open = await handshake.text();
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  const next = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    body: '40',
  });
  return { second: next.status, body: await next.text() };
}

/** A socket.io client with only this transport: resolves 'connected' or the connect error's text. */
function connectWith(url: string, transports: ('polling' | 'websocket')[]): Promise<string> {
  const socket: Socket = io(url, { transports, reconnection: false, timeout: 10_000 });
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { context?: { responseText?: string } }) => {
      socket.close();
      resolve(`${error.message} ${error.context?.responseText ?? ''}`.trim());
    });
    // A polling client cut mid-handshake may end in a disconnect rather than a connect error.
    socket.io.on('error', (error: Error & { context?: { responseText?: string } }) => {
      socket.close();
      resolve(`${error.message} ${error.context?.responseText ?? ''}`.trim());
    });
  });
}

test.describe('two instances behind nginx, sticky', () => {
  test.setTimeout(120_000);

  test('a race on each instance at once: every lane finishes with its figures', async ({
    browser,
    cluster,
  }) => {
    const task = { durationMs: 3_000, steps: 12 };
    const races = await Promise.all(
      ['i1', 'i2'].map(async (instance, index) => {
        const port = cluster.instancePorts[index] as number;
        const context = await contextOn(browser, cluster.url, port);
        const page = await context.newPage();
        const upstreams = upstreamsOf(page, cluster.url);
        const race = new RacePage(page);
        await race.goto();
        await race.configure({ ...task, lanes: LANE_IDS });
        return { instance, port, context, race, upstreams };
      }),
    );
    await Promise.all(races.map(({ race }) => race.startButton.click()));

    for (const { instance, port, race, upstreams } of races) {
      for (const lane of LANE_IDS) {
        await expect(race.card(lane), `${instance}: ${lane} finishes`).toHaveAttribute(
          'data-status',
          'succeeded',
          { timeout: 40_000 },
        );
      }
      for (const lane of LANE_IDS) {
        const text = await race.metricTexts(lane);
        expect(toMs(text['total-perceived']), `${instance} ${lane}: total perceived`).toBeGreaterThanOrEqual(
          task.durationMs,
        );
        expect(toMs(text['first-feedback']), `${instance} ${lane}: first feedback`).toBeLessThanOrEqual(
          toMs(text['total-perceived']),
        );
        expect(toCount(text.requests), `${instance} ${lane}: requests`).toBeGreaterThanOrEqual(1);
        expect(toBytes(text['bytes-down']), `${instance} ${lane}: bytes down`).toBeGreaterThan(0);
      }
      // The webhook lane's deliveries: one per event (queued, started, each step's progress, the end),
      // each delivered at its first attempt, none pending: each event delivered once.
      const deliveries = race.card('webhook').getByTestId('lane-deliveries');
      await expect(deliveries).toContainText(/delivered/);
      await expect(deliveries).not.toContainText(/pending/);
      const counts = /(\d+) deliveries, (\d+) attempts/.exec((await deliveries.textContent()) ?? '');
      expect(counts?.[1], `${instance}: one delivery per event`).toBe(String(task.steps + 3));
      expect(counts?.[2], `${instance}: one attempt per delivery`).toBe(counts?.[1]);
      // Everything this page asked the balancer was answered by its own instance: sticky.
      expect([...upstreams], `${instance}: the instances that answered`).toEqual([`127.0.0.1:${port}`]);
    }
    await races[1]?.race.page.screenshot({ path: join(artifactsDir, 'cluster-race-i2.png'), fullPage: true });
    for (const { context } of races) await context.close();
  });

  test("a room's link takes a phone the balancer would send elsewhere to the room's instance", async ({
    browser,
    cluster,
  }) => {
    const [i1, i2] = cluster.instancePorts as [number, number];
    const presenterContext = await contextOn(browser, cluster.url, i1);
    // Without the room's link this phone would be on i2 (contextOn checks that).
    const phoneContext = await contextOn(browser, cluster.url, i2, PHONE);
    try {
      const presenterPage = await presenterContext.newPage();
      const presenter = new RoomPresenterPage(presenterPage);
      await presenter.goto('durationMs=1000&steps=5&lanes=short-polling,sse,websocket');
      const code = await presenter.create();
      const phonePage = await phoneContext.newPage();
      // Its lanes and its room socket carry the link the room's instance gave it; its observation
      // requests (clock, settings, wire report) carry no cookie and still go by its hash (README,
      // "Scaling out": what that costs).
      const phoneUpstreams = upstreamsOf(phonePage, cluster.url, { credentialed: true });
      const phone = new RoomParticipantPage(phonePage);
      await phone.openLink(await presenterPage.getByTestId('room-link').inputValue());
      await expect(phone.codeField).toHaveValue(code);
      await phone.join('Phone on the other hash');
      await expect(presenter.presenceSummary).toContainText('2 in the room, 2 connected');
      await presenter.startButton.click();
      await expect(phone.status).toHaveAttribute('data-state', 'reported', { timeout: 30_000 });
      await expect(presenter.reported).toHaveText('1');
      await expect(presenter.expected).toHaveText('1');
      expect([...phoneUpstreams], 'the phone: every credentialed request to the room’s instance').toEqual([
        `127.0.0.1:${i1}`,
      ]);
    } finally {
      await presenterContext.close();
      await phoneContext.close();
    }
  });

  test("a phone on the other instance types the room's code: it joins, races and is counted once, staying on its own instance", async ({
    browser,
    cluster,
  }) => {
    const [i1, i2] = cluster.instancePorts as [number, number];
    const presenterContext = await contextOn(browser, cluster.url, i1);
    const phoneContext = await contextOn(browser, cluster.url, i2, PHONE);
    const cleanups: Array<() => Promise<void>> = [];
    try {
      const presenterPage = await presenterContext.newPage();
      const presenter = new RoomPresenterPage(presenterPage);
      await presenter.goto('durationMs=1000&steps=5&lanes=short-polling,sse,websocket');
      const code = await presenter.create();
      const phonePage = await phoneContext.newPage();
      const phoneUpstreams = upstreamsOf(phonePage, cluster.url);
      const phone = new RoomParticipantPage(phonePage);
      // Typed on a page i2 served: i2 relays the room messages to the room's home, i1.
      await phone.joinByCode(code.toLowerCase(), 'Phone on i2');
      await expect(presenter.presenceSummary).toContainText('2 in the room, 2 connected');
      await presenter.startButton.click();
      await expect(phone.status).toHaveAttribute('data-state', 'reported', { timeout: 30_000 });
      await expect(presenter.reported).toHaveText('1');
      await expect(presenter.expected).toHaveText('1');
      // The phone's lanes ran on its own instance: the room reached it, it did not move.
      expect([...phoneUpstreams], 'the phone: every request to its own instance').toEqual([
        `127.0.0.1:${i2}`,
      ]);

      // The room's board lives on i1. A second phone joins by the link (so on i1); both open the
      // board, the phone on i2 by the websocket lane (relayed from i1), and each sees the other's note.
      const boardUpstreams = upstreamsOf(phonePage, `${cluster.url}/api/boards/`);
      const otherContext = await contextOn(browser, cluster.url, i1, PHONE);
      cleanups.push(() => otherContext.close());
      const other = new RoomParticipantPage(await otherContext.newPage());
      await other.openLink(await presenterPage.getByTestId('room-link').inputValue());
      await other.join('Phone on i1');
      for (const page of [phonePage, other.page]) {
        await page.getByRole('button', { name: 'Open the shared board' }).click();
        await page.getByRole('radio', { name: /WebSocket/ }).check();
      }
      const addNote = async (page: Page, text: string) => {
        const form = page.getByRole('form', { name: 'Add a note' });
        await form.getByLabel('Note text').fill(text);
        await form.getByRole('button', { name: 'Add note' }).click();
      };
      await addNote(other.page, 'written on i1');
      await expect(phonePage.getByRole('list', { name: 'Notes' })).toContainText('written on i1', {
        timeout: 15_000,
      });
      await addNote(phonePage, 'written on i2');
      await expect(other.page.getByRole('list', { name: 'Notes' })).toContainText('written on i2', {
        timeout: 15_000,
      });
      expect([...boardUpstreams], "the board's HTTP routes: the room's instance").toEqual([
        `127.0.0.1:${i1}`,
      ]);
      await phonePage.screenshot({
        path: join(artifactsDir, 'cluster-room-typed-code-i2.png'),
        fullPage: true,
      });
    } finally {
      for (const cleanup of cleanups) await cleanup();
      await presenterContext.close();
      await phoneContext.close();
    }
  });

  test("through nginx, every lane's requests and bytes agree with Chromium's network log within 2 %", async ({
    browser,
    cluster,
  }) => {
    // Eight races one after the other (wire-agreement.spec.ts runs them as eight tests).
    test.setTimeout(300_000);
    const context = await contextOn(browser, cluster.url, cluster.instancePorts[0] as number);
    try {
      const race = new RacePage(await context.newPage());
      for (const lane of LANE_IDS) await test.step(lane, () => expectWireAgreement(race, lane));
    } finally {
      await context.close();
    }
  });

  test("socket.io's long-polling holds its session without a cookie (by address)", async ({ cluster }) => {
    expect(await pollTwice(cluster.url)).toMatchObject({ second: 200 });
    expect(await connectWith(cluster.url, ['polling'])).toBe('connected');
    expect(await connectWith(cluster.url, ['websocket'])).toBe('connected');
  });
});

// Its own cluster, started in the test (the sticky one above is the worker's).
base(
  'round-robin (--no-sticky): long-polling fails with "Session ID unknown"; the websocket transport works',
  async () => {
    base.setTimeout(120_000);
    const cluster = await startCluster({ instances: 2, sticky: false });
    try {
      // Round-robin: the handshake on one instance, the next request on the other, which never heard of it.
      const { second, body } = await pollTwice(cluster.url);
      expect(second).toBe(400);
      expect(JSON.parse(body)).toEqual({ code: 1, message: 'Session ID unknown' });
      expect(await connectWith(cluster.url, ['polling'])).toMatch(/xhr (poll|post) error/);
      // One connection, one instance, whatever the balancer does with the next request.
      expect(await connectWith(cluster.url, ['websocket'])).toBe('connected');
    } finally {
      await cluster.close();
    }
  },
);
