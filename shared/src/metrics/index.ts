export * from './aggregate.ts';
export * from './best.ts';
export * from './clock.ts';
export * from './connections.ts';
export * from './lateness.ts';
export * from './perceived.ts';
export * from './wire.ts';
