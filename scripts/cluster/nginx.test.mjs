import { describe, expect, it } from 'vitest';
import { instanceName, nginxConfig } from './nginx.mjs';

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
    expect(config).toContain('map $http_cookie $lab_upstream {');
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
      'pid /tmp/lab-nginx/nginx.pid;',
      'client_body_temp_path /tmp/lab-nginx/tmp/body;',
    ]) {
      expect(config).toContain(line);
    }
    // Started by root, its workers run as the given user; otherwise no user directive at all.
    expect(config).not.toMatch(/^user /m);
    expect(nginxConfig({ ...base, sticky: true, runAsRoot: true, user: 'lab' })).toMatch(/^user lab;$/m);
  });
});
