import { checkForgedWebhook, checkRetriedPost } from './checks-lessons.ts';
import type { Scenario, Source } from './scenarios.ts';

/**
 * The lessons issue 12 found missing (its item 4), as guided scenarios beside the first seven and in
 * their shape. Their sources are listed here rather than in `scenarios.ts`' table, so that these
 * lessons and the corrections of the first seven can be changed apart.
 */
const LESSON_SOURCES = {
  rfc9110Idempotent: {
    label: 'RFC 9110 §9.2.2 (idempotent methods, automatic retries)',
    url: 'https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2',
  },
  idempotencyKey: {
    label: 'IETF draft: The Idempotency-Key HTTP Header Field',
    url: 'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/',
  },
  standardWebhooks: {
    label: 'Standard Webhooks specification (signature, webhook-timestamp, webhook-id)',
    url: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
  },
} satisfies Record<string, Source>;

/** The task each retried create starts: short, so that the second one a retry runs ends soon. */
const RETRIED_TASK = { durationMs: 500, steps: 1 } as const;

export const LESSON_SCENARIOS: Scenario[] = [
  {
    id: 'retried-post',
    title: 'A retried POST runs twice: Idempotency-Key',
    lesson:
      'When the answer to a POST is lost (a proxy times out, a phone changes networks), the client cannot ' +
      'tell whether the request never arrived or the work was done and only the answer is gone. Retrying ' +
      'is how it finds out, but POST is not idempotent (RFC 9110 §9.2.2): the server cannot tell a retry ' +
      'from a new request, so it does the work again: a second task here, a second payment or email ' +
      'elsewhere. Clients retry on their own too: Chromium re-sends a request whose kept-alive connection ' +
      'closed before any answer, a POST included. The fix is a key the client chooses once per operation ' +
      'and sends with every attempt, Idempotency-Key (IETF draft): the server stores the first answer under ' +
      'it and gives a retry that answer back, creating nothing (this server marks it Idempotent-Replayed: ' +
      'true; the same key with another body is refused with 422, and a retry while the first is still ' +
      'being handled with 409). Here the server creates the task, then cuts the connection before its 202 ' +
      'leaves (a "lose answers" fault), once without a key and once with one; the page retries once after ' +
      "the network error, as a client library would. The server's own count of each try shows the POSTs " +
      'that arrived and the tasks they created.',
    expectation:
      'With the first answer lost each time, the server receives the POST at least twice in both tries; without a key it creates 2 tasks, with an Idempotency-Key 1, and answers the retry with the stored first answer (Idempotent-Replayed: true).',
    sources: [LESSON_SOURCES.rfc9110Idempotent, LESSON_SOURCES.idempotencyKey],
    network: { preset: 'none' },
    steps: [
      {
        label: 'Two creates whose answers are lost, without and with a key',
        spec: RETRIED_TASK,
        lanes: [],
        laneSettings: {},
        probe: 'retried-post',
      },
    ],
    check: ([step]) => checkRetriedPost(step),
  },
  {
    id: 'forged-webhook',
    title: 'A forged or replayed webhook: signature, timestamp, webhook-id',
    lesson:
      'A webhook arrives at a URL anyone can POST to, so the receiver must check who sent it, and when. ' +
      'Standard Webhooks signs each delivery with an HMAC-SHA256, under a secret only the sender and the ' +
      'receiver hold, of its webhook-id, its webhook-timestamp and its body, sent as webhook-signature. ' +
      'The receiver computes it again over the raw bytes it received (not JSON parsed and serialised again) ' +
      'and compares: one changed byte, or a secret the sender does not have, and it fails. A genuine ' +
      'delivery can still be captured and sent again. The signature covers the timestamp, so nobody ' +
      'without the secret can make it newer, and the receiver refuses one more than 5 minutes from its own clock (the ' +
      "standardwebhooks library's tolerance); within those minutes it remembers each webhook-id it has " +
      'accepted and answers a repeat 200 without processing it again: the same de-duplication that makes ' +
      "at-least-once delivery safe when a receiver's 200 was lost and the sender tried again. Here the " +
      'webhook lane runs a task; then the server plays an attacker with one of its delivered webhooks (an ' +
      '"attack webhooks" fault) and sends this lab\'s receiver four copies: its body altered, a message ' +
      'signed with a made-up secret, the captured delivery as it was, and one signed 6 minutes ago under an ' +
      'id the receiver has not seen.',
    expectation:
      'The webhook lane shows each event once; the receiver answers 401 to the altered body and the made-up secret (their signatures) and to the delivery signed 6 minutes ago (its timestamp), and 200 to the replay, acknowledged as a duplicate of its webhook-id and not processed again.',
    sources: [LESSON_SOURCES.standardWebhooks],
    network: { preset: 'none' },
    steps: [
      {
        label: '2 s task, its webhooks delivered',
        spec: { durationMs: 2_000, steps: 2 },
        lanes: ['webhook'],
        laneSettings: {},
      },
      {
        label: 'An attacker sends the receiver four copies',
        spec: { durationMs: 2_000, steps: 2 },
        lanes: [],
        laneSettings: {},
        probe: 'attack-webhooks',
      },
    ],
    check: ([race, attack]) => checkForgedWebhook(race, attack),
  },
];
