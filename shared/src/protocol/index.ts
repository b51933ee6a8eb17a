export * from './errors.ts';
export * from './events.ts';
export * from './http.ts';
export * from './lanes.ts';
export * from './socket.ts';
export * from './task.ts';
export * from './version.ts';
export * from './webhooks.ts';
