import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import {
  ERROR_STATUS,
  ErrorBody,
  type ErrorCode,
  HTTP_HEADERS,
  LAB_TAGS,
  RunId,
  TaskId,
} from '@transport-lab/shared';
import { z } from 'zod';

/**
 * The pieces the OpenAPI document (openapi.ts) describes routes with, shared by the lanes, which
 * each describe their own routes (`ServerLane.describe`), so that adding a lane adds its part of
 * the contract from its own folder.
 */

/** Describes one route in the document: the route's express pattern is turned into a path template. */
export type DescribeRoute = (config: RouteConfig) => void;

/** Express route pattern (`/api/tasks/:id`) → OpenAPI path template (`/api/tasks/{id}`). */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Errors any API route can answer: an unexpected failure (its details are logged, not sent). */
export const ALWAYS: ErrorCode[] = ['INTERNAL'];
/** Errors of reading a JSON body (middleware.ts), before the route sees it. */
export const BODY: ErrorCode[] = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];
/** A new task: past the client's share (429) or what the server can serve truthfully (503). */
export const ADMISSION: ErrorCode[] = ['RATE_LIMITED', 'UNAVAILABLE'];

const ERROR_DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  RATE_LIMITED: 'past this client’s share: `details` is a ClientLimitDetails, with `Retry-After`',
  UNAVAILABLE:
    'the server is past what it can serve truthfully, or its worker pool’s queue is full (`details`: OverloadDetails, its `reason` one of event-loop-delay, running-tasks, open-streams, queue-full; with `Retry-After`), or the feature is off',
  SYNC_TIMEOUT:
    'the task did not end within SYNC_TIMEOUT_MS; it goes on at `Location` (`details`: SyncTimeoutDetails)',
};

/** The error envelope narrowed to the codes a route can answer with one status. */
function envelopeOf(codes: string[]) {
  const [first, ...rest] = codes as [string, ...string[]];
  return z.object({ error: ErrorBody.extend({ code: z.enum([first, ...rest]) }) });
}

export type Responses = RouteConfig['responses'];

/** One response per status among `codes` (several codes may share a status), each the envelope;
 *  `statusOf`: the table the answering side takes its statuses from. */
export function errorResponses(statusOf: Record<string, number>, codes: string[]): Responses {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    const status = statusOf[code];
    if (status === undefined) throw new Error(`openapi: no status for error code ${code}`);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Responses = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[status] = {
      description: group
        .map((c) => {
          const why = ERROR_DESCRIPTIONS[c as ErrorCode];
          return why ? `${c}: ${why}` : c;
        })
        .join('; '),
      content: { 'application/json': { schema: envelopeOf(group) } },
    };
  }
  return responses;
}

/** The app's error answers for these codes (and INTERNAL, which any route may answer). */
export const errors = (...groups: ErrorCode[][]): Responses =>
  errorResponses(ERROR_STATUS, [...groups.flat(), ...ALWAYS]);

export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
export const ok = (description: string, schema: z.ZodType): Responses[string] => ({
  description,
  ...json(schema),
});

/**
 * A query schema as a document shows it: each parameter as the value its text must parse to. The
 * shared query schemas read text (`z.coerce.number().pipe(z.int().min(0))`), which the generator
 * would show as the coercion's input (any number or null) and drop the bounds; the pipe's output
 * keeps them (`integer`, `minimum: 0`), with the default or optionality of the original.
 */
export function queryOf(schema: z.ZodObject): z.ZodObject {
  const parsed = (field: z.ZodType): z.ZodType => {
    if (field instanceof z.ZodDefault)
      return parsed(field.unwrap() as z.ZodType).default(field._zod.def.defaultValue as never);
    if (field instanceof z.ZodOptional) return parsed(field.unwrap() as z.ZodType).optional();
    if (field instanceof z.ZodPipe) return field.out as z.ZodType;
    return field;
  };
  return z.object(
    Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => [key, parsed(field as z.ZodType)])),
  );
}

export const taskIdParams = z.object({ id: TaskId });
export const notModified = {
  304: { description: 'The representation still has the `If-None-Match` ETag: no body.' },
};

/** `Last-Event-ID` as an EventSource resends it on a reconnect: the id (a seq, a version) of the last
 *  message it had, which the stream resumes after. For every SSE stream: the task's, the board's. */
export const lastEventIdHeader = z.object({
  [HTTP_HEADERS.lastEventId]: z
    .string()
    .regex(/^\d{1,9}$/)
    .optional(),
});

/** The lane tags a lane's request may carry (`x-lab-lane` + `x-lab-run`): counted in its run's wire
 *  report, and the right to that run's tasks and faults. Optional everywhere. */
export const labTagHeaders = z.object({
  [LAB_TAGS.laneHeader]: z
    .string()
    .optional()
    .meta({ description: 'The lane this request is for (a LaneId).' }),
  [LAB_TAGS.runHeader]: RunId.optional().meta({ description: 'The run (race) this request belongs to.' }),
});
