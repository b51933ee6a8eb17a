// Types of redis.mjs for the TypeScript that imports it (test/bench/capacityServers.ts).
export function answersPing(host: string, port: number, timeoutMs?: number): Promise<boolean>;
export function freePort(): Promise<number>;
export function ensureRedis(
  env?: NodeJS.ProcessEnv,
): Promise<{ url: string; source: 'REDIS_URL' | 'running' | 'started'; stop(): Promise<void> }>;
