import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOperatorToken } from './access/index.ts';
import { repoRoot } from './config.ts';
import { RESTART_EXIT_CODE, type SupervisorMessage } from './supervisor.ts';

/**
 * Entry point (`npm start`): a tiny supervisor. It runs the server (`serve.ts`) in a child process
 * with the same node and tsx arguments, and starts it again when it exits with RESTART_EXIT_CODE
 * (the restart-server fault), on the ports the first one listened on. SIGINT and SIGTERM are passed
 * on; any other exit of the server ends this process with the same code, or of the same signal.
 * The server's own output (the "listening on" lines) goes straight to this process's stdout.
 */
const serverEntry = fileURLToPath(new URL('./serve.ts', import.meta.url));

let child: ChildProcess | undefined;
let stopping: NodeJS.Signals | undefined;
// The .env is read here as well as in the server, so that an OPERATOR_TOKEN set there is the one
// the server gets (the shell's still wins); without one, the token is made here, once, so that every
// server this supervisor starts (a restart) takes the same and the presenter's link keeps working.
const envFile = `${repoRoot}/.env`;
if (existsSync(envFile)) process.loadEnvFile(envFile);
const env = { ...process.env };
if (!env.OPERATOR_TOKEN) env.OPERATOR_TOKEN = generateOperatorToken();

function start(): void {
  const started = fork(serverEntry, process.argv.slice(2), {
    env,
    execArgv: process.execArgv,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  child = started;
  started.on('message', (message: SupervisorMessage) => {
    if (message?.type !== 'listening') return;
    env.PORT = String(message.port);
    env.RECEIVER_PORT = String(message.receiverPort);
  });
  started.on('error', (error) => {
    console.error(`transport-lab: could not run the server: ${error.message}`);
    process.exit(1);
  });
  started.on('exit', (code, signal) => {
    if (code === RESTART_EXIT_CODE) {
      if (stopping) process.exit(0); // asked to stop meanwhile: the restart was the last of it
      console.log('Transport Lab restarting (restart-server fault)…');
      start();
      return;
    }
    if (signal) {
      // Die of the same signal, so that whoever started us sees the true cause (exit status 128 + n).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping ??= signal;
    child?.kill(signal);
  });
}

start();
