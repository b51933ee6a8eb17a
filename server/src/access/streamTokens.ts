import { randomBytes } from 'node:crypto';
import { API_PATHS, StreamTokenRequest, type StreamTokenResponse } from '@transport-lab/shared';
import type { Router } from 'express';
import { AppError, parseOrThrow } from '../errors.ts';
import { epochNow } from '../observability/clock.ts';
import { normalizedAddress } from './addresses.ts';

/** Live tokens held at once, over all clients: past it the oldest is forgotten (refused as unknown). */
export const MAX_STREAM_TOKENS = 10_000;
/** Live tokens one client (its address) may hold at once; past it, `429`. */
export const MAX_STREAM_TOKENS_PER_CLIENT = 20;

export interface StreamTokens {
  /** `POST /api/stream-tokens`. */
  registerRoutes(router: Router): void;
  /** When the token expires (epoch ms); throws `401 TOKEN_INVALID` for an unknown or expired one. */
  check(token: string): number;
}

/**
 * Short-lived stream tokens (issue 12, "a token that expires during a long-lived stream"): in memory,
 * bounded overall and per client. A stream opened with one is ended by its route when it expires.
 */
export function createStreamTokens(now: () => number = epochNow): StreamTokens {
  /** token → its expiry and its client, oldest first. */
  const tokens = new Map<string, { expiresAt: number; client: string }>();
  const perClient = new Map<string, number>();

  const forget = (token: string) => {
    const held = tokens.get(token);
    if (!held) return;
    tokens.delete(token);
    const left = (perClient.get(held.client) ?? 1) - 1;
    if (left <= 0) perClient.delete(held.client);
    else perClient.set(held.client, left);
  };
  const sweep = () => {
    const at = now();
    for (const [token, held] of tokens) if (held.expiresAt <= at) forget(token);
  };

  return {
    registerRoutes(router) {
      router.post(API_PATHS.streamTokens, (req, res) => {
        const { ttlMs } = parseOrThrow(StreamTokenRequest, req.body, 'stream token request');
        sweep();
        const client = normalizedAddress(req.socket.remoteAddress ?? '');
        if ((perClient.get(client) ?? 0) >= MAX_STREAM_TOKENS_PER_CLIENT) {
          throw new AppError(
            'RATE_LIMITED',
            `At most ${MAX_STREAM_TOKENS_PER_CLIENT} live stream tokens per client: wait for one to expire.`,
          );
        }
        const token = randomBytes(24).toString('base64url');
        const expiresAt = now() + ttlMs;
        tokens.set(token, { expiresAt, client });
        perClient.set(client, (perClient.get(client) ?? 0) + 1);
        if (tokens.size > MAX_STREAM_TOKENS) forget(tokens.keys().next().value as string);
        res.setHeader('Cache-Control', 'no-store');
        res.status(201).json({ token, expiresAt } satisfies StreamTokenResponse);
      });
    },
    check(token) {
      const held = tokens.get(token);
      if (!held || held.expiresAt <= now()) {
        throw new AppError(
          'TOKEN_INVALID',
          'This stream token is unknown or has expired: ask for a new one.',
        );
      }
      return held.expiresAt;
    },
  };
}
