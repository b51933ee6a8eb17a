import { Worker } from 'node:worker_threads';

export interface WorkerServer {
  baseUrl: string;
  receiverUrl: string;
  close(): Promise<void>;
}

/** A real server (createServer + listen, as startTestServer) on a worker thread, so that it runs on
 *  another core than the test that drives it. `env` as loadConfig's. */
export async function startServerInWorker(env: Record<string, string>): Promise<WorkerServer> {
  const worker = new Worker(new URL('./serverWorker.mjs', import.meta.url), { workerData: env });
  const { port, receiverPort } = await new Promise<{ port: number; receiverPort: number }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the server's thread exited (${code}) before listening`)),
      );
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    receiverUrl: `http://127.0.0.1:${receiverPort}`,
    async close() {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    },
  };
}
