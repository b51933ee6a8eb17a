import {
  API_PATHS,
  ErrorEnvelope,
  type LabTag,
  labTagQuery,
  StreamTokenResponse,
} from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAM_TOKENS_PER_CLIENT } from '../src/access/streamTokens.ts';
import { createAsync } from './faultsLanes.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { newRunId } from './wireHarness.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

async function token(ttlMs: number) {
  const res = await fetch(`${srv.baseUrl}${API_PATHS.streamTokens}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ttlMs }),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

/** Reads a stream to its end: how long it lasted and its text. */
async function readStream(url: string) {
  const opened = performance.now();
  const res = await fetch(url);
  const text = res.status === 200 ? await res.text() : JSON.stringify(await res.json());
  return { status: res.status, text, lastedMs: performance.now() - opened, endedAt: performance.now() };
}

describe('stream tokens', () => {
  it('a stream opened with a token ends when it expires; the same token is then refused 401; a new one resumes after the seq', async () => {
    const tag: LabTag = { lane: 'sse', runId: newRunId() };
    const askedAt = performance.now();
    const issued = await token(1_000);
    expect(issued.status).toBe(201);
    const first = StreamTokenResponse.parse(issued.json);
    const { task } = await createAsync(srv.baseUrl, tag, { durationMs: 3_000, steps: 2 });
    const url = (t: string, after = 0) =>
      `${srv.baseUrl}${API_PATHS.stream(task.id)}?${new URLSearchParams({ ...labTagQuery(tag), token: t, after: String(after) })}`;
    const cut = await readStream(url(first.token));
    expect(cut.status).toBe(200);
    // Ended at the token's expiry, a second after it was issued, not at the task's end (3 s).
    expect(cut.endedAt - askedAt).toBeGreaterThanOrEqual(950);
    expect(cut.endedAt - askedAt).toBeLessThan(2_500);
    expect(cut.text).not.toMatch(/"type":"succeeded"/);
    const seqs = [...cut.text.matchAll(/^id:(\d+)$/gm)].map((m) => Number(m[1]));
    const refused = await readStream(url(first.token, seqs.at(-1)));
    expect(refused.status).toBe(401);
    expect(ErrorEnvelope.parse(JSON.parse(refused.text)).error.code).toBe('TOKEN_INVALID');
    const fresh = StreamTokenResponse.parse((await token(10_000)).json);
    const rest = await readStream(url(fresh.token, seqs.at(-1)));
    expect(rest.text).toMatch(/"type":"succeeded"/);
    const after = [...rest.text.matchAll(/^id:(\d+)$/gm)].map((m) => Number(m[1]));
    expect([...seqs, ...after]).toEqual(Array.from({ length: 5 }, (_, k) => k + 1));
  });

  it('refuses a malformed request (400) and a made-up token (401), and bounds the live tokens per client (429)', async () => {
    expect((await token(10)).status).toBe(400);
    const { task } = await createAsync(
      srv.baseUrl,
      { lane: 'sse', runId: newRunId() },
      { durationMs: 100, steps: 1 },
    );
    const madeUp = await fetch(`${srv.baseUrl}${API_PATHS.stream(task.id)}?token=${'a'.repeat(32)}`);
    expect(madeUp.status).toBe(401);
    const statuses: number[] = [];
    for (let k = 0; k < MAX_STREAM_TOKENS_PER_CLIENT + 1; k++) statuses.push((await token(60_000)).status);
    expect(statuses.at(-1)).toBe(429);
  });
});
