import { ClientLimitDetails, type ClientLimitReason, ErrorBody, ErrorEnvelope } from '@transport-lab/shared';
import { expect } from 'vitest';
import { z } from 'zod';

/**
 * Two phones, as per-client bounds see them. The tests run on loopback, which is the operator and
 * never bounded per client: as access.test.ts does, they speak as phones behind a proxy on this
 * machine, which names them in X-Forwarded-For.
 */
export const BOT = { 'x-forwarded-for': '203.0.113.66' };
export const PHONE = { 'x-forwarded-for': '203.0.113.9' };

/** A refusal's sentence: a person reads it on the page. */
const SENTENCE = /^[A-Z].*\.$/;

/** One HTTP refusal of a per-client bound: 429, Retry-After as its details say, its reason, and a
 *  sentence (`message`, when it must say more). */
export async function expectLimited(
  res: Response,
  reason: ClientLimitReason,
  message: RegExp = SENTENCE,
): Promise<ClientLimitDetails> {
  expect(res.status).toBe(429);
  const { error } = ErrorEnvelope.parse(await res.json());
  expect(error.code).toBe('RATE_LIMITED');
  const details = ClientLimitDetails.parse(error.details);
  expect(details.reason).toBe(reason);
  expect(res.headers.get('retry-after')).toBe(String(details.retryAfterS));
  expect(error.message).toMatch(message);
  return details;
}

const Refused = z.object({ ok: z.literal(false), error: ErrorBody });

/** The same refusal in a socket.io ack: `{ok: false, error: RATE_LIMITED}` with its details. */
export function expectLimitedAck(ack: unknown, reason: ClientLimitReason): ClientLimitDetails {
  const { error } = Refused.parse(ack);
  expect(error.code).toBe('RATE_LIMITED');
  const details = ClientLimitDetails.parse(error.details);
  expect(details.reason).toBe(reason);
  expect(error.message).toMatch(SENTENCE);
  return details;
}
