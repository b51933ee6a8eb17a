import { randomUUID } from 'node:crypto';
import {
  type AddressInfo,
  connect as connectTcp,
  createServer as createNetServer,
  type Socket,
} from 'node:net';
import { API_PATHS, type LabTag, labTagQuery, type RunId, SSE, WireReport } from '@transport-lab/shared';
import { createParser } from 'eventsource-parser';

/** A fresh run id, as the page would make one per race. */
export function newRunId(): RunId {
  return `run_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export interface ProxyCount {
  /** Bytes the client side sent through (client → server). */
  up: number;
  /** Bytes the server side sent through (server → client). */
  down: number;
}

/**
 * A TCP proxy that counts what passes: the independent count the server's ledger is checked
 * against. Half-closes pass through (allowHalfOpen), so no byte in flight is lost when one side
 * ends first; bytes are counted as each side sends them, before they are forwarded.
 */
export interface CountingProxy extends ProxyCount {
  port: number;
  origin: string;
  /** TCP connections accepted, in order, each with its own count. */
  connections: ProxyConnection[];
  /** Connections not yet closed on both legs. */
  open: number;
  /** Connections that carried bytes. A client may open one it never uses (undici does, after an
   *  aborted stream): the server sees no request on it, so no lane can count it. */
  used(): ProxyConnection[];
  /** The most used connections open at once. */
  maxOpenUsed(): number;
  snapshot(): ProxyCount;
  close(): Promise<void>;
}

export interface ProxyConnection extends ProxyCount {
  closed: boolean;
}

export async function startCountingProxy(targetPort: number, host = '127.0.0.1'): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  /** Opens and closes in the order they happened, to find the most open at once afterwards. */
  const timeline: Array<{ connection: ProxyConnection; opened: boolean }> = [];
  const server = createNetServer({ allowHalfOpen: true }, (downstream) => {
    const connection: ProxyConnection = { up: 0, down: 0, closed: false };
    proxy.connections.push(connection);
    timeline.push({ connection, opened: true });
    proxy.open++;
    const upstream = connectTcp({ port: targetPort, host, allowHalfOpen: true });
    let legsClosed = 0;
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        downstream.destroy();
        upstream.destroy();
      });
      socket.on('close', () => {
        sockets.delete(socket);
        legsClosed++;
        if (legsClosed < 2) return;
        connection.closed = true;
        timeline.push({ connection, opened: false });
        proxy.open--;
      });
    }
    downstream.on('data', (chunk: Buffer) => {
      proxy.up += chunk.length;
      connection.up += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      proxy.down += chunk.length;
      connection.down += chunk.length;
    });
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const isUsed = (c: ProxyConnection) => c.up > 0 || c.down > 0;
  const proxy: CountingProxy = {
    port,
    origin: `http://${host}:${port}`,
    up: 0,
    down: 0,
    connections: [],
    open: 0,
    used: () => proxy.connections.filter(isUsed),
    maxOpenUsed() {
      let open = 0;
      let max = 0;
      for (const { connection, opened } of timeline) {
        if (!isUsed(connection)) continue;
        open += opened ? 1 : -1;
        max = Math.max(max, open);
      }
      return max;
    },
    snapshot: () => ({ up: proxy.up, down: proxy.down }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/**
 * Polls until `predicate` holds: a bounded poll on an observable condition (a socket's close is
 * seen by the server and the proxy at their own moments; there is no event to wait on across both).
 */
export async function until<T>(
  read: () => T | Promise<T>,
  predicate: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting until ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `GET /api/wire/{runId}` read directly (not through a proxy): status and parsed report. */
export async function readWire(
  baseUrl: string,
  runId: string,
): Promise<{ status: number; report?: WireReport; body: unknown }> {
  const res = await fetch(`${baseUrl}${API_PATHS.wire(runId)}`);
  const body: unknown = await res.json();
  return res.status === 200
    ? { status: 200, report: WireReport.parse(body), body }
    : { status: res.status, body };
}

/**
 * The report once nothing of the run is in flight (its counts are final), and with
 * `connectionsClosed` once none of its connections is open either.
 */
export async function settledReport(
  baseUrl: string,
  runId: string,
  { connectionsClosed = false } = {},
): Promise<WireReport> {
  const { report } = await until(
    () => readWire(baseUrl, runId),
    ({ report }) =>
      report !== undefined &&
      report.openStreams === 0 &&
      (!connectionsClosed ||
        Object.values(report.lanes).every(
          (c) => c.openConnections === 0 && c.receiverToPage.openConnections === 0,
        )),
    connectionsClosed ? `run ${runId} has no open stream or connection` : `run ${runId} has no open stream`,
  );
  return report as WireReport;
}

/** A URL with the lane's tags in its query, as EventSource (which cannot set headers) sends them. */
export function taggedUrl(url: string, tag: LabTag, query: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...query, ...labTagQuery(tag) });
  return `${url}${url.includes('?') ? '&' : '?'}${params}`;
}

/**
 * Reads a Server-Sent Events stream with fetch until the server ends it, or until `stop` holds for
 * the data so far (then the connection is cut, as a page closing its EventSource does).
 */
export async function readEventStream(
  url: string,
  stop: (data: string[]) => boolean = () => false,
  /** Request headers: `Last-Event-ID` to resume, as EventSource does on its reconnect. */
  headers: Record<string, string> = {},
): Promise<{ status: number; data: string[]; endedByServer: boolean }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal, headers });
  const data: string[] = [];
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { status: res.status, data, endedByServer: true };
  }
  let stopped = false;
  const parser = createParser({
    onEvent(message) {
      if (message.event === SSE.wireEvent) return; // the stream's own wire report
      data.push(message.data);
      if (!stopped && stop(data)) stopped = true;
    },
  });
  const decoder = new TextDecoder();
  // Leaving the loop cancels the body and closes the connection, as a page closing its EventSource
  // does; aborting the fetch instead can hang undici when the server has just ended the answer.
  let endedByServer = true;
  for await (const chunk of res.body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (stopped) {
      endedByServer = false;
      break;
    }
  }
  return { status: res.status, data, endedByServer };
}

/** Sum of the series of a Prometheus metric whose labels include all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
