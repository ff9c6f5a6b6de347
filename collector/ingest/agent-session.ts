// One agent connection: the protocol state machine of proto/goalkeeper.proto.
//
//   AWAIT_HELLO --hello ok--> READY --batch--> (validate → handlers.onBatch → Ack | Error) --> READY
//        |                      \--heartbeat--> handlers.onHeartbeat
//        \--hello for another agent / bad version--> Error + close 1008
//
// Messages are handled strictly one at a time, in arrival order: while one is being processed the
// socket is paused (TCP backpressure reaches the agent) and any frame already parsed waits in a small
// inbox. Bad input never throws out of here: it becomes an Error reply plus a counter, and the
// connection stays open (except for the identity failures above, which close it).
import type { WebSocket, RawData } from 'ws';
import {
  decodeAgentMessage,
  encodeCollectorMessage,
  ErrorCode,
  PROTOCOL_VERSION,
  AckStatus,
  type ErrorCodeValue,
  type IHeartbeat,
  type IHello,
} from '../../proto';
import { errorMessage } from '../errors';
import type { AgentIdentity, AgentUpdate, BatchRecord, PutBatchResult } from '../model';
import type { Counter, Logger } from '../obs';
import { LogLimiter } from '../obs';
import { agentMessageBody } from './agent-message';
import { decodeBatch, readBatchHeader, type ValidationLimits } from './validate';

/**
 * uint64 fields of the messages protobufjs decodes here (Heartbeat) arrive as numbers, except that an
 * ABSENT field reads the generated prototype's default, which protobufjs built as a Long object before
 * proto/index.ts switched Long off. Accept both. NaN for anything else and past 2^53.
 */
export function u64(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    const n = (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** How the pipeline answers a batch: exactly one of these, once. */
export interface BatchReply {
  /** only after the batch is durably stored (or recognised as a duplicate) */
  ack(status: PutBatchResult, flowsStored: number): void;
  /** the store failed: nothing stored, no ack; the agent resends later */
  storeFailed(message: string): void;
}

/** What ingest hands on; implemented by pipeline.ts. */
export interface IngestHandlers {
  onHello(update: AgentUpdate): Promise<void>;
  onBatch(batch: BatchRecord, reply: BatchReply): Promise<void>;
  onHeartbeat(update: AgentUpdate): Promise<void>;
}

export interface SessionCounters {
  frames: Counter;
  badFrames: Counter;
  heartbeats: Counter;
  internalErrors: Counter;
}

export interface SessionOptions {
  collectorId: string;
  maxFrameBytes: number;
  limits: ValidationLimits;
  handlers: IngestHandlers;
  counters: SessionCounters;
  log: Logger;
  /** shared across sessions: at most one log line per error code per interval */
  logLimiter: LogLimiter;
  now?: () => number;
}

/** Label of each protocol error in bad_frames_total{code}. */
export const ERROR_CODE_LABELS: Record<number, string> = {
  [ErrorCode.ERROR_CODE_BAD_FRAME]: 'BAD_FRAME',
  [ErrorCode.ERROR_CODE_TEXT_FRAME]: 'TEXT_FRAME',
  [ErrorCode.ERROR_CODE_INVALID_BATCH]: 'INVALID_BATCH',
  [ErrorCode.ERROR_CODE_NO_HELLO]: 'NO_HELLO',
  [ErrorCode.ERROR_CODE_AGENT_MISMATCH]: 'AGENT_MISMATCH',
  [ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION]: 'UNSUPPORTED_VERSION',
  [ErrorCode.ERROR_CODE_STORE_FAILED]: 'STORE_FAILED',
  [ErrorCode.ERROR_CODE_TOO_LARGE]: 'TOO_LARGE',
};

/**
 * Safety net on frames parsed but not yet handled. While a message is handled the socket is paused, so
 * the inbox only holds what ws had already read (one TCP read of small frames, or one frame of at most
 * max_frame_bytes). More than twice max_frame_bytes + 1 MiB means pausing failed; the connection closes.
 */
const INBOX_SLACK_BYTES = 1024 * 1024;

export const CLOSE_POLICY_VIOLATION = 1008;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class AgentSession {
  private bootId: string | null = null;
  private readonly inbox: Array<{ data: Buffer; isBinary: boolean }> = [];
  private inboxBytes = 0;
  private running = false;
  private closed = false;
  private resolveDone!: () => void;
  /** resolves once the socket is closed and no message is being handled */
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly ws: WebSocket, readonly identity: AgentIdentity, private readonly opts: SessionOptions) {
    this.log = opts.log.child({ agent_id: identity.agentId });
    this.now = opts.now ?? (() => Date.now() * 1000);
    ws.on('message', (data, isBinary) => this.enqueue(toBuffer(data), isBinary));
    ws.on('error', (err) => this.onSocketError(err));
    ws.on('close', () => {
      this.closed = true;
      this.inbox.length = 0; // not handled, so not acked: the agent resends them
      this.inboxBytes = 0;
      if (!this.running) this.resolveDone();
    });
  }

  get agentId(): string {
    return this.identity.agentId;
  }

  get helloReceived(): boolean {
    return this.bootId !== null;
  }

  private enqueue(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (this.inboxBytes + data.length > 2 * this.opts.maxFrameBytes + INBOX_SLACK_BYTES) {
      this.protocolError(ErrorCode.ERROR_CODE_TOO_LARGE, 'too many frames queued; slow down');
      this.ws.close(CLOSE_POLICY_VIOLATION, 'inbox full');
      return;
    }
    this.inbox.push({ data, isBinary });
    this.inboxBytes += data.length;
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    this.ws.pause();
    try {
      while (this.inbox.length > 0 && !this.closed) {
        const msg = this.inbox.shift()!;
        this.inboxBytes -= msg.data.length;
        try {
          await this.handle(msg.data, msg.isBinary);
        } catch (err) {
          this.opts.counters.internalErrors.inc({ where: 'agent_session' });
          this.log.error('unexpected error handling an agent message', { err: errorMessage(err), stack: (err as Error)?.stack });
        }
      }
    } finally {
      this.running = false;
      if (this.closed) this.resolveDone();
      else this.ws.resume();
    }
  }

  private send(msg: Parameters<typeof encodeCollectorMessage>[0]): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeCollectorMessage(msg), { binary: true });
  }

  /** Error reply for bad input, counted in bad_frames_total{code}, logged at most once per interval per code. */
  private protocolError(code: ErrorCodeValue, message: string, seq?: number): void {
    const label = ERROR_CODE_LABELS[code] ?? String(code);
    this.opts.counters.badFrames.inc({ code: label });
    const suppressed = this.opts.logLimiter.admit(label);
    if (suppressed !== undefined) this.log.warn('bad frame from agent', { code: label, message, seq, suppressed });
    this.send({ error: { code, message, seq: seq ?? 0 } });
  }

  private onSocketError(err: Error & { code?: string }): void {
    // ws closes the connection itself after a receiver error (1009 for an oversized frame).
    const label = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'TOO_LARGE' : 'WS_PROTOCOL';
    this.opts.counters.badFrames.inc({ code: label });
    const suppressed = this.opts.logLimiter.admit(label);
    if (suppressed !== undefined) {
      this.log.warn('agent connection error; closing it', { code: label, ws_code: err.code, err: err.message, suppressed });
    }
  }

  private async handle(data: Buffer, isBinary: boolean): Promise<void> {
    this.opts.counters.frames.inc();
    if (!isBinary) {
      this.protocolError(ErrorCode.ERROR_CODE_TEXT_FRAME, 'text frames are not part of the protocol; send binary AgentMessage frames');
      return;
    }
    let msg;
    try {
      const body = agentMessageBody(data);
      if (body.batchOnly) return this.onBatch(data, body.start, body.end);
      msg = decodeAgentMessage(data);
    } catch (err) {
      this.protocolError(ErrorCode.ERROR_CODE_BAD_FRAME, `not a decodable AgentMessage: ${errorMessage(err)}`);
      return;
    }
    switch (msg.body) {
      case 'hello':
        return this.onHello(msg.hello!);
      case 'batch': // reached only when another body is set beside the batch
        return this.protocolError(ErrorCode.ERROR_CODE_BAD_FRAME, 'AgentMessage: more than one of hello, batch, heartbeat is set');
      case 'heartbeat':
        return this.onHeartbeat(msg.heartbeat!);
      default:
        this.protocolError(ErrorCode.ERROR_CODE_BAD_FRAME, 'empty AgentMessage: none of hello, batch, heartbeat is set');
    }
  }

  private closeWith(code: ErrorCodeValue, message: string): void {
    this.protocolError(code, message);
    this.ws.close(CLOSE_POLICY_VIOLATION, ERROR_CODE_LABELS[code]);
  }

  private async onHello(h: IHello): Promise<void> {
    if (this.bootId !== null) {
      this.protocolError(ErrorCode.ERROR_CODE_BAD_FRAME, 'hello: already received on this connection');
      return;
    }
    if (h.protocolVersion !== PROTOCOL_VERSION) {
      this.closeWith(ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION, `hello.protocol_version: ${h.protocolVersion ?? 0} is not supported (want ${PROTOCOL_VERSION})`);
      return;
    }
    if (h.agentId !== this.identity.agentId) {
      this.closeWith(
        ErrorCode.ERROR_CODE_AGENT_MISMATCH,
        `hello.agent_id: ${JSON.stringify(h.agentId ?? '')} does not match the credential's agent ${JSON.stringify(this.identity.agentId)}`,
      );
      return;
    }
    if (!h.bootId) {
      this.closeWith(ErrorCode.ERROR_CODE_BAD_FRAME, 'hello.boot_id: empty');
      return;
    }
    this.bootId = h.bootId;
    try {
      await this.opts.handlers.onHello({
        agentId: this.identity.agentId,
        lastSeenUs: this.now(),
        bootId: h.bootId,
        hostname: h.hostname ?? '',
        softwareVersion: h.softwareVersion ?? '',
        source: h.source ?? '',
      });
    } catch (err) {
      this.log.error('cannot record agent hello', { err: errorMessage(err) });
    }
    this.log.info('agent connected', { boot_id: h.bootId, hostname: h.hostname, software_version: h.softwareVersion });
    this.send({
      welcome: {
        protocolVersion: PROTOCOL_VERSION,
        collectorId: this.opts.collectorId,
        maxFrameBytes: this.opts.maxFrameBytes,
        maxFlowsPerBatch: this.opts.limits.maxFlowsPerBatch,
      },
    });
  }

  /** The FlowBatch in data[start, end). */
  private async onBatch(data: Buffer, start: number, end: number): Promise<void> {
    let seq = 0;
    let v;
    try {
      const header = readBatchHeader(data, start, end);
      seq = Number.isNaN(header.seq) ? 0 : header.seq;
      if (this.bootId === null) {
        this.protocolError(ErrorCode.ERROR_CODE_NO_HELLO, 'batch before hello: send Hello first', seq);
        return;
      }
      v = decodeBatch(data, start, end, { agentId: this.identity.agentId, bootId: this.bootId, receivedUs: this.now() }, this.opts.limits, header);
    } catch (err) {
      this.protocolError(ErrorCode.ERROR_CODE_BAD_FRAME, `not a decodable AgentMessage: ${errorMessage(err)}`, seq);
      return;
    }
    if (!v.ok) {
      this.protocolError(ErrorCode.ERROR_CODE_INVALID_BATCH, v.message, seq);
      return;
    }
    const bootId = v.batch.bootId;
    let replied = false;
    await this.opts.handlers.onBatch(v.batch, {
      ack: (status, flowsStored) => {
        if (replied) return;
        replied = true;
        const ackStatus = status === 'stored' ? AckStatus.ACK_STATUS_STORED : AckStatus.ACK_STATUS_DUPLICATE;
        this.send({ ack: { seq, bootId, status: ackStatus, flowsStored } });
      },
      storeFailed: (message) => {
        if (replied) return;
        replied = true;
        this.send({ error: { code: ErrorCode.ERROR_CODE_STORE_FAILED, message, seq } });
      },
    });
  }

  private async onHeartbeat(hb: IHeartbeat): Promise<void> {
    if (this.bootId === null) {
      this.protocolError(ErrorCode.ERROR_CODE_NO_HELLO, 'heartbeat before hello: send Hello first');
      return;
    }
    this.opts.counters.heartbeats.inc();
    const health: Record<string, number> = {
      sent_us: u64(hb.sentUs),
      packets_received: u64(hb.packetsReceived),
      packets_dropped: u64(hb.packetsDropped),
      packets_if_dropped: u64(hb.packetsIfDropped),
      flows_active: hb.flowsActive ?? 0,
      flows_exported: u64(hb.flowsExported),
      flows_dropped: u64(hb.flowsDropped),
      unacked_batches: hb.unackedBatches ?? 0,
      decode_errors: u64(hb.decodeErrors),
      spool_bytes: u64(hb.spoolBytes),
      batches_dropped: u64(hb.batchesDropped),
      spool_torn_tails: u64(hb.spoolTornTails),
      interval_ms: hb.intervalMs ?? 0,
    };
    for (const k of Object.keys(health)) if (Number.isNaN(health[k])) health[k] = -1;
    const softwareVersion = hb.softwareVersion ? hb.softwareVersion.slice(0, 64) : undefined;
    try {
      await this.opts.handlers.onHeartbeat({ agentId: this.identity.agentId, lastSeenUs: this.now(), bootId: this.bootId, softwareVersion, health });
    } catch (err) {
      this.log.error('cannot record agent heartbeat', { err: errorMessage(err) });
    }
  }
}
