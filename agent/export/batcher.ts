// Groups exported flows into sequence-numbered protobuf batches: by count, or by time for the rest.
import type { IFlowRecord } from '../../proto';
import { BatchEncoder } from './batch-encoder';

export interface EncodedBatch {
  readonly seq: number;
  readonly bootId: string;
  /** valid only during the sink call (the encoder's buffer, reused for the next batch): copy to keep */
  readonly bytes: Uint8Array;
  readonly flows: number;
}

export interface BatcherOptions {
  readonly bootId: string;
  readonly maxFlowsPerBatch: number;
  readonly flushIntervalMs: number;
}

export class Batcher {
  private pending: IFlowRecord[] = [];
  private nextSeq = 1;
  private timer: NodeJS.Timeout | null = null;
  private readonly encoder = new BatchEncoder();

  constructor(private readonly opts: BatcherOptions, private readonly sink: (batch: EncodedBatch) => void) {}

  /** Flush partial batches every flushIntervalMs so a quiet network still reports promptly. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  add(record: IFlowRecord): void {
    this.pending.push(record);
    if (this.pending.length >= this.opts.maxFlowsPerBatch) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const flows = this.pending;
    this.pending = [];
    const seq = this.nextSeq++;
    const bytes = this.encoder.encode(seq, this.opts.bootId, Date.now() * 1000, flows);
    this.sink({ seq, bootId: this.opts.bootId, bytes, flows: flows.length });
  }
}
