// `npm start`: the one command that takes a machine with only Node and npm to a running Transport Lab.
// Checks the Node version, installs exactly what the lockfile says (when it changed since the last
// install: scripts/pnpm.mjs, ensureWorkspace), builds the client into client/dist (the server serves it from
// there), then runs the server in the foreground until SIGINT/SIGTERM.
// Settings come from the environment (PORT, HOST, DATA_DIR, …: see server/src/config.ts).
// First: it stops with what to install when this Node is not a tested one.
import './node-version.mjs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureWorkspace, root, runPnpm } from './pnpm.mjs';

// The build runs every time (≈1 s; checking whether it is needed would cost about as much and could be
// wrong). The install runs when the lockfile or a package.json changed since the last one.
await ensureWorkspace();
const buildCode = await runPnpm(['--filter', '@transport-lab/client', 'run', 'build']);
if (buildCode !== 0) {
  console.error('transport-lab: the client build failed (see above).');
  process.exit(buildCode);
}

// The server runs as `node --import tsx`, not `pnpm start`: pnpm sent SIGTERM can leave its node child
// listening (/work/shared/TOOLCHAIN.md, "Processes"). main.ts prints the URL it listens on.
// It runs in its own process group, so that it hears each signal exactly once, from us: a terminal's
// Ctrl-C reaches every process of the foreground group, and npm forwards the signal to us again, so the
// server would otherwise get two or three SIGINTs and be killed outright in the middle of its shutdown.
const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: join(root, 'server'),
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});

const running = () => server.exitCode === null && server.signalCode === null;
let forwarded = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // Forward the first signal only; the repeats are copies of it (see above).
    if (forwarded || !running()) return;
    forwarded = true;
    server.kill(signal);
  });
}
// If this process ends for any other reason, the server must not outlive it in its own group.
process.on('exit', () => {
  if (running()) server.kill('SIGTERM');
});

server.on('error', (error) => {
  console.error(`transport-lab: could not start the server: ${error.message}`);
  process.exit(1);
});

server.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal, so that whoever started us sees the true cause (exit status 128 + n).
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
