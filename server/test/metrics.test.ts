import { readFileSync } from 'node:fs';
import { API_PATHS, ROOM_NAMESPACE, SOCKET_EVENTS, type TaskSpec } from '@transport-lab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, emitAck, startTestServer, type TestServer } from './harness.ts';
import { createTask } from './httpClients.ts';
import { RoomPeer } from './roomsHarness.ts';
import { deliveriesUntil, nonePending } from './webhooksHarness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(env: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const started = await startTestServer(env);
  cleanups.push(() => started.close());
  return started;
}

async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}${API_PATHS.metrics}`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Every metric name a scrape exports, with a histogram's `_bucket`, `_sum` and `_count` series. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!typed?.[1]) continue;
    names.add(typed[1]);
    if (typed[2] === 'histogram' || typed[2] === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${typed[1]}${suffix}`);
  }
  return names;
}

/** PromQL's words that are not metric names: keywords, and aggregation modifiers. */
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/**
 * The metric names a PromQL query reads: what is left once label matchers (`{…}`), grouping
 * clauses (`by (…)`), ranges (`[5m]`), strings and numbers are taken out, and function calls
 * (a word before `(`) are skipped.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const next = bare.slice((match.index ?? 0) + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word) || /^\d/.test(word)) continue;
    names.push(word);
  }
  return names;
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

describe('metricNamesIn', () => {
  it('finds the metric names of a query, and none of its functions, labels or modifiers', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, route) (rate(transport_lab_http_request_duration_seconds_bucket{route!="x"}[$__rate_interval])))',
      ),
    ).toEqual(['transport_lab_http_request_duration_seconds_bucket']);
    expect(metricNamesIn('transport_lab_rooms / on (instance) group_left up')).toEqual([
      'transport_lab_rooms',
      'up',
    ]);
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('reads only metrics the server exports: every query names at least one, each in a scrape', async () => {
    const { baseUrl } = await server();
    const exported = exportedNames(await scrape(baseUrl));
    const dashboard = JSON.parse(
      readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
    );
    const queries = (dashboard.panels as Panel[]).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
    );
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const { panel, expr } of queries) {
      const names = metricNamesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${panel}: ${name} is not exported`).toBe(true);
    }
  });
});

describe('GET /metrics', () => {
  it('counts sockets by namespace, rooms and their participants', async () => {
    const { baseUrl } = await server();
    const lane = await connectClient(baseUrl);
    cleanups.push(() => void lane.close());
    const presenter = await RoomPeer.connect(baseUrl);
    cleanups.push(() => presenter.close());
    await presenter.create();

    const text = await scrape(baseUrl);
    expect(sample(text, 'transport_lab_sockets{namespace="/"}')).toBe(1);
    expect(sample(text, `transport_lab_sockets{namespace="${ROOM_NAMESPACE}"}`)).toBe(1);
    expect(sample(text, 'transport_lab_sockets{namespace="/board"}')).toBe(0);
    expect(sample(text, 'transport_lab_rooms')).toBe(1);
    expect(sample(text, 'transport_lab_room_participants{role="presenter"}')).toBe(1);
    expect(sample(text, 'transport_lab_room_participants{role="audience"}')).toBe(0);
  });

  it('counts refusals by reason over HTTP and socket acks, and webhook attempts by outcome as the delivery log has them', async () => {
    // The event-loop guard off: on a loaded machine it could refuse first, for another reason.
    const { app, baseUrl } = await server({ MAX_RUNNING_TASKS: '1', MAX_EVENT_LOOP_DELAY_MS: '60000' });
    const webhookUrl = app.receiver.urls()?.webhookUrl;
    // Long enough to be running through both refusals on a loaded machine (as overload.test.ts's).
    const spec: TaskSpec = { durationMs: 3_000, steps: 2 };
    const first = await createTask(baseUrl, { spec, webhook: { url: webhookUrl } });
    expect(first.res.status).toBe(202);

    const refused = await fetch(`${baseUrl}${API_PATHS.tasks}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ spec }),
    });
    expect(refused.status).toBe(503);
    const socket = await connectClient(baseUrl);
    cleanups.push(() => void socket.close());
    const ack = await emitAck(socket, SOCKET_EVENTS.start, spec);
    expect(ack.ok).toBe(false);

    const log = await deliveriesUntil(
      baseUrl,
      first.json.task.id,
      (l) => l.deliveries.length === spec.steps + 3 && nonePending(l),
      'every event delivered',
    );
    const delivered = log.deliveries.flatMap((d) => d.attempts).filter((a) => a.outcome === 'delivered');
    expect(delivered.length).toBe(spec.steps + 3); // queued, started, each step, succeeded

    const text = await scrape(baseUrl);
    expect(sample(text, 'transport_lab_refusals_total{code="UNAVAILABLE",reason="running-tasks"}')).toBe(2);
    expect(sample(text, 'transport_lab_webhook_attempts_total{outcome="delivered"}')).toBe(delivered.length);
    expect(sample(text, 'transport_lab_webhook_attempts_total{outcome="retry"}')).toBe(0);
    expect(sample(text, 'transport_lab_webhook_queue_depth')).toBe(0);
    expect(sample(text, 'transport_lab_webhook_attempts_in_flight')).toBe(0);
  });
});
