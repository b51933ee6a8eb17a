import { randomBytes } from 'node:crypto';
import { ErrorEnvelope, WEBHOOK_HEADERS, type WebhookAttack } from '@transport-lab/shared';
import { Webhook } from 'standardwebhooks';

/**
 * What an attacker could send a webhook receiver, for the attack-webhooks fault (issue 12, "a forged
 * or replayed webhook"): four copies made from one genuine delivery. Standard Webhooks signs
 * `webhook-id.webhook-timestamp.body` with HMAC-SHA256 under the subscriber's secret; the receiver
 * verifies the signature, refuses a timestamp more than 5 minutes from its clock, and de-duplicates by
 * webhook-id. Each copy meets one of the three:
 * - tampered-body: the captured headers, the body altered (a signature covers every byte of it);
 * - wrong-secret: a new message, signed with a secret the attacker made up (they never had the real one);
 * - replayed: the captured delivery exactly as it was sent (its id, timestamp and signature): valid,
 *   within the tolerance, and acknowledged without being processed again, by its webhook-id;
 * - stale-timestamp: a delivery captured over 5 minutes ago, whose id the receiver no longer remembers
 *   (its memory of ids is bounded): a new id, signed with the real secret, `STALE_BY_S` in the past.
 */

/** How far in the past the stale copy was signed: past the receiver's 5-minute tolerance, s. */
export const STALE_BY_S = 6 * 60;

export interface CapturedDelivery {
  /** Its webhook-id. */
  id: string;
  body: string;
  /** When the genuine attempt was sent, epoch ms: its webhook-timestamp (in seconds). */
  sentAt: number;
}

/** One POST to the receiver with these headers and body: its status and body, or an error. */
export type PostToReceiver = (
  headers: Record<string, string>,
  body: string,
) => Promise<{ status: number; body: string } | { error: string }>;

function headersOf(id: string, timestampS: number, signature: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestampS),
    [WEBHOOK_HEADERS.signature]: signature,
  };
}

/** The receiver's answer read for the record: a refusal's code and message, or a duplicate's flag. */
function readAnswer(answer: {
  status: number;
  body: string;
}): Pick<WebhookAttack, 'httpStatus' | 'code' | 'message' | 'duplicate'> {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const envelope = ErrorEnvelope.safeParse(json);
  return {
    httpStatus: answer.status,
    ...(envelope.success ? { code: envelope.data.error.code, message: envelope.data.error.message } : {}),
    duplicate: (json as { duplicate?: unknown } | undefined)?.duplicate === true,
  };
}

/** Sends the four copies, one after the other, and says how the receiver answered each. */
export async function attackReceiver(
  captured: CapturedDelivery,
  secret: string,
  post: PostToReceiver,
  nowMs: number,
): Promise<WebhookAttack[]> {
  const real = new Webhook(secret);
  const sentS = Math.floor(captured.sentAt / 1000);
  const nowS = Math.floor(nowMs / 1000);
  const capturedSignature = real.sign(captured.id, new Date(sentS * 1000), captured.body);
  const tampered = captured.body.replace(/"taskId"/, '"forged":true,"taskId"');
  const madeUp = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
  const newId = () => `msg_attack_${randomBytes(9).toString('base64url')}`;
  const forgedId = newId();
  const staleId = newId();
  const staleS = nowS - STALE_BY_S;
  const copies: Array<{
    kind: WebhookAttack['kind'];
    id: string;
    timestampS: number;
    headers: Record<string, string>;
    body: string;
  }> = [
    {
      kind: 'tampered-body',
      id: captured.id,
      timestampS: sentS,
      headers: headersOf(captured.id, sentS, capturedSignature),
      body: tampered,
    },
    {
      kind: 'wrong-secret',
      id: forgedId,
      timestampS: nowS,
      headers: headersOf(forgedId, nowS, madeUp.sign(forgedId, new Date(nowS * 1000), captured.body)),
      body: captured.body,
    },
    {
      kind: 'replayed',
      id: captured.id,
      timestampS: sentS,
      headers: headersOf(captured.id, sentS, capturedSignature),
      body: captured.body,
    },
    {
      kind: 'stale-timestamp',
      id: staleId,
      timestampS: staleS,
      headers: headersOf(staleId, staleS, real.sign(staleId, new Date(staleS * 1000), captured.body)),
      body: captured.body,
    },
  ];
  const results: WebhookAttack[] = [];
  for (const copy of copies) {
    const answer = await post(copy.headers, copy.body);
    results.push({
      kind: copy.kind,
      webhookId: copy.id,
      timestampS: copy.timestampS,
      ...('error' in answer ? { duplicate: false, message: answer.error } : readAnswer(answer)),
    });
  }
  return results;
}
