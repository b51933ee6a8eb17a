/** Bumped whenever a schema in this folder changes shape; the client shows it and the server sends it. */
export const PROTOCOL_VERSION = 1;
