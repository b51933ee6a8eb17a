import { Agent, request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { ERROR_STATUS, type ErrorCode, ErrorEnvelope } from '@transport-lab/shared';
import fc from 'fast-check';

// The parts of the bad-input property suite (fuzz.test.ts): arbitraries that mix valid inputs with
// near-valid and plain junk ones, and an HTTP client that sends exactly what it is given.

/** What a generated request sends. `path` and the query are sent byte for byte (node:http does not
 *  normalise them, so `%ZZ` reaches the server as it is). */
export interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface Answer {
  status: number;
  contentType: string;
  /** Undefined for an event stream, whose head is all that is waited for. */
  body: string | undefined;
}

/** One connection, kept alive between requests: the suite's cost is the server's, not handshakes'. */
export function fuzzClient(origin: string) {
  const { hostname, port } = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    send(sent: Sent, timeoutMs = 5_000): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const req = request(
          { host: hostname, port, agent, method: sent.method, path: sent.path, headers: sent.headers },
          (res) => {
            const contentType = String(res.headers['content-type'] ?? '');
            if (contentType.startsWith('text/event-stream')) {
              // A stream that holds is a valid answer; its head says so. Cut it here.
              res.destroy();
              resolve({ status: res.statusCode ?? 0, contentType, body: undefined });
              return;
            }
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                contentType,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(sent.body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Why an answer breaks the promise "a 4xx envelope or a valid answer, never 5xx"; undefined if it
 *  keeps it. `plain`: the page's own paths, whose errors are a one-line text instead. */
export function breach(answer: Answer, plain = false): string | undefined {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body?.slice(0, 300)}`;
  if (answer.status < 400 || answer.body === undefined) return undefined;
  if (plain && answer.contentType.startsWith('text/plain')) {
    return /^\d{3} [A-Za-z -]+\n$/.test(answer.body)
      ? undefined
      : `not a one-line error: ${answer.body.slice(0, 200)}`;
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `a ${answer.status} that is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const envelope = ErrorEnvelope.safeParse(json);
  if (!envelope.success) return `a ${answer.status} without the error envelope: ${answer.body.slice(0, 200)}`;
  const status = ERROR_STATUS[envelope.data.error.code as ErrorCode] as number | undefined;
  // The receiver plays another service and has codes of its own (a 401); ours must match their status.
  if (status !== undefined && status !== answer.status) {
    return `${envelope.data.error.code} travels with ${status}, not ${answer.status}`;
  }
  return undefined;
}

/** Percent-encodes what a request line cannot carry, but leaves `%` alone: `%ZZ` stays bad. */
export function sloppyEncode(text: string): string {
  let out = '';
  for (const char of text) {
    if (/[A-Za-z0-9\-._~%!$&'()*+,;=:@]/.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const BAD_ENCODINGS = [
  '%ZZ',
  '%E0%A4%A',
  '%',
  '%%',
  '%C0%AF',
  '%00',
  '%FF%FE',
  '%2F..%2F',
  '..',
  '.',
  '%u2603',
];

/** Any code point, lone surrogates included. Not fast-check's 'binary' unit: that one builds a map
 *  of all 1.1 million code points for each arbitrary made, seconds of CPU across the suite. */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .map((codePoint) => String.fromCodePoint(codePoint));

/** A path segment: one of `valid` (known ids) or anything else, bad percent-encodings included. */
export function segment(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: fc.string({ maxLength: 70 }).map(sloppyEncode) },
    { weight: 2, arbitrary: fc.constantFrom(...BAD_ENCODINGS) },
    { weight: 1, arbitrary: fc.string({ unit: anyCodePoint, maxLength: 12 }).map(sloppyEncode) },
    { weight: 1, arbitrary: fc.constant('a'.repeat(400)) },
  );
}

/**
 * A query string: some of the route's own keys (with values from `values[key]` when given, else
 * anything), lab tags, and junk keys. `values` keeps keys that could make a request wait (`waitMs`)
 * to harmless choices.
 */
export function query(
  keys: readonly string[],
  values: Record<string, readonly string[]> = {},
  /** Keys always present (once, from `values`) unless the generated pairs already have them: a long
   *  poll without `waitMs` would rightly hold for its default 25 s, and holding is not what this is after. */
  required: readonly string[] = [],
): fc.Arbitrary<string> {
  const anyValue = fc.oneof(
    fc.constantFrom('0', '1', '5', '-1', '1.5', 'abc', '', 'NaN', '1e400', '99999999999', ...BAD_ENCODINGS),
    fc.string({ maxLength: 30 }).filter((value) => !/^\s*\d/.test(value)),
  );
  const pair = fc
    .constantFrom(...keys, 'labLane', 'labRun', 'junk', '')
    .chain((key) =>
      fc.tuple(fc.constant(key), values[key] ? fc.constantFrom(...(values[key] as string[])) : anyValue),
    );
  const requiredValues = required.map((key) => fc.constantFrom(...(values[key] ?? ['0'])));
  return fc.tuple(fc.array(pair, { maxLength: 4 }), fc.tuple(...requiredValues)).map(([generated, extra]) => {
    const pairs = [...generated];
    required.forEach((key, i) => {
      if (!pairs.some(([k]) => k === key)) pairs.push([key, extra[i] as string]);
    });
    return pairs.length === 0
      ? ''
      : `?${pairs.map(([k, v]) => `${sloppyEncode(k)}=${sloppyEncode(v)}`).join('&')}`;
  });
}

/** Junk values. No number in 0..200 000: a valid duration or wait from junk would make a request
 *  hold, and holding is not what this suite is after. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    '',
    ' ',
    '%ZZ',
    '\u0000',
    '💥',
    'a'.repeat(500),
    [],
    {},
    -1,
    0.5,
    1e21,
    -1e21,
  ),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc.integer({ min: 200_001 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
  fc.string({ maxLength: 40 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
);

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) paths.push(...pathsOf(item, [...prefix, i]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

function edit(
  value: unknown,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): unknown {
  const copy: unknown = structuredClone(value);
  if (path.length === 0) return copy;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  change(parent, path.at(-1) as string | number);
  return copy;
}

/** A valid example as it is, or with one value anywhere in it replaced by junk, or removed, or with
 *  a key it does not have, or junk instead of it. */
export function mutations(...examples: unknown[]): fc.Arbitrary<unknown> {
  const example = fc.constantFrom(...examples);
  return fc.oneof(
    { weight: 2, arbitrary: example },
    {
      weight: 6,
      arbitrary: example.chain((value) =>
        fc.tuple(fc.constantFrom(...pathsOf(value)), junk).map(([path, replacement]) =>
          path.length === 0
            ? replacement
            : edit(value, path, (parent, key) => {
                parent[key] = replacement;
              }),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: example.chain((value) =>
        fc
          .constantFrom(...pathsOf(value))
          .map((path) => edit(value, path, (parent, key) => void delete parent[key])),
      ),
    },
    {
      weight: 1,
      arbitrary: example.chain((value) =>
        fc
          .tuple(fc.string({ maxLength: 8 }), junk)
          .map(([key, extra]) =>
            typeof value === 'object' && value !== null && !Array.isArray(value)
              ? { ...value, [key]: extra }
              : value,
          ),
      ),
    },
    { weight: 2, arbitrary: junk },
  );
}

const printable = fc.string({ maxLength: 60 });

/** Headers anybody may send: content types, encodings, and the headers some route reads. */
export const headers: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    fc.option(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/*',
        'garbage',
      ),
    ),
    fc.dictionary(
      fc.constantFrom(
        'idempotency-key',
        'prefer',
        'if-none-match',
        'last-event-id',
        'x-lab-lane',
        'x-lab-run',
        'cookie',
        'authorization',
        'x-request-id',
        'accept',
        'x-forwarded-for',
        'origin',
        'webhook-id',
        'webhook-signature',
      ),
      fc.oneof(
        printable,
        // No valid lab-link id: a link two connections name would let one's PUT close the other.
        fc.constantFrom('respond-async, wait=1', 'W/"x.1"', '*', 'lab-link=short', 'Bearer x', 'text/html'),
      ),
      { maxKeys: 3 },
    ),
  )
  .map(([contentType, rest]) => (contentType ? { 'content-type': contentType, ...rest } : rest));

/** A body: JSON of `payloads`, or text, bytes, too much, or nothing; compressed or not, well or badly. */
export function body(payloads: fc.Arbitrary<unknown>, oversizeBytes: number) {
  const raw: fc.Arbitrary<Buffer | undefined> = fc.oneof(
    { weight: 8, arbitrary: payloads.map((p) => Buffer.from(JSON.stringify(p) ?? 'undefined')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(oversizeBytes, 0x20)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const encoding = fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-zip', 'gzip, br') },
  );
  return fc
    .tuple(raw, encoding, fc.boolean(), fc.boolean())
    .map(([bytes, contentEncoding, wellFormed, chunked]) => {
      const extra: Record<string, string> = {};
      let sent = bytes;
      if (sent !== undefined && contentEncoding !== undefined) {
        extra['content-encoding'] = contentEncoding;
        const compressors: Record<string, (bytes: Buffer) => Buffer> = {
          gzip: gzipSync,
          br: brotliCompressSync,
          deflate: deflateSync,
        };
        const compress = compressors[contentEncoding];
        if (wellFormed && compress) sent = compress(sent);
      }
      if (sent !== undefined) {
        if (chunked) extra['transfer-encoding'] = 'chunked';
        else extra['content-length'] = String(sent.length);
      }
      return { body: sent, headers: extra };
    });
}
