// A worker thread's entry (workerThread.ts): registers tsx, then loads the TypeScript server. Plain
// JavaScript, since nothing can load a `.ts` entry before tsx is registered, and a worker's
// `--import` is not run on Node 20. Resolved from this file, so tsx is the server package's.
import { register } from 'tsx/esm/api';

register();
await import('./serverWorker.ts');
