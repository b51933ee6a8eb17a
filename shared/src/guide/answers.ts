import { z } from 'zod';

/**
 * The decision guide's questionnaire (issue 15, item 4): what a team knows about its operation before it
 * chooses how clients learn of its progress. Durations are in milliseconds, like every time in the lab.
 */

/** Who reads the operation's progress and result. More than one may: a page and a partner's server. */
export const GUIDE_CONSUMERS = ['browser', 'mobile-app', 'server'] as const;
export const GuideConsumer = z.enum(GUIDE_CONSUMERS);
export type GuideConsumer = z.infer<typeof GuideConsumer>;

/** What sits between the producer and the consumer and changes what a connection can do. */
export const GUIDE_MIDDLEBOXES = ['buffering-proxy', 'firewall', 'serverless'] as const;
export const GuideMiddlebox = z.enum(GUIDE_MIDDLEBOXES);
export type GuideMiddlebox = z.infer<typeof GuideMiddlebox>;

export const GUIDE_CONSUMER_LABELS: Record<GuideConsumer, string> = {
  browser: 'a browser',
  'mobile-app': 'a mobile app',
  server: 'another server',
};

export const GUIDE_MIDDLEBOX_LABELS: Record<GuideMiddlebox, string> = {
  'buffering-proxy': 'a proxy that buffers responses',
  firewall: 'a firewall: outbound plain HTTP(S) only, nothing may call in, upgrades may be stripped',
  serverless: 'serverless functions that cannot hold a connection',
};

/** A week, ms: the longest operation the guide reasons about (beyond it, the answers are a batch job's). */
export const GUIDE_MAX_DURATION_MS = 7 * 24 * 3_600_000;

const durationMs = z.int().min(0).max(GUIDE_MAX_DURATION_MS);

/** A list in which each choice is named at most once. */
const distinct = <T extends string>(item: z.ZodEnum<Record<T, T>>) =>
  z.array(item).refine((list) => new Set(list).size === list.length, { message: 'name each choice once' });

export const GuideAnswers = z
  .strictObject({
    /** How long the operation usually takes, ms. */
    typicalMs: durationMs,
    /** How long it takes at worst (a p99, a cold cache, a big input), ms; at least `typicalMs`. */
    worstMs: durationMs,
    /** How soon a person must see something after acting, ms; absent: no person waits on it. */
    feedbackWithinMs: z.int().min(1).max(GUIDE_MAX_DURATION_MS).optional(),
    /** How often one client starts it, per hour (0.5 = every two hours; 3 600 = once a second). */
    runsPerHour: z.number().min(0).max(360_000),
    consumers: distinct(GuideConsumer).min(1, { message: 'choose at least one consumer' }),
    /** Whether the steps between start and end matter to the reader, or only the end. */
    progressMatters: z.boolean(),
    between: distinct(GuideMiddlebox),
    /** Clients with the page (or app, or server) open at once. */
    concurrentClients: z.int().min(1).max(100_000_000),
    /** A client may be away (offline, asleep, closed) for hours while the operation runs or ends. */
    offlineForHours: z.boolean(),
  })
  .refine((a) => a.worstMs >= a.typicalMs, {
    path: ['worstMs'],
    message: 'the worst case cannot be shorter than the typical one',
  });
export type GuideAnswers = z.infer<typeof GuideAnswers>;

/** Bad answers, said field by field: "worstMs: the worst case cannot be shorter than the typical one". */
export class GuideAnswersError extends Error {
  readonly issues: Array<{ path: string; message: string }>;
  constructor(issues: Array<{ path: string; message: string }>) {
    super(`The answers do not fit: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`);
    this.name = 'GuideAnswersError';
    this.issues = issues;
  }
}

/** Parses answers from anywhere (a form, a file, a test); throws `GuideAnswersError` naming each field. */
export function parseGuideAnswers(input: unknown): GuideAnswers {
  const parsed = GuideAnswers.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new GuideAnswersError(
    parsed.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : 'answers',
      message: issue.message,
    })),
  );
}
