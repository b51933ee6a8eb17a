import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkResponse, NETWORK_LINK_COOKIE, NETWORK_PATHS, type SetLinkRequest } from '@transport-lab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINK_IDLE_MS } from '../src/network/links.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { BOT, expectLimited, PHONE } from './limitsHarness.ts';

/**
 * Issue 11, item 2: network-condition links per client (docs/security.md, "Limits"). One address
 * past its links is refused a new one (`429`), and its page loads and made-up cookies make none,
 * while another address chooses its conditions meanwhile: so it cannot push anyone's link out of
 * the server's bounded table.
 */
let server: TestServer;
beforeAll(async () => {
  const page = mkdtempSync(join(tmpdir(), 'transport-lab-page-'));
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>page</title>');
  server = await startTestServer({ STATIC_DIR: page, MAX_NETWORK_LINKS_PER_CLIENT: '3' });
});
afterAll(async () => {
  await server.close();
});

const MADE_UP = 'AAAAAAAAAAAAAAAAAAAAAA'; // a well-formed link id this server never made

function choose(headers: Record<string, string>, choice: SetLinkRequest, cookie?: string): Promise<Response> {
  return fetch(`${server.baseUrl}${NETWORK_PATHS.link}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(choice),
  });
}

/** The `Cookie` value a choice's answer sets. */
function cookieOf(res: Response): string {
  const pair = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(pair.startsWith(`${NETWORK_LINK_COOKIE}=`)).toBe(true);
  return pair;
}

async function linkOf(headers: Record<string, string>, cookie: string): Promise<LinkResponse> {
  const res = await fetch(`${server.baseUrl}${NETWORK_PATHS.link}`, { headers: { ...headers, cookie } });
  expect(res.status).toBe(200);
  return LinkResponse.parse(await res.json());
}

const pageLoad = (headers: Record<string, string>) =>
  fetch(`${server.baseUrl}/`, { headers: { ...headers, accept: 'text/html' } });

describe('network links per client', () => {
  it('refuses one address a link past its share, and makes none for its page loads or made-up cookies, while another chooses', async () => {
    const held: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await choose(BOT, { preset: '3g' });
      expect(res.status).toBe(200);
      held.push(cookieOf(res));
    }
    const details = await expectLimited(await choose(BOT, { preset: 'fast-4g' }), 'network-links');
    expect(details.limit).toBe(3);
    // When its least recently used link would be forgotten unused.
    expect(details.retryAfterS).toBeGreaterThan(LINK_IDLE_MS / 1_000 - 60);
    expect(details.retryAfterS).toBeLessThanOrEqual(LINK_IDLE_MS / 1_000);

    // Neither a page load nor a cookie the server does not know makes one for it now...
    expect((await pageLoad(BOT)).headers.get('set-cookie')).toBeNull();
    expect(await linkOf(BOT, `${NETWORK_LINK_COOKIE}=${MADE_UP}`)).toMatchObject({ linkId: null });

    // ...while another address chooses, and its page load gets a link.
    const phone = await choose(PHONE, { preset: 'fast-4g' });
    expect(phone.status).toBe(200);
    expect(await linkOf(PHONE, cookieOf(phone))).toMatchObject({ preset: 'fast-4g' });
    expect((await pageLoad(PHONE)).headers.get('set-cookie')).toMatch(`${NETWORK_LINK_COOKIE}=`);
    expect(await linkOf(PHONE, `${NETWORK_LINK_COOKIE}=${MADE_UP}`)).toMatchObject({ linkId: MADE_UP });

    // A browser of the bound address choosing again replaces its link: that needs no new place.
    const replaced = held[0] as string;
    const again = await choose(BOT, { preset: 'fast-4g' }, replaced);
    expect(again.status).toBe(200);
    expect(await linkOf(BOT, cookieOf(again))).toMatchObject({ preset: 'fast-4g' });
    expect(await linkOf(BOT, replaced)).toMatchObject({ linkId: null });
    await expectLimited(await choose(BOT, { preset: '3g' }), 'network-links');
  });
});
