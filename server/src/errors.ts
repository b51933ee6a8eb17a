import { ERROR_STATUS, type ErrorBody, type ErrorCode, type ErrorEnvelope } from '@transport-lab/shared';
import type { z } from 'zod';

/** The one application error: a code from the shared protocol, a message for people, and details. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Location on a 504 or Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  toEnvelope(): ErrorEnvelope {
    return { error: this.toBody() };
  }
}

/** Client-facing body for an error that is not an AppError: nothing of its internals leaks. */
export const INTERNAL_ERROR_BODY: ErrorBody = {
  code: 'INTERNAL',
  message: 'Something went wrong on the server. It has been logged.',
};

export function errorBody(error: unknown): ErrorBody {
  return error instanceof AppError ? error.toBody() : INTERNAL_ERROR_BODY;
}

/** Parses untrusted input with a shared schema; a failure becomes a 400 that lists each issue. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new AppError(
    'VALIDATION_FAILED',
    `Invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
    {
      issues: parsed.error.issues.map((i) => ({
        path: i.path.map(String),
        message: i.message,
        code: i.code,
      })),
    },
  );
}
