// Delivers encoded batches to the collector over one WebSocket and keeps every batch until the
// collector acknowledges it as stored. On any disconnect the unacknowledged batches are sent again,
// in order, after reconnecting; the collector recognises repeats by (agent, boot, seq), so each
// batch is stored exactly once. Memory is bounded by max_queue_bytes: a capture file is paused
// through gate(); a live capture that outruns the collector drops the oldest waiting batch and counts it.
import WebSocket from 'ws';
import {
  AckStatus, decodeCollectorMessage, encodeAgentMessage, ErrorCode,
  type IHeartbeat, type IHello,
} from '../../proto';
import { AgentError, AgentErrorCode } from '../errors';
import type { EncodedBatch } from '../export/batcher';
import { Backoff } from './backoff';
import { tlsFailure, type ClientTlsOptions } from './tls-options';

export interface SenderOptions {
  readonly url: string;
  readonly token: string;
  readonly hello: IHello;
  readonly maxQueueBytes: number;
  /** Batches in flight (sent, not yet acknowledged) at most. */
  readonly windowBatches: number;
  readonly connectTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly pingIntervalMs: number;
  /** wss:// trust and client certificate (tls-options.ts) */
  readonly tls?: ClientTlsOptions;
}

export interface SenderEvents {
  /** A connection attempt failed or a connection dropped; the sender retries by itself. */
  onTrouble(err: AgentError, retryInMs: number): void;
  onConnected(): void;
}

interface Queued {
  batch: EncodedBatch;
  /** On the current connection, waiting for its ack. */
  sent: boolean;
  /** Times sent, over all connections. */
  sends: number;
}

export class Sender {
  readonly counters = {
    batchesSent: 0,
    batchesResent: 0,
    batchesAcked: 0,
    batchesDuplicate: 0,
    batchesRejected: 0,
    flowsAcked: 0,
    flowsDropped: 0,
    connects: 0,
    disconnects: 0,
  };

  private readonly queue: Queued[] = [];
  private queueBytes = 0;
  private inFlight = 0;
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private spaceWaiters: Array<() => void> = [];
  private emptyWaiters: Array<() => void> = [];
  lastError: AgentError | null = null;

  constructor(private readonly opts: SenderOptions, private readonly events: SenderEvents) {
    this.backoff = new Backoff(opts.backoffInitialMs, opts.backoffMaxMs);
  }

  get queuedBatches(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queueBytes;
  }

  start(): void {
    this.connect();
  }

  enqueue(batch: EncodedBatch): void {
    // Live traffic cannot be paused: past the bound the oldest unsent batch gives way, counted.
    while (this.queueBytes + batch.bytes.length > this.opts.maxQueueBytes) {
      const victim = this.queue.findIndex((q) => !q.sent);
      if (victim < 0) break;
      const [dropped] = this.queue.splice(victim, 1);
      this.queueBytes -= dropped.batch.bytes.length;
      this.counters.flowsDropped += dropped.batch.flows;
    }
    this.queue.push({ batch, sent: false, sends: 0 });
    this.queueBytes += batch.bytes.length;
    this.pump();
  }

  /** For sources that can wait: null when there is room, else a promise that resolves when half the queue is free. */
  gate(): Promise<void> | null {
    if (this.queueBytes < this.opts.maxQueueBytes / 2) return null;
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Resolves true once every queued batch is acknowledged, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0) return Promise.resolve(true);
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
    this.ready = false;
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
      for (const q of this.queue) q.sent = false;
      this.inFlight = 0;
      if (wasReady) this.counters.disconnects++;
      if (this.stopped) return;
      const err = failure ?? new AgentError(AgentErrorCode.COLLECTOR_UNREACHABLE,
        `connection to the collector at ${this.opts.url} closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      this.lastError = err;
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
      return; // a collector speaking garbage gets no say over our queue
    }
    if (msg.welcome) {
      this.ready = true;
      this.backoff.reset();
      this.lastError = null;
      this.startPing();
      this.events.onConnected();
      this.pump();
    } else if (msg.ack) {
      this.acknowledge(Number(msg.ack.seq), msg.ack.status ?? AckStatus.ACK_STATUS_STORED);
    } else if (msg.error) {
      const code = msg.error.code;
      if (code === ErrorCode.ERROR_CODE_INVALID_BATCH) {
        // The collector will never take this batch: keeping it would block the queue forever.
        this.counters.batchesRejected++;
        this.remove(Number(msg.error.seq), true);
      } else if (code === ErrorCode.ERROR_CODE_AGENT_MISMATCH || code === ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION) {
        this.events.onTrouble(new AgentError(AgentErrorCode.COLLECTOR_REJECTED,
          `collector refused this agent: ${msg.error.message}`), this.opts.backoffMaxMs);
      }
      // STORE_FAILED and the rest: the batch stays queued and goes again after the next reconnect.
    }
  }

  private acknowledge(seq: number, status: number): void {
    if (status === AckStatus.ACK_STATUS_DUPLICATE) this.counters.batchesDuplicate++;
    this.remove(seq, false);
  }

  private remove(seq: number, rejected: boolean): void {
    const i = this.queue.findIndex((q) => q.batch.seq === seq);
    if (i < 0) return;
    const [q] = this.queue.splice(i, 1);
    this.queueBytes -= q.batch.bytes.length;
    if (q.sent) this.inFlight--;
    if (rejected) {
      this.counters.flowsDropped += q.batch.flows;
    } else {
      this.counters.batchesAcked++;
      this.counters.flowsAcked += q.batch.flows;
    }
    if (this.queueBytes < this.opts.maxQueueBytes / 2 && this.spaceWaiters.length > 0) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
    if (this.queue.length === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private pump(): void {
    const ws = this.ws;
    if (!this.ready || !ws) return;
    for (const q of this.queue) {
      if (this.inFlight >= this.opts.windowBatches) break;
      if (q.sent) continue;
      q.sent = true;
      this.inFlight++;
      this.counters.batchesSent++;
      if (q.sends++ > 0) this.counters.batchesResent++;
      ws.send(q.batch.bytes);
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
