// Issue 15, items 2 and 3: one correlation id per task, from the page's button to the receiver, and
// the server's own view beside the race.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  API_PATHS,
  LANE_IDS,
  type LaneId,
  PublicSettings,
  parseTraceparent,
  RaceExport,
  TaskResponse,
  TRACEPARENT_HEADER,
  WebhookPayload,
} from '@transport-lab/shared';
import { ServerView } from '@transport-lab/shared/server-view';
import type { RacePage } from '../fixtures/racePage.ts';
import { RoomPresenterPage } from '../fixtures/roomPage.ts';
import { artifactsDir } from '../fixtures/server.ts';
import { expect, test } from '../fixtures/test.ts';

// The test receiver below listens on loopback: the operator's permission for it (an IP literal
// permits loopback, server/src/webhooks/ssrf.ts).
test.use({ viewport: { width: 1280, height: 900 }, serverEnv: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
test.setTimeout(90_000);

interface Received {
  headers: IncomingHttpHeaders;
  payload: WebhookPayload;
}

/**
 * A test receiver standing for "your backend": it keeps every delivery it receives, headers and all,
 * and hands it on unchanged to the built-in receiver (same headers, same body, so its signature still
 * verifies), whose answer it returns: the webhook lane then relays to the page as it always does.
 */
async function startTestReceiver(
  forwardTo: string,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    received.push({ headers: req.headers, payload: WebhookPayload.parse(JSON.parse(body.toString('utf8'))) });
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) =>
        typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)
          ? [[name, value]]
          : [],
      ),
    );
    const answer = await fetch(forwardTo, { method: 'POST', headers, body });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks`, received, server };
}

/** Only these lanes are selected. */
async function selectOnly(racePage: RacePage, lanes: readonly LaneId[]): Promise<void> {
  for (const lane of LANE_IDS) {
    if (lanes.includes(lane)) await racePage.laneToggle(lane).check();
    else await racePage.laneToggle(lane).uncheck();
  }
}

test('a webhook delivery at a test receiver carries a valid traceparent of the trace id the page shows, and every lane’s task is in its page’s trace', async ({
  racePage,
  page,
  baseURL,
}) => {
  const settings = PublicSettings.parse(await (await fetch(`${baseURL}${API_PATHS.settings}`)).json());
  const receiver = await startTestReceiver(settings.receiver.webhookUrl);
  try {
    // The page is told "your backend" is the test receiver (its relay stays the built-in receiver's).
    await page.route(`**${API_PATHS.settings}`, async (route) => {
      const answer = await route.fetch();
      const json = PublicSettings.parse(await answer.json());
      await route.fulfill({
        response: answer,
        json: { ...json, receiver: { ...json.receiver, webhookUrl: receiver.url } },
      });
    });
    await racePage.goto();
    await racePage.configure({ durationMs: 600, steps: 3, lanes: [] });
    await selectOnly(racePage, LANE_IDS);
    await racePage.startButton.click();
    for (const lane of LANE_IDS)
      await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });

    // The trace id the page shows for the webhook lane's task, on the timeline.
    const shown = ((await page.getByTestId('trace-id-webhook').textContent()) ?? '').trim();
    expect(shown).toMatch(/^[0-9a-f]{32}$/);
    // Every event of the task reached the test receiver (queued, started, 3 steps, succeeded)...
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(6);
    const taskIds = new Set(receiver.received.map((r) => r.payload.data.taskId));
    expect(taskIds.size).toBe(1);
    // ...each with a valid traceparent of that trace, and a span of its own per attempt.
    const parents = receiver.received.map((r) => {
      const traceparent = r.headers[TRACEPARENT_HEADER];
      expect(traceparent, 'a traceparent header').toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const parsed = parseTraceparent(traceparent);
      expect(parsed?.traceId).toBe(shown);
      return parsed?.parentId;
    });
    expect(new Set(parents).size).toBe(parents.length);

    // Every lane: the trace id the page shows, exported, is the one the server keeps for its task.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    const file = join(artifactsDir, 'trace-race-export.json');
    await download.saveAs(file);
    const exported = RaceExport.parse(JSON.parse(await readFile(file, 'utf8')));
    const traces = new Set<string>();
    for (const lane of exported.lanes) {
      const onPage = ((await page.getByTestId(`trace-id-${lane.lane}`).textContent()) ?? '').trim();
      expect(lane.traceId, `${lane.lane}: exported`).toBe(onPage);
      const task = TaskResponse.parse(
        await (await fetch(`${baseURL}${API_PATHS.task(lane.taskId ?? '')}`)).json(),
      ).task;
      expect(task.traceId, `${lane.lane}: the server's`).toBe(onPage);
      traces.add(onPage);
    }
    expect(traces.size).toBe(LANE_IDS.length); // one trace per task
    expect(exported.lanes.find((l) => l.lane === 'webhook')?.taskId).toBe([...taskIds][0]);
    // The chart is drawn once in view (Timeline.tsx), which sets its height: in view first, tall
    // enough for all of it, then two frames for the drawing, then the picture.
    const timeline = page.getByTestId('timeline');
    await page.setViewportSize({ width: 1280, height: 1200 });
    await timeline.scrollIntoViewIfNeeded();
    await page.evaluate(
      () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
    );
    await timeline.screenshot({ path: join(artifactsDir, 'trace-timeline.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await timeline.screenshot({ path: join(artifactsDir, 'trace-timeline-phone.png') });
  } finally {
    await new Promise((resolve) => receiver.server.close(resolve));
  }
});

const RACED = ['request-response', 'sse', 'websocket', 'webhook'] as const satisfies readonly LaneId[];

test('the server’s own view counts the race: its lanes’ finished tasks grow by one each, as /metrics says', async ({
  racePage,
  page,
  baseURL,
}) => {
  await racePage.goto();
  // 3 s: the page asks every second while it runs, so at least two views are built during it.
  await racePage.configure({ durationMs: 3_000, steps: 5, lanes: [] });
  await selectOnly(racePage, RACED);
  // Nothing is asked of the server until the panel is opened.
  const panel = page.getByTestId('server-view');
  await expect(panel).toHaveCount(0);
  await page.getByRole('button', { name: 'Show the server’s own view' }).click();
  await expect(page.getByRole('button', { name: 'Hide the server’s own view' })).toHaveAttribute(
    'aria-expanded',
    'true',
  );
  const succeeded = panel.getByTestId('server-view-succeeded');
  await expect(succeeded).toHaveText(/^\d+$/);
  const before = Number(await succeeded.textContent());
  const laneCount = async (lane: LaneId) => {
    const row = panel.getByTestId(`server-view-lane-${lane}`);
    return (await row.count()) === 0 ? 0 : Number(await row.getByTestId('succeeded').textContent());
  };
  const beforeByLane = Object.fromEntries(await Promise.all(RACED.map(async (l) => [l, await laneCount(l)])));

  await racePage.startButton.click();
  // Live while the race runs: the server counts its tasks running.
  await expect(panel.getByTestId('server-view-running')).not.toHaveText('0', { timeout: 10_000 });
  for (const lane of RACED)
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });

  // Once the race has ended, a view built after its end: every lane's task counted, none running.
  await expect(succeeded).toHaveText(String(before + RACED.length), { timeout: 10_000 });
  await expect(panel.getByTestId('server-view-running')).toHaveText('0');
  for (const lane of RACED) {
    const row = panel.getByTestId(`server-view-lane-${lane}`);
    await expect(row.getByTestId('succeeded')).toHaveText(String((beforeByLane[lane] ?? 0) + 1));
  }
  // The same figures as the server's JSON view and its Prometheus scrape.
  const view = ServerView.parse(await (await fetch(`${baseURL}${API_PATHS.serverView}`)).json());
  expect(view.tasks.succeeded).toBe(before + RACED.length);
  const scrape = await (await fetch(`${baseURL}${API_PATHS.metrics}`)).text();
  const sseLine = scrape
    .split('\n')
    .find((l) => l.startsWith('transport_lab_tasks_ended_total{lane="sse",outcome="succeeded"}'));
  expect(Number(sseLine?.split(' ').at(-1))).toBe(await laneCount('sse'));

  await panel.screenshot({ path: join(artifactsDir, 'server-view-desktop.png') });
  // On a phone: the panel fits the width (its table scrolls inside itself, never the page).
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await panel.screenshot({ path: join(artifactsDir, 'server-view-phone.png') });
});

test('the presenter’s screen shows the server’s view, read from the same figures', async ({
  page,
  baseURL,
}) => {
  const presenter = new RoomPresenterPage(page);
  await presenter.goto('durationMs=1000&steps=5&lanes=sse,websocket');
  await presenter.create();
  const panel = page.getByTestId('server-view');
  await expect(panel.getByTestId('server-view-succeeded')).toHaveText(/^\d+$/);
  const view = ServerView.parse(await (await fetch(`${baseURL}${API_PATHS.serverView}`)).json());
  await expect(panel.getByTestId('server-view-succeeded')).toHaveText(String(view.tasks.succeeded));
  await presenter.projectorToggle.click();
  await panel.screenshot({ path: join(artifactsDir, 'server-view-presenter-projector.png') });
});
