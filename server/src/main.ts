import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOperatorToken } from './access/index.ts';
import { ConfigError, loadConfig, repoRoot } from './config.ts';
import { createRestartPolicy, type SupervisorMessage } from './supervisor.ts';

/**
 * Entry point (`npm start`): a tiny supervisor. It runs the server (`serve.ts`) in a child process
 * with the same node and tsx arguments, and starts it again, on the ports the first one listened on,
 * when it exits with RESTART_EXIT_CODE (the restart-server fault) or crashes after listening (at most
 * SUPERVISOR_MAX_RESTARTS_PER_MINUTE times a minute; past it, it gives up with code 1): see
 * supervisor.ts. SIGINT and SIGTERM are passed on; a clean exit, or any exit while stopping, ends
 * this process with the same code, or of the same signal. The server's own output (the "listening
 * on" lines) goes straight to this process's stdout.
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
// Every setting is checked here first, so that a wrong one is reported once, before any server starts.
let maxRestartsPerMinute: number;
try {
  maxRestartsPerMinute = loadConfig(env).SUPERVISOR_MAX_RESTARTS_PER_MINUTE;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const policy = createRestartPolicy({ maxRestartsPerMinute });

function start(): void {
  const started = fork(serverEntry, process.argv.slice(2), {
    env,
    execArgv: process.execArgv,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  child = started;
  let listened = false;
  started.on('message', (message: SupervisorMessage) => {
    if (message?.type !== 'listening') return;
    listened = true;
    env.PORT = String(message.port);
    env.RECEIVER_PORT = String(message.receiverPort);
    if (message.h2Port !== undefined) env.H2_PORT = String(message.h2Port);
  });
  started.on('error', (error) => {
    console.error(`transport-lab: could not run the server: ${error.message}`);
    process.exit(1);
  });
  started.on('exit', (code, signal) => {
    const decision = policy.decide({
      pid: started.pid,
      code,
      signal,
      listened,
      stopping: stopping !== undefined,
    });
    switch (decision.action) {
      case 'restart':
        console.log(`Transport Lab restarting (${decision.reason})…`);
        start();
        return;
      case 'exit':
        if (decision.reason) console.error(`transport-lab: ${decision.reason}.`);
        process.exit(decision.code);
        return;
      case 'die':
        if (decision.reason) console.error(`transport-lab: ${decision.reason}.`);
        // Die of the same signal, so that whoever started us sees the true cause (exit status 128 + n).
        process.removeAllListeners(decision.signal);
        process.kill(process.pid, decision.signal);
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping ??= signal;
    child?.kill(signal);
  });
}

start();
