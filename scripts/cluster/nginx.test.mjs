import { describe, expect, it } from 'vitest';
import { ROOM_CODE_ALPHABET as SHARED_ALPHABET } from '../../shared/src/protocol/room.ts';
import { instanceName, nginxConfig, ROOM_CODE_ALPHABET, roomSymbols } from './nginx.mjs';

const instances = [0, 1, 2].map((index) => ({ name: instanceName(index), port: 4001 + index }));
const base = { listen: { host: '127.0.0.1', port: 4000 }, instances, prefix: '/tmp/lab-nginx' };

/** The lines of one `upstream name { … }` block, trimmed. */
function upstream(config, name) {
  const block = new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(config);
  if (!block) throw new Error(`no upstream ${name}`);
  return block[1]
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

describe('nginxConfig', () => {
  it('sticky: routes each instance-prefixed lab-link cookie to its instance, the others as backups', () => {
    const config = nginxConfig({ ...base, sticky: true });
    expect(config).toContain('map $http_cookie $lab_cookie_upstream {');
    for (const { name } of instances) expect(config).toContain(`"~(^|;)\\s*lab-link=${name}-" lab_${name};`);
    expect(upstream(config, 'lab_i2')).toEqual([
      'server 127.0.0.1:4002 max_fails=1 fail_timeout=5s;',
      'server 127.0.0.1:4001 backup;',
      'server 127.0.0.1:4003 backup;',
    ]);
    // Without the cookie: one instance per address and browser, the same for every request.
    expect(upstream(config, 'lab_any')[0]).toBe('hash $remote_addr$http_user_agent consistent;');
  });

  it('the cookie regex matches the cookie alone or among others, never a cookie whose name ends in lab-link', () => {
    const pattern = /(^|;)\s*lab-link=i1-/;
    expect(pattern.test('lab-link=i1-abc')).toBe(true);
    expect(pattern.test('a=b; lab-link=i1-abc')).toBe(true);
    expect(pattern.test('a=b;lab-link=i1-abc')).toBe(true);
    expect(pattern.test('mylab-link=i1-abc')).toBe(false);
    expect(pattern.test('lab-link=i2-abc')).toBe(false);
    // The generated line holds this very pattern (nginx's regexes are PCRE).
    expect(nginxConfig({ ...base, sticky: true })).toContain(`"~${pattern.source}"`);
  });

  it("routes a page opened at ?room=CODE by the code's first symbol to the instance whose codes start so", () => {
    expect(ROOM_CODE_ALPHABET).toBe(SHARED_ALPHABET);
    const config = nginxConfig({ ...base, sticky: true });
    const lines = instances.map((instance, index) => {
      const line = config
        .split('\n')
        .find((l) => l.trim().endsWith(` lab_${instance.name};`) && l.includes('"~^['));
      const chars = /\[([^\]]+)\]/.exec(line ?? '')?.[1] ?? '';
      return { index, chars };
    });
    // Every symbol a code may start with, in either case, belongs to exactly one instance: the one
    // whose ROOM_CODE_SHARD (server/src/rooms/secrets.ts: place modulo N) draws it.
    for (const [place, symbol] of [...ROOM_CODE_ALPHABET].entries()) {
      for (const typed of new Set([symbol, symbol.toLowerCase()])) {
        const owners = lines.filter(({ chars }) => chars.includes(typed)).map(({ index }) => index);
        expect(owners, `${typed}`).toEqual([place % instances.length]);
      }
    }
    expect(roomSymbols(1, 3)).toContain('IiLl'); // 1 is the second symbol; I and L read as 1
    // A room's link wins over the board's path, which wins over the cookie; with neither, the cookie
    // decides.
    expect(config).toContain('"" $lab_board_upstream;');
    expect(config).toContain('default $lab_room_upstream;');
    expect(config).toContain('default $lab_cookie_upstream;');
  });

  it("routes a board's routes (/api/boards/CODE…) by the code's first symbol, as a room's link", () => {
    const config = nginxConfig({ ...base, sticky: true });
    for (const [index, instance] of instances.entries()) {
      expect(config).toContain(
        `"~^/api/boards/[${roomSymbols(index, instances.length)}]" lab_${instance.name};`,
      );
    }
    expect(nginxConfig({ ...base, sticky: false })).not.toContain('~^/api/boards/');
  });

  it('--no-sticky: round-robin over every instance, the cookie ignored', () => {
    const config = nginxConfig({ ...base, sticky: false });
    expect(config).not.toMatch(/lab-link=/);
    expect(config).not.toMatch(/\bhash\b/);
    expect(upstream(config, 'lab_any')).toEqual(
      instances.map((i) => `server 127.0.0.1:${i.port} max_fails=1 fail_timeout=5s;`),
    );
  });

  it('proxies websocket upgrades, streams unbuffered, keeps its files under its prefix', () => {
    const config = nginxConfig({ ...base, sticky: true });
    for (const line of [
      'listen 127.0.0.1:4000;',
      'proxy_http_version 1.1;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header Connection $connection_upgrade;',
      'proxy_buffering off;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      // The browser's own request bytes, for the instance's wire count (server/src/observability/proxiedBytes.ts).
      'proxy_set_header X-Lab-Client-Request-Bytes $request_length;',
      // Which instance answered, but not on a websocket's 101 (whose bytes the instance reports).
      'add_header X-Lab-Upstream $lab_upstream_header always;',
      "'' $upstream_addr;",
      'server_tokens off;',
      'pid /tmp/lab-nginx/nginx.pid;',
      'client_body_temp_path /tmp/lab-nginx/tmp/body;',
    ]) {
      expect(config).toContain(line);
    }
    // Started by root, its workers run as the given user; otherwise no user directive at all.
    // Bodies buffered whole, so that $request_length counts them (nginx's default: not turned off).
    expect(config).not.toContain('proxy_request_buffering');
    expect(config).not.toMatch(/^user /m);
    expect(nginxConfig({ ...base, sticky: true, runAsRoot: true, user: 'lab' })).toMatch(/^user lab;$/m);
  });
});
