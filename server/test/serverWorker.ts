import { parentPort, workerData } from 'node:worker_threads';
import { createServer, listen } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

// A test server on a thread of its own (workerThread.ts starts it, through serverWorker.mjs): a load-generating test then has
// the server on another core than its own generation and checking.

const env = workerData as Record<string, string>;
const app = await createServer(
  loadConfig({ LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '60000', ...env, PORT: '0' }),
  undefined,
  {
    // A restart-server fault is recorded, not done: whoever drives the server goes on against it.
    restart: () => undefined,
  },
);
const { port, receiverPort } = await listen(app, { port: 0, receiverPort: 0, host: '127.0.0.1' });
parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  void app.close().then(() => parentPort?.postMessage('closed'));
});
parentPort?.postMessage({ port, receiverPort });
