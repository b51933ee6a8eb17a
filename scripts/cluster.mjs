// `npm run start:cluster -- --instances N`: Transport Lab as N instances on one Redis behind nginx
// (issue 14, item 3), in the foreground until SIGINT/SIGTERM, which stops all of it.
//
//   --instances N   instances (default 2), on consecutive ports PORT+1 … PORT+N, their built-in
//                   webhook receivers on PORT+N+1 … PORT+2N;
//   --port P        nginx's port (default PORT, else 3000); HOST (default 127.0.0.1) as `npm start`;
//   --no-sticky     round-robin instead of sticky routing: each request to the next instance. Shows
//                   what stickiness is for: socket.io's HTTP long-polling fails ("Session ID
//                   unknown"), its websocket-only transport does not (README, "Scaling out");
//   --no-build      skip the client build (the tests have built it).
//
// Redis: REDIS_URL, else the one at 127.0.0.1:6379, else Debian's redis-server started on a free port
// (scripts/cluster/redis.mjs). nginx: Debian's, installed with apt-get when missing
// (scripts/cluster/nginx.mjs), run as this user with its own prefix under DATA_DIR (default
// data/cluster), config generated there. Each instance is `npm start`'s supervisor (server/src/main.ts)
// with its own DATA_DIR (data/cluster/iK: its SQLite holds what is not on Redis yet), the shared
// REDIS_URL, REDIS_PREFIX and OPERATOR_TOKEN, NETWORK_LINK_PREFIX=iK- and ROOM_CODE_SHARD=K/N, which
// nginx routes by (a browser's link cookie; a room's link `?room=CODE`).
// When everything answers /healthz through nginx it prints `cluster ready: <url>`.
import './node-version.mjs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { currentUser, ensureNginx, instanceName, nginxConfig } from './cluster/nginx.mjs';
import { ensureRedis } from './cluster/redis.mjs';
import { ensureWorkspace, root, runPnpm } from './pnpm.mjs';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '2' },
    port: { type: 'string' },
    sticky: { type: 'boolean', default: true },
    build: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const count = Number(args.instances);
const port = Number(args.port ?? process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
if (!Number.isInteger(count) || count < 1 || count > 32) fail('--instances must be a whole number, 1–32.');
if (!Number.isInteger(port) || port < 1 || port + 2 * count > 65_535) fail(`--port ${port} leaves no room.`);
const dataDir = process.env.DATA_DIR ?? join(root, 'data', 'cluster');

function fail(message) {
  console.error(`transport-lab: ${message}`);
  process.exit(2);
}

const log = (line) => console.log(`[cluster] ${line}`);

/** Prefixes each line a child writes with its name, so that N servers' output stays readable. */
function prefixed(stream, name, out) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
  stream.on('end', () => rest && out.write(`[${name}] ${rest}\n`));
}

/** Resolves once GET url answers 200, polling every 100 ms; rejects after `timeoutMs`. */
async function waitForHealth(url, timeoutMs, alive) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!alive()) throw new Error(`${url}: its process exited`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

const children = []; // { name, process, required }
let stopping = false;
let redis;

const running = (child) => child.exitCode === null && child.signalCode === null;

/** Stops nginx first (no new requests), then the instances, then a Redis started here. A signal can
 *  come while the start is still under way: whatever was launched by then is stopped, and `launch`
 *  starts nothing more once stopping. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  for (const { process: child } of [...children].reverse()) {
    if (!running(child)) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await redis?.stop();
  rmSync(join(dataDir, 'nginx'), { recursive: true, force: true });
  process.exit(code);
}

// Each child runs in its own process group (detached), so that a terminal's Ctrl-C reaches it once,
// from here, in order (start.mjs explains the repeats); the first signal counts, repeats are copies.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stopAll(0));
process.on('exit', () => {
  for (const { process: child } of children) if (running(child)) child.kill('SIGTERM');
});

function launch(name, command, argv, options) {
  if (stopping) throw new Error(`not starting ${name}: stopping`);
  const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  prefixed(child.stdout, name, process.stdout);
  prefixed(child.stderr, name, process.stderr);
  children.push({ name, process: child });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    log(`${name} exited (${signal ?? `code ${code}`})`);
    // nginx, or every instance, gone: nothing is served any more.
    const instancesLeft = children.filter((c) => c.name !== 'nginx' && running(c.process)).length;
    if (name === 'nginx' || instancesLeft === 0) void stopAll(1);
  });
  return child;
}

try {
  const nginx = ensureNginx();
  const found = await ensureRedis();
  if (stopping) await found.stop(); // a signal came meanwhile: stopAll did not know this one
  redis = found;
  log(`Redis: ${redis.url} (${redis.source})`);
  if (args.build) {
    await ensureWorkspace();
    const built = await runPnpm(['--filter', '@transport-lab/client', 'run', 'build']);
    if (built !== 0) throw new Error('the client build failed (see above)');
  }

  const operatorToken = process.env.OPERATOR_TOKEN ?? randomBytes(32).toString('base64url');
  // The page is served by nginx's port, not the instance's: the instances' socket.io and receivers
  // (the webhook lane's relay) must let that origin in (server/src/access/origins.ts).
  const hostnames =
    host === '0.0.0.0'
      ? [
          '127.0.0.1',
          'localhost',
          ...Object.values(networkInterfaces()).flatMap((list) =>
            (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address),
          ),
        ]
      : [host, ...(host === '127.0.0.1' ? ['localhost'] : [])];
  const allowedOrigins = [
    ...hostnames.map((name) => `http://${name}:${port}`),
    ...(process.env.ALLOWED_ORIGINS ? [process.env.ALLOWED_ORIGINS] : []),
  ].join(',');
  const instances = Array.from({ length: count }, (_, index) => ({
    name: instanceName(index),
    port: port + 1 + index,
    receiverPort: port + 1 + count + index,
  }));
  for (const [index, instance] of instances.entries()) {
    const child = launch(instance.name, process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(root, 'server'),
      env: {
        // N servers' request logs on one terminal drown everything else; LOG_LEVEL=info brings them back.
        LOG_LEVEL: 'warn',
        ...process.env,
        HOST: host,
        PORT: String(instance.port),
        RECEIVER_PORT: String(instance.receiverPort),
        DATA_DIR: join(dataDir, instance.name),
        REDIS_URL: redis.url,
        NETWORK_LINK_PREFIX: `${instance.name}-`,
        ROOM_CODE_SHARD: `${index + 1}/${count}`,
        OPERATOR_TOKEN: operatorToken,
        ALLOWED_ORIGINS: allowedOrigins,
      },
    });
    instance.alive = () => running(child);
  }
  await Promise.all(
    instances.map((instance) =>
      waitForHealth(`http://127.0.0.1:${instance.port}/healthz`, 120_000, instance.alive),
    ),
  );

  const prefix = join(dataDir, 'nginx');
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(prefix, 'tmp', dir), { recursive: true });
  }
  const config = join(prefix, 'nginx.conf');
  writeFileSync(
    config,
    nginxConfig({
      listen: { host, port },
      instances,
      sticky: args.sticky,
      prefix,
      runAsRoot: process.getuid?.() === 0,
      user: currentUser(),
    }),
  );
  const balancer = launch(
    'nginx',
    nginx,
    ['-p', prefix, '-c', config, '-e', 'stderr', '-g', 'daemon off;'],
    {},
  );
  const publicHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${publicHost}:${port}`;
  await waitForHealth(`${url}/healthz`, 10_000, () => running(balancer));
  log(
    `${count} instance${count === 1 ? '' : 's'} (${instances.map((i) => `${i.name} :${i.port}`).join(', ')}) behind nginx, ${args.sticky ? 'sticky by the lab-link cookie' : 'round-robin (--no-sticky)'}`,
  );
  log(`presenter's link: ${url}/?operator=${operatorToken}`);
  console.log(`cluster ready: ${url}`);
} catch (error) {
  console.error(`transport-lab: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}
