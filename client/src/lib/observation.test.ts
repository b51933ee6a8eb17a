import { API_PATHS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { sampleServerClock } from '../clock/sample.ts';
import { fetchPublicSettings } from '../transports/async-task.ts';
import { fetchWireReport } from './wire-report.ts';

/** A fetch that records each call's init and answers `body` as JSON. */
function recording(body: unknown) {
  const inits: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    inits.push({ url: String(input), init });
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return { inits, fetchImpl };
}

describe("the lab's own observation requests", () => {
  it('go without cookies and uncached: no network link shapes the clock pings, the wire count or the settings', async () => {
    const clock = recording({ receivedAt: 10, sentAt: 11 });
    await sampleServerClock(clock.fetchImpl, () => 0);
    const wire = recording({ runId: 'run-00000001', lanes: {}, openStreams: 0 });
    await fetchWireReport('run-00000001', wire.fetchImpl);
    const settings = recording({
      protocolVersion: 1,
      syncTimeoutMs: 30_000,
      pollIntervalMs: 1_000,
      maxLongPollWaitMs: 30_000,
      receiver: { port: 1, webhookUrl: 'http://127.0.0.1:1/webhooks' },
      webhookScheduleScale: 1,
    });
    await fetchPublicSettings(settings.fetchImpl);
    const calls = [...clock.inits, ...wire.inits, ...settings.inits];
    expect(calls.map((c) => c.url)).toEqual([
      API_PATHS.time,
      API_PATHS.wire('run-00000001'),
      API_PATHS.settings,
    ]);
    for (const { init } of calls) expect(init).toMatchObject({ credentials: 'omit', cache: 'no-store' });
  });
});
