import { join } from 'node:path';
import { NETWORK_LINK_COOKIE, NETWORK_PATHS } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppHandle, createServer, listen } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { tempDataDir } from './harness.ts';

/** Each log line the server wrote, parsed. */
const lines: string[] = [];
const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('request logs carry no credential', () => {
  let app: AppHandle;
  let baseUrl: string;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    const config = loadConfig({
      DATA_DIR: dataDir,
      STATIC_DIR: join(dataDir, 'no-client'),
      LOG_LEVEL: 'info',
      // Lanes and rights under test, not admission: the event-loop guard out of the way (harness.ts).
      MAX_EVENT_LOOP_DELAY_MS: '60000',
    });
    app = await createServer(config, createLogger('info', { write: (line: string) => lines.push(line) }));
    const { port } = await listen(app, { port: 0, receiverPort: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  it('redacts the lab-link cookie (sent and set) and Authorization, and still logs the requests', async () => {
    const chosen = await fetch(`${baseUrl}${NETWORK_PATHS.link}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ preset: 'none' }),
    });
    expect(chosen.status).toBe(200);
    const setCookie = chosen.headers.get('set-cookie') ?? '';
    const linkId = new RegExp(`${NETWORK_LINK_COOKIE}=([^;]+)`).exec(setCookie)?.[1];
    expect(linkId).toMatch(/.{8,}/);
    const token = 'operator-token-that-must-not-be-logged-0123456789';
    const read = await fetch(`${baseUrl}${NETWORK_PATHS.link}`, {
      headers: { cookie: `${NETWORK_LINK_COOKIE}=${linkId}`, authorization: `Bearer ${token}` },
    });
    expect(read.status).toBe(200);
    await read.json();

    const requests = logged().filter((entry) => {
      const req = entry.req as { url?: string } | undefined;
      return req?.url === NETWORK_PATHS.link;
    });
    // Both requests were logged, with their headers: what was taken out is the credentials alone.
    expect(requests.map((entry) => (entry.req as { method: string }).method)).toEqual(['PUT', 'GET']);
    const [put, get] = requests as [Record<string, unknown>, Record<string, unknown>];
    expect((put.res as { headers: Record<string, unknown> }).headers['set-cookie']).toBe('[redacted]');
    expect((get.req as { headers: Record<string, unknown> }).headers).toMatchObject({
      cookie: '[redacted]',
      authorization: '[redacted]',
      host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const everything = lines.join('\n');
    expect(everything).not.toContain(linkId);
    expect(everything).not.toContain(token);
  });
});
