// Delivers the batches of the disk spool to the collector over one WebSocket. A batch leaves the
// spool only when the collector acknowledges it as stored; on any disconnect the batches not yet
// acknowledged are sent again, in order, after reconnecting, with the (boot id, seq) they were
// spooled with, even by a later run of the agent: the collector recognises repeats by
// (agent, boot, seq), so each batch is stored exactly once. Memory holds at most window_batches
// batches on the wire; everything else waits on disk.
import WebSocket from 'ws';
import {
  AckStatus, decodeCollectorMessage, encodeAgentMessage, ErrorCode,
  type IHeartbeat, type IHello,
} from '../../proto';
import { AgentError, AgentErrorCode } from '../errors';
import type { EncodedBatch } from '../export/batcher';
import { Backoff } from './backoff';
import { tlsFailure, type ClientTlsOptions } from './tls-options';
import type { Spool, SpoolRecord } from './spool';

export interface SenderOptions {
  readonly url: string;
  readonly token: string;
  readonly hello: IHello;
  /** Batches in flight (sent, not yet acknowledged) at most. */
  readonly windowBatches: number;
  readonly connectTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** A collector that has not answered a ping by the next one is dropped: half-open seen within 2 intervals. */
  readonly pingIntervalMs: number;
  /** wss:// trust and client certificate (tls-options.ts) */
  readonly tls?: ClientTlsOptions;
}

export interface SenderEvents {
  /** A connection attempt failed or a connection dropped; the sender retries by itself. */
  onTrouble(err: AgentError, retryInMs: number): void;
  onConnected(): void;
  /** A ready connection ended (closed, or dropped for a missed pong); once per connection. */
  onDisconnected(err: AgentError): void;
}

function batchKey(bootId: string, seq: number): string {
  return `${bootId}/${seq}`;
}

export class Sender {
  readonly counters = {
    batchesSent: 0,
    batchesResent: 0,
    batchesAcked: 0,
    batchesDuplicate: 0,
    batchesRejected: 0,
    flowsAcked: 0,
    connects: 0,
    disconnects: 0,
  };

  /** Sent on this connection and not yet answered, in sending order, by (boot id, seq). */
  private readonly inFlight = new Map<string, SpoolRecord>();
  /** Spool id of the last record sent on this connection: the next one sent comes after it. */
  private lastSentId = 0;
  /** Highest spool id ever sent by this process: sending one at or below it again is a resend. */
  private highestSentId = 0;
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private emptyWaiters: Array<() => void> = [];
  lastError: AgentError | null = null;

  constructor(private readonly opts: SenderOptions, private readonly spool: Spool, private readonly events: SenderEvents) {
    this.backoff = new Backoff(opts.backoffInitialMs, opts.backoffMaxMs);
  }

  /** Batches not yet acknowledged, on disk (this run's and any earlier run's). */
  get queuedBatches(): number {
    return this.spool.pendingBatches;
  }

  get queuedBytes(): number {
    return this.spool.bytes;
  }

  start(): void {
    this.connect();
  }

  /** Spools a batch (full policy and drop counting are the spool's) and sends it when the window allows. */
  enqueue(batch: EncodedBatch): void {
    this.spool.append(batch.seq, batch.bootId, batch.flows, batch.bytes);
    this.pump();
  }

  /** For sources that can wait: null when the spool has room, else a promise that resolves when it has. */
  gate(): Promise<void> | null {
    return this.spool.gate();
  }

  /** Resolves true once every spooled batch is acknowledged, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.spool.pendingBatches === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.emptyWaiters = this.emptyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.emptyWaiters.push(done);
    });
  }

  sendHeartbeat(hb: IHeartbeat): void {
    if (this.ready && this.ws) this.ws.send(encodeAgentMessage({ heartbeat: hb }));
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = this.pingTimer = null;
    if (this.ws) {
      this.ws.removeAllListeners();
      this.ws.on('error', () => {});
      this.ws.close(1001, 'agent stopping');
      this.ws = null;
    }
    this.forgetInFlight();
    this.ready = false;
  }

  /** The connection is gone: what was on the wire is unanswered and goes again on the next one. */
  private forgetInFlight(): void {
    this.inFlight.clear();
    this.lastSentId = 0;
  }

  private connect(): void {
    if (this.stopped) return;
    this.counters.connects++;
    const ws = new WebSocket(this.opts.url, {
      headers: { Authorization: `Bearer ${this.opts.token}` },
      handshakeTimeout: this.opts.connectTimeoutMs,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      ...this.opts.tls,
    });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    let failure: AgentError | null = null;

    ws.on('unexpected-response', (_req, res) => {
      const code = res.statusCode === 401 || res.statusCode === 403
        ? AgentErrorCode.COLLECTOR_REJECTED : AgentErrorCode.COLLECTOR_UNREACHABLE;
      failure = new AgentError(code, `collector at ${this.opts.url} refused the connection: HTTP ${res.statusCode}${
        code === AgentErrorCode.COLLECTOR_REJECTED ? ' (is the agent token right?)' : ''}`);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.send(encodeAgentMessage({ hello: this.opts.hello }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      this.onMessage(data);
    });
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= tlsFailure(err, this.opts.url) ?? new AgentError(AgentErrorCode.COLLECTOR_UNREACHABLE,
        `cannot reach the collector at ${this.opts.url}: ${err.code ?? err.message}`, { cause: err });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasReady = this.ready;
      this.ready = false;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      this.forgetInFlight();
      if (wasReady) this.counters.disconnects++;
      if (this.stopped) return;
      const err = failure ?? new AgentError(AgentErrorCode.COLLECTOR_UNREACHABLE,
        `connection to the collector at ${this.opts.url} closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      this.lastError = err;
      if (wasReady) this.events.onDisconnected(err);
      const delay = this.backoff.next();
      this.events.onTrouble(err, delay);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delay);
    });
  }

  private onMessage(data: Buffer): void {
    let msg;
    try {
      msg = decodeCollectorMessage(data);
    } catch {
      return; // a collector speaking garbage gets no say over our spool
    }
    if (msg.welcome) {
      this.ready = true;
      this.backoff.reset();
      this.lastError = null;
      this.startPing();
      this.events.onConnected();
      this.pump();
    } else if (msg.ack) {
      const r = this.inFlight.get(batchKey(msg.ack.bootId ?? '', Number(msg.ack.seq)));
      if (!r) return; // an answer to an earlier connection's send, or to a batch dropped since
      if (msg.ack.status === AckStatus.ACK_STATUS_DUPLICATE) this.counters.batchesDuplicate++;
      this.counters.batchesAcked++;
      this.counters.flowsAcked += r.flows;
      this.settle(r, false);
    } else if (msg.error) {
      const code = msg.error.code;
      if (code === ErrorCode.ERROR_CODE_INVALID_BATCH) {
        // The collector will never take this batch: keeping it would block the spool forever. Errors
        // name only the seq; answers come in sending order, so the oldest batch in flight with it is meant.
        const seq = Number(msg.error.seq);
        const r = [...this.inFlight.values()].find((x) => x.seq === seq);
        if (!r) return;
        this.counters.batchesRejected++;
        this.settle(r, true);
      } else if (code === ErrorCode.ERROR_CODE_AGENT_MISMATCH || code === ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION) {
        this.events.onTrouble(new AgentError(AgentErrorCode.COLLECTOR_REJECTED,
          `collector refused this agent: ${msg.error.message}`), this.opts.backoffMaxMs);
      }
      // STORE_FAILED and the rest: the batch stays spooled and goes again after the next reconnect.
    }
  }

  private settle(r: SpoolRecord, rejected: boolean): void {
    this.inFlight.delete(batchKey(r.bootId, r.seq));
    if (rejected) this.spool.reject(r);
    else this.spool.ack(r);
    if (this.spool.pendingBatches === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private pump(): void {
    const ws = this.ws;
    if (!this.ready || !ws) return;
    while (this.inFlight.size < this.opts.windowBatches) {
      const r = this.spool.next(this.lastSentId);
      if (!r) break;
      this.lastSentId = r.id;
      let bytes: Buffer;
      try {
        bytes = this.spool.read(r);
      } catch (err) {
        // The index says a record is there but the file lost it (deleted or cut by someone else).
        this.lastError = err as AgentError;
        this.spool.reject(r);
        continue;
      }
      r.sent = true;
      this.inFlight.set(batchKey(r.bootId, r.seq), r);
      this.counters.batchesSent++;
      if (r.id <= this.highestSentId) this.counters.batchesResent++;
      else this.highestSentId = r.id;
      // bytes is the spool's read buffer, reused by the next read. ws (permessage-deflate off, as set
      // in connect()) frames in send() itself, masking a client's Buffer into a copy, never in place:
      // bytes is free again once send() returns. Tested: batches sent in one pump arrive intact.
      ws.send(bytes);
    }
  }

  /** A collector that stops answering pings is dropped, so a half-open connection cannot hold the queue. */
  private startPing(): void {
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (this.awaitingPong) {
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.opts.pingIntervalMs);
    this.pingTimer.unref();
  }
}
