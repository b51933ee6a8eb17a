import { type LinkResponse, NETWORK_PATHS, NETWORK_PRESETS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';
import { createNetworkStore, describeLink, EMPTY_CUSTOM, parseCustom } from './network-store.ts';

function fakeServer(answer: (init: RequestInit | undefined) => Response) {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return answer(init);
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('parseCustom', () => {
  it('reads a whole custom profile, drop-out chance in percent a second', () => {
    const parsed = parseCustom({
      latencyMs: '200',
      jitterMs: '20',
      downKbps: '256',
      upKbps: '',
      dropoutChancePercent: '5',
      stallMs: '1500',
    });
    expect(parsed).toEqual({
      ok: true,
      profile: {
        latencyMs: 200,
        jitterMs: 20,
        downKbps: 256,
        dropout: { chancePerSecond: 0.05, stallMs: 1500 },
      },
    });
  });

  it('names the field at fault, in words', () => {
    const parsed = parseCustom({
      ...EMPTY_CUSTOM,
      latencyMs: '',
      downKbps: 'fast',
      dropoutChancePercent: '10',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.latencyMs).toBe('Required.');
    expect(parsed.errors.downKbps).toBe('Not a number.');
    expect(parsed.errors.stallMs).toBe('Required.');
  });

  it('refuses what the shared schema refuses (negative latency, a chance over 100 %)', () => {
    const parsed = parseCustom({
      ...EMPTY_CUSTOM,
      latencyMs: '-1',
      dropoutChancePercent: '150',
      stallMs: '10',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.latencyMs).toBeDefined();
    expect(parsed.errors.dropoutChancePercent).toBeDefined();
  });
});

describe('network store', () => {
  it('PUTs a preset with the cookie-bearing credentials and keeps the link the server answers', async () => {
    const link: LinkResponse = {
      linkId: 'abcdefghijklmnop',
      preset: '3g',
      profile: NETWORK_PRESETS['3g'].profile,
    };
    const server = fakeServer(() => json(link));
    const store = createNetworkStore({ fetch: server.fetch });
    await store.getState().choose('3g');
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]?.url).toBe(NETWORK_PATHS.link);
    expect(server.calls[0]?.init?.method).toBe('PUT');
    expect(server.calls[0]?.init?.credentials).toBe('same-origin');
    expect(JSON.parse(String(server.calls[0]?.init?.body))).toEqual({ preset: '3g' });
    expect(store.getState().current).toEqual(link);
    expect(store.getState().status).toBe('idle');
    expect(describeLink(store.getState().current)).toContain('300 ms packet round trip');
  });

  it('choosing Custom sends nothing until applied; a bad profile is never sent', async () => {
    const server = fakeServer(() =>
      json({ linkId: null, preset: 'none', profile: { latencyMs: 0, jitterMs: 0 } }),
    );
    const store = createNetworkStore({ fetch: server.fetch });
    await store.getState().choose('custom');
    store.getState().setCustomField('latencyMs', 'x');
    await store.getState().applyCustom();
    expect(server.calls).toHaveLength(0);
    store.getState().setCustomField('latencyMs', '150');
    await store.getState().applyCustom();
    expect(JSON.parse(String(server.calls[0]?.init?.body))).toEqual({
      custom: { latencyMs: 150, jitterMs: 0 },
    });
  });

  it('applies a whole custom profile and shows it in the fields (a scenario sets it this way)', async () => {
    const profile = {
      latencyMs: 30,
      jitterMs: 10,
      downKbps: 500,
      dropout: { chancePerSecond: 0.2, stallMs: 1_500 },
    };
    const server = fakeServer(() => json({ linkId: 'abcdefghijklmnop', preset: null, profile }));
    const store = createNetworkStore({ fetch: server.fetch });
    await store.getState().applyProfile(profile);
    expect(JSON.parse(String(server.calls[0]?.init?.body))).toEqual({ custom: profile });
    expect(store.getState().choice).toBe('custom');
    expect(store.getState().custom).toEqual({
      latencyMs: '30',
      jitterMs: '10',
      downKbps: '500',
      upKbps: '',
      dropoutChancePercent: '20',
      stallMs: '1500',
    });
    expect(parseCustom(store.getState().custom)).toEqual({ ok: true, profile });
  });

  it('says so when the server has no network shaping (404), and shows the error envelope otherwise', async () => {
    const missing = createNetworkStore({
      fetch: fakeServer(() => json({ error: { code: 'NOT_FOUND', message: 'no' } }, 404)).fetch,
    });
    await missing.getState().load();
    expect(missing.getState().status).toBe('unsupported');
    const refusing = createNetworkStore({
      fetch: fakeServer(() =>
        json({ error: { code: 'VALIDATION_FAILED', message: 'latencyMs: too big' } }, 400),
      ).fetch,
    });
    await refusing.getState().choose('fast-4g');
    expect(refusing.getState().status).toBe('error');
    expect(refusing.getState().error).toBe('latencyMs: too big');
  });
});
