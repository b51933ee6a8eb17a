export * from './metrics/index.ts';
export * from './protocol/index.ts';
