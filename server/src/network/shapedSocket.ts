import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { LinkShaper } from './shaper.ts';
import { ShapedPipe } from './shaper.ts';

/** Bytes one direction of one connection may hold in the shaper before its source is held back:
 *  the real socket paused (inbound), or the writer's callback withheld (outbound). */
export const QUEUE_BOUND_BYTES = 256 * 1024;

export interface ShapedSocketOptions {
  /**
   * `accepted`: a connection the page opened to us (its inbound bytes travel `up`, a SYN round trip
   * comes before its first byte). `outgoing`: a connection this server opened (a webhook attempt:
   * what it writes travels `down`, towards the page's side, and it may send only after the SYN
   * round trip).
   */
  role: 'accepted' | 'outgoing';
  /** Bytes already read off the real socket (the intake's request head): delivered first. */
  head?: Buffer;
  /** Link time the connection began (accept, or the start of the connect). */
  openedAt: number;
}

/**
 * A net.Socket look-alike that carries a real socket's bytes through a link's shaper, both ways: what
 * the HTTP server, express, engine.io's `ws`, better-sse and the wire ledger use of a socket is here,
 * delegated to the real socket where it is about the connection (addresses, timeouts, Nagle).
 *
 * `bytesRead` counts the bytes delivered to the reader, `bytesWritten` the bytes the writer handed
 * in: each crossed (or will cross) the real socket exactly once, so the wire ledger's counts through
 * a shaped connection equal a TCP proxy's. Like net.Socket's, `bytesWritten` includes bytes still
 * queued; a connection destroyed with bytes queued counts them as written.
 */
export class ShapedSocket extends Duplex {
  readonly real: Socket;
  readonly link: LinkShaper;
  /** Set by net.Server on the sockets it accepts; node:http's error handler reads it. */
  server: unknown;
  _server: unknown;
  private readonly inbound: ShapedPipe;
  private readonly outbound: ShapedPipe;
  private delivered = 0;
  private accepted = 0;
  private realPaused = false;
  private realClosed = false;
  private realEnded = false;
  private realError: Error | undefined;
  private heldWrite: ((error?: Error | null) => void) | undefined;
  private heldFinal: ((error?: Error | null) => void) | undefined;

  constructor(real: Socket, link: LinkShaper, options: ShapedSocketOptions) {
    // Half-open is handled here: the reader's end is delivered after its latency, and the writer
    // ends (allowHalfOpen false, as node:http and ws expect of a socket) once its own end is shaped.
    super({ allowHalfOpen: false });
    this.real = real;
    this.link = link;
    const realWithServer = real as Socket & { server?: unknown; _server?: unknown };
    this.server = realWithServer.server;
    this._server = realWithServer._server;
    // The SYN / SYN-ACK round trip: an accepted connection's client could send its first byte, and
    // this server's outgoing one could, only two one-way latencies after the connection began.
    const handshakeDone = options.openedAt + 2 * link.profile.latencyMs;
    this.inbound = new ShapedPipe(
      link,
      'up',
      (data) => this.deliverIn(data),
      options.role === 'accepted' ? handshakeDone : Number.NEGATIVE_INFINITY,
    );
    this.outbound = new ShapedPipe(
      link,
      'down',
      (data) => this.deliverOut(data),
      options.role === 'outgoing' ? handshakeDone : Number.NEGATIVE_INFINITY,
    );

    // The real socket must outlive the client's FIN until what it sent before has been delivered and
    // our answer has gone out through the shaper: the FIN is shaped like any byte.
    real.allowHalfOpen = true;
    if (options.head && options.head.length > 0) this.inbound.write(options.head);
    real.on('data', (chunk: Buffer) => {
      this.inbound.write(chunk);
      this.holdBackReal();
    });
    real.on('end', () => this.inbound.end());
    real.on('error', (error) => {
      this.realError = error;
    });
    real.on('close', (hadError) => this.onRealClose(hadError));
    real.on('timeout', () => this.emit('timeout'));
    real.on('connect', () => {
      this.emit('connect');
      this.emit('ready');
    });
    real.resume();
  }

  // --- what node:http, ws, better-sse, pino-http and the ledger read of a socket ---

  get bytesRead(): number {
    return this.delivered;
  }
  get bytesWritten(): number {
    return this.accepted;
  }
  get remoteAddress(): string | undefined {
    return this.real.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.real.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.real.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.real.localAddress;
  }
  get localPort(): number | undefined {
    return this.real.localPort;
  }
  get localFamily(): string | undefined {
    return this.real.localFamily;
  }
  get connecting(): boolean {
    return this.real.connecting;
  }
  get pending(): boolean {
    return this.real.pending;
  }
  get timeout(): number | undefined {
    return this.real.timeout;
  }
  get readyState(): Socket['readyState'] {
    if (this.real.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }
  /** Not TLS: the lab's listeners are plain HTTP (express reads this for req.protocol). */
  readonly encrypted = undefined;

  address(): AddressInfo | object {
    return this.real.address();
  }
  /** The idle timeout is the real connection's (any byte across it resets it), as the HTTP server's
   *  keep-alive and headers timeouts expect. */
  setTimeout(ms: number, callback?: () => void): this {
    this.real.setTimeout(ms);
    if (callback) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.real.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, initialDelayMs?: number): this {
    this.real.setKeepAlive(enable, initialDelayMs);
    return this;
  }
  ref(): this {
    this.real.ref();
    return this;
  }
  unref(): this {
    this.real.unref();
    return this;
  }
  /** net.Socket's: end, then destroy once everything was written (node:http calls it after an
   *  answer with `Connection: close`). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  // --- the stream ---

  override _read(): void {
    this.releaseReal();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.realClosed) {
      callback();
      return;
    }
    this.accepted += chunk.length;
    this.outbound.write(chunk);
    if (this.outbound.queuedBytes > QUEUE_BOUND_BYTES) this.heldWrite = callback;
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.realClosed) {
      callback();
      return;
    }
    // Finished once the end has been shaped and handed to the real socket, not before: a
    // destroySoon() would otherwise cut what is still queued.
    this.heldFinal = callback;
    this.outbound.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inbound.close();
    this.outbound.close();
    this.heldWrite = undefined;
    this.heldFinal = undefined;
    // A real socket we ended cleanly closes by itself once the peer has ended too (destroying it now
    // could cut bytes the kernel has not taken yet); any other is destroyed with us.
    if (!this.realEnded || error) this.real.destroy();
    callback(error);
  }

  private deliverIn(data: Buffer | null): void {
    if (this.destroyed) return;
    if (data === null) this.push(null);
    else {
      this.delivered += data.length;
      this.push(data);
    }
    if (this.realClosed && this.inbound.idle) {
      // Let 'end' be emitted before the close.
      setImmediate(() => this.destroy());
      return;
    }
    this.releaseReal();
  }

  private deliverOut(data: Buffer | null): void {
    if (this.realClosed) return;
    if (data === null) {
      this.realEnded = true;
      this.real.end();
      const final = this.heldFinal;
      this.heldFinal = undefined;
      final?.();
      return;
    }
    this.real.write(data);
    if (this.heldWrite && this.outbound.queuedBytes <= QUEUE_BOUND_BYTES) {
      const write = this.heldWrite;
      this.heldWrite = undefined;
      write();
    }
  }

  /** Pauses the real socket while this direction holds more than its bound (shaper + unread). */
  private holdBackReal(): void {
    if (this.realPaused) return;
    if (this.inbound.queuedBytes + this.readableLength > QUEUE_BOUND_BYTES) {
      this.realPaused = true;
      this.real.pause();
    }
  }

  private releaseReal(): void {
    if (!this.realPaused || this.realClosed) return;
    if (this.inbound.queuedBytes + this.readableLength <= QUEUE_BOUND_BYTES / 2) {
      this.realPaused = false;
      this.real.resume();
    }
  }

  private onRealClose(hadError: boolean): void {
    this.realClosed = true;
    // Nothing can be sent any more: what was queued outbound is dropped (already counted as
    // written, as net.Socket counts queued bytes), and a withheld writer is let go.
    this.outbound.close();
    const write = this.heldWrite;
    const final = this.heldFinal;
    this.heldWrite = undefined;
    this.heldFinal = undefined;
    write?.();
    final?.();
    if (hadError || this.inbound.idle) {
      const error = hadError && this.listenerCount('error') > 0 ? this.realError : undefined;
      this.destroy(error);
    }
    // else: the inbound bytes still in flight are delivered first, then deliverIn destroys.
  }
}
