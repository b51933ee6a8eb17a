import { IncomingMessage, ServerResponse } from 'node:http';
import {
  Connection,
  createSession,
  type DefaultSessionState,
  type Session,
  type SessionOptions,
} from 'better-sse';

type Headers = Record<string, string | string[] | undefined>;

/**
 * better-sse's session on a node:http request, through a `Connection` of our own (the library's
 * documented way to adapt it, `Connection`'s doc comment).
 *
 * better-sse's own `NodeHttp1Connection` copies every request header into a Fetch `Request` and the
 * answer's into a Fetch `Response` (undici's classes) at each stream's start, for a session that on
 * node:http reads two things of them: the request's `Last-Event-ID` (only when it trusts the client's
 * id) and an abort signal. In a hall's start burst that copy was ≈ 0.5 ms of CPU per stream opened
 * (`NodeHttp1Connection` 105 ms inclusive for 200 streams, 3.6 % of the burst's profile;
 * docs/benchmarks.md). This one answers those reads from node's own objects, and builds the Fetch
 * `Response` only if something asks for it (`session.getResponse()`).
 *
 * The head is the library's: its default SSE headers, under those already set on `res` (the request
 * id, CORS), under the session's `headers` option (`undefined` removes one).
 */
class NodeSseConnection extends Connection {
  readonly url: URL;
  /** What Session reads of the request, and all it has: `headers.get` and `signal` (nothing here
   *  calls `session.getRequest()`). */
  readonly request: Request;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #headers: Headers;
  readonly #status: number;
  readonly #controller = new AbortController();
  #response?: Response;

  constructor(req: IncomingMessage, res: ServerResponse, headers: Headers = {}, status?: number) {
    super();
    this.#req = req;
    this.#res = res;
    this.#headers = headers;
    this.#status = status ?? res.statusCode ?? Connection.constants.RESPONSE_CODE;
    // Each event is one small write, sent at once (as better-sse's own connection does).
    req.socket?.setNoDelay?.(true);
    this.url = new URL(req.url ?? '/', 'http://localhost');
    const lean = {
      signal: this.#controller.signal,
      headers: {
        get(name: string): string | null {
          const value = req.headers[name.toLowerCase()];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        },
      },
    };
    this.request = lean as unknown as Request;
    req.once('close', this.#onClose);
    res.once('close', this.#onClose);
  }

  /** The answer as a Fetch Response, built only when asked (the head is written from `res` itself). */
  get response(): Response {
    if (!this.#response) {
      const response = new Response(null, {
        status: this.#status,
        headers: Connection.constants.RESPONSE_HEADERS,
      });
      Connection.applyHeaders(this.#res.getHeaders() as Headers, response.headers);
      Connection.applyHeaders(this.#headers, response.headers);
      this.#response = response;
    }
    return this.#response;
  }

  #onClose = () => {
    this.#controller.abort();
  };

  sendHead = () => {
    const res = this.#res;
    for (const [name, value] of Object.entries(Connection.constants.RESPONSE_HEADERS)) {
      if (!res.hasHeader(name)) res.setHeader(name, value);
    }
    for (const [name, value] of Object.entries(this.#headers)) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    res.writeHead(this.#status);
  };

  sendChunk = (chunk: string) => {
    this.#res.write(chunk);
  };

  cleanup = () => {
    this.#req.removeListener('close', this.#onClose);
    this.#res.removeListener('close', this.#onClose);
  };
}

/** `createSession(req, res, options)`, on the lean connection above for node:http's HTTP/1 objects;
 *  anything else (HTTP/2's compatibility objects) goes to better-sse's own adapters. */
export function openSseSession<State = DefaultSessionState>(
  req: IncomingMessage,
  res: ServerResponse,
  options: SessionOptions<State> = {},
): Promise<Session<State>> {
  if (!(req instanceof IncomingMessage) || !(res instanceof ServerResponse))
    return createSession(req, res, options);
  const { headers, statusCode, ...sessionOptions } = options;
  return createSession<State>(new NodeSseConnection(req, res, headers, statusCode), sessionOptions);
}
