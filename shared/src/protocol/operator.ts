import { z } from 'zod';

/**
 * The operator: whoever runs the server (issue 11, "Safe in a hall"). Actions that reach other
 * people's races (restarting the process, faults that hold shared capacity) are the operator's: a
 * request from the server's own machine, or one that carries the operator token that `npm start`
 * prints in the presenter's link (`/?operator=<token>`), as `Authorization: Bearer <token>`.
 */
export const OPERATOR = {
  /** The query parameter of the presenter's link that hands the page the token. */
  linkParam: 'operator',
  /** The page keeps the token here (sessionStorage: this tab only, gone when it closes). */
  storageKey: 'transport-lab:operator-token',
  /** Shortest token accepted: 32 random characters of the set below carry over 190 bits. */
  minLength: 32,
} as const;

/** An operator token: RFC 6750's b64token characters (what a Bearer credential may hold), ≥ 32. */
export const OperatorToken = z
  .string()
  .min(OPERATOR.minLength, `must be at least ${OPERATOR.minLength} characters`)
  .max(512)
  .regex(
    /^[A-Za-z0-9\-._~+/]+=*$/,
    'must be Bearer token characters: A-Z a-z 0-9 - . _ ~ + / (then = padding)',
  );
export type OperatorToken = z.infer<typeof OperatorToken>;

/** `Authorization` header value carrying the token. */
export function operatorAuthorization(token: OperatorToken): string {
  return `Bearer ${token}`;
}
