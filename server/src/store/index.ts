import type { Config } from '../config.ts';
import { openSqliteStore } from './sqlite.ts';
import type { TaskStore } from './types.ts';

export type { TaskStore };

/** The embedded store; a Redis store for scale-out will be chosen here when REDIS_URL is set. */
export function openStore(config: Config): TaskStore {
  return openSqliteStore(config.DATA_DIR);
}
