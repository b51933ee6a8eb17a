// `npm run start:cluster`'s load balancer: Debian's nginx (open-source), run as the current user with
// a prefix of its own (config, pid, temp dirs) and a config generated here. Nothing of the system's
// nginx is used but the binary: not /etc/nginx, not its service.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { whichOnPath } from '../chromium.mjs';

export const NGINX_INSTALL = 'sudo apt-get install -y nginx';

/** The instance names: i1, i2, …; each makes link ids that start with `<name>-` (NETWORK_LINK_PREFIX). */
export const instanceName = (index) => `i${index + 1}`;

/** shared/src/protocol/room.ts's ROOM_CODE_ALPHABET (a test holds them equal). */
export const ROOM_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The first symbols of instance `index`'s (0-based, of `count`) room codes, as a browser may type
 * them in `?room=`: its ROOM_CODE_SHARD's symbols (server/src/rooms/secrets.ts), in either case, and
 * the look-alikes the code reader takes for them (I and L for 1, O for 0).
 */
export function roomSymbols(index, count) {
  const own = [...ROOM_CODE_ALPHABET].filter((_, place) => place % count === index);
  const lookAlikes = { 1: 'IiLl', 0: 'Oo' };
  return own
    .map(
      (symbol) =>
        `${symbol}${symbol.toLowerCase() === symbol ? '' : symbol.toLowerCase()}${lookAlikes[symbol] ?? ''}`,
    )
    .join('');
}

/**
 * The nginx config of a cluster, as text.
 * - listen: `{host, port}` the balancer listens on;
 * - instances: `[{name, port}]`, each instance's app port on 127.0.0.1;
 * - sticky: true routes a page opened at `?room=CODE`, and a board's routes (`/api/boards/CODE…`), to
 *   the instance holding the room (by the code's first symbol: ROOM_CODE_SHARD), then a browser by its `lab-link` cookie to the instance that made it (the cookie
 *   starts with the instance's name), and a request without one by a consistent hash of its address
 *   and User-Agent: a browser's first page load, which makes its link, and the page's own observation
 *   requests (settings, clock, wire report, delivery log: sent without credentials, so that its link
 *   does not shape them) land on the instance its cookie names, and a cookie-less socket.io client's
 *   polling stays on one instance; false: round-robin, each request to the next instance (what item 4
 *   of issue 14 shows breaking socket.io's polling);
 * - prefix: nginx's own directory (absolute); temp files go under it;
 * - runAsRoot: nginx started by root runs its workers as `user`, nobody by default, who cannot read
 *   the prefix: they run as root's own user then.
 */
export function nginxConfig({ listen, instances, sticky, prefix, runAsRoot = false, user = 'root' }) {
  const upstream = (name, lines) => [`  upstream ${name} {`, ...lines.map((l) => `    ${l}`), '  }'];
  const server = (port, extra = '') => `server 127.0.0.1:${port}${extra};`;
  // A cookie's instance first; the others as backups, so that a browser whose instance has gone is
  // served by another (its link is then adopted there, unshaped: server/src/network/links.ts `adopt`).
  const perInstance = instances.flatMap((instance) =>
    upstream(`lab_${instance.name}`, [
      server(instance.port, ' max_fails=1 fail_timeout=5s'),
      ...instances.filter((other) => other !== instance).map((other) => server(other.port, ' backup')),
    ]),
  );
  const any = upstream('lab_any', [
    ...(sticky ? ['hash $remote_addr$http_user_agent consistent;'] : []),
    ...instances.map((instance) => server(instance.port, ' max_fails=1 fail_timeout=5s')),
  ]);
  // The Cookie header itself: nginx's $cookie_<name> cannot name `lab-link` (its hyphen reads as an
  // underscore, and no cookie is called lab_link).
  const byCookie = [
    '  map $http_cookie $lab_cookie_upstream {',
    ...(sticky
      ? instances.map((instance) => `    "~(^|;)\\s*lab-link=${instance.name}-" lab_${instance.name};`)
      : []),
    '    default lab_any;',
    '  }',
  ];
  // A page opened at `?room=CODE` (a room's link or QR code) goes to the instance holding the room,
  // whatever its cookie says: that instance then gives it a link of its own, and the rest follows.
  const byRoom = [
    '  map $arg_room $lab_room_upstream {',
    ...(sticky
      ? instances.map(
          (instance, index) => `    "~^[${roomSymbols(index, instances.length)}]" lab_${instance.name};`,
        )
      : []),
    '    default "";',
    '  }',
    // A board's HTTP lanes (`/api/boards/CODE…`: its state, long poll, SSE stream, edits and reports)
    // go to the instance holding its room too, whatever instance the page is on: the board lives
    // beside its room (its websocket lane reaches it through the instances' relay instead).
    '  map $uri $lab_board_upstream {',
    ...(sticky
      ? instances.map(
          (instance, index) =>
            `    "~^/api/boards/[${roomSymbols(index, instances.length)}]" lab_${instance.name};`,
        )
      : []),
    '    default $lab_cookie_upstream;',
    '  }',
    '  map $lab_room_upstream $lab_upstream {',
    '    "" $lab_board_upstream;',
    '    default $lab_room_upstream;',
    '  }',
  ];
  // Which instance answered, on every answer but a websocket's 101: the page counts that one's bytes
  // from the instance's own report (which cannot see what nginx adds), so nginx adds no more to it
  // than it must (its Server and Date headers, 52 bytes: docs/scaling.md).
  const upstreamHeader = [
    '  map $http_upgrade $lab_upstream_header {',
    "    '' $upstream_addr;",
    '    default "";',
    '  }',
  ];
  const route = [...byCookie, ...byRoom, ...upstreamHeader];
  return [
    '# Generated by scripts/cluster.mjs (npm run start:cluster); rewritten at each start.',
    ...(runAsRoot ? [`user ${user};`] : []),
    'worker_processes 1;',
    `pid ${prefix}/nginx.pid;`,
    'error_log stderr warn;',
    'events {',
    '  worker_connections 4096;',
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    `  client_body_temp_path ${prefix}/tmp/body;`,
    `  proxy_temp_path ${prefix}/tmp/proxy;`,
    `  fastcgi_temp_path ${prefix}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/tmp/uwsgi;`,
    `  scgi_temp_path ${prefix}/tmp/scgi;`,
    '  # A websocket upgrade is passed on as one; anything else closes its connection to the instance',
    '  # after the answer: each request then opens its own, whose first head carries its cookie, which',
    '  # is how an instance finds a connection\'s network link (server/src/network/README.md, "The intake").',
    '  map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    '' close;",
    '  }',
    ...route,
    ...perInstance,
    ...any,
    '  server {',
    `    listen ${listen.host}:${listen.port};`,
    '    # The instances bound bodies themselves (BODY_LIMIT_BYTES, with the one error envelope).',
    '    client_max_body_size 0;',
    '    location / {',
    '      proxy_pass http://$lab_upstream;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $connection_upgrade;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    '      # Streams (SSE, HTTP streaming, long polls, socket.io polling) pass each chunk as it comes.',
    '      proxy_buffering off;',
    "      # The bytes the browser sent, for the instance's wire count (its own socket counts what nginx",
    '      # forwarded): server/src/observability/proxiedBytes.ts. Bodies are read whole first, so that',
    '      # $request_length includes them (bodies here are small: BODY_LIMIT_BYTES, 64 KiB).',
    '      proxy_set_header X-Lab-Client-Request-Bytes $request_length;',
    '      # A held request (long poll ≤ SYNC_TIMEOUT_MS, an idle stream between heartbeats) is not cut.',
    '      proxy_read_timeout 1h;',
    '      proxy_send_timeout 1h;',
    '      # Which instance answered (for the cluster tests and for anyone curious).',
    '      add_header X-Lab-Upstream $lab_upstream_header always;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nginx's path: on PATH, else Debian's /usr/sbin/nginx (not on a normal user's PATH). */
export function findNginx(env = process.env) {
  const onPath = whichOnPath('nginx', env.PATH ?? '');
  if (onPath) return onPath;
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
}

/**
 * nginx, installed with apt-get when missing and this process may (root, or `sudo -n`), as
 * scripts/chromium.mjs does Chromium. Returns its path, or throws with what to install.
 */
export function ensureNginx(env = process.env) {
  const found = findNginx(env);
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  const canSudo =
    !isRoot &&
    whichOnPath('sudo', env.PATH ?? '') &&
    spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (whichOnPath('apt-get', env.PATH ?? '') && (isRoot || canSudo)) {
    console.log("\n==> nginx: Debian's is missing; apt-get install -y nginx");
    const lead = isRoot ? [] : ['sudo', '-n'];
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'nginx']]) {
      const [cmd, ...rest] = [...lead, 'apt-get', ...args];
      if (spawnSync(cmd, rest, { stdio: 'inherit', env: aptEnv }).status !== 0) break;
    }
    const installed = findNginx(env);
    if (installed) return installed;
  }
  throw new Error(
    `transport-lab: the cluster needs nginx, and none is installed or could be installed here. Install it (Debian: ${NGINX_INSTALL}) and run again.`,
  );
}

/** The user nginx's workers run as when it is started by root. */
export const currentUser = () => userInfo().username;
