// File outputs (--jsonl, --csv) written by a worker thread: the flow table's export handler copies a
// flow's rows into a batch (no record built on the capture thread), and full batches are posted to
// output-worker.ts. Building and formatting records took about half of the offline meter's time and,
// live, would stall capture during a burst of expiring flows. stdout ('-') stays on the main thread.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AgentError, AgentErrorCode } from '../errors';
import type { FlowSlots } from '../flow/flow-slots';
import { RowBatch, type RowBatchMessage } from './row-batch';

export interface OutputTarget {
  readonly path: string;
  readonly format: 'jsonl' | 'csv';
}

export type WorkerRequest = { type: 'rows'; batch: RowBatchMessage } | { type: 'close' };
/** 'written' hands the batch's arrays back, to be filled again (fresh arrays per batch cost page faults and zeroing). */
export type WorkerReply = { type: 'written'; records: number; batch: RowBatchMessage } | { type: 'closed' } | { type: 'error'; message: string };

/**
 * Rows per batch. Each post and its reply cost the capture thread about half a millisecond (measured
 * on the offline benchmark: 0.3 s of CPU for 435 batches of 256 rows), so batches are large, and a
 * timer posts a batch that is not full within FLUSH_MS (a live capture's records are not held back).
 */
const BATCH_ROWS = 1024;
const FLUSH_MS = 1000;
/** Batches posted and not yet written: beyond this the file source waits (gate). */
const MAX_IN_FLIGHT = 8;

/** The worker's entry: the compiled .js next to this file, or the TypeScript source under tsx. */
function workerEntry(): { entry: string; compiled: boolean } {
  const compiled = __filename.endsWith('.js');
  return { entry: join(__dirname, compiled ? 'output-worker.js' : 'output-worker.ts'), compiled };
}

function startWorker(targets: readonly OutputTarget[]): Worker {
  const { entry, compiled } = workerEntry();
  const workerData = { targets };
  return compiled
    ? new Worker(entry, { workerData })
    : new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData });
}

export class OutputOffload {
  /**
   * Whether to write files from a worker: not with a single CPU to run on (the worker would only compete
   * with capture: measured 262k against 287k packets/s live, pinned to one CPU), nor in a single-file
   * build (the packaged agent), which has no worker entry beside it.
   */
  static supported(): boolean {
    return availableParallelism() > 1 && existsSync(workerEntry().entry);
  }

  private batch: RowBatch;
  /** Batches the worker has written and handed back. */
  private readonly spares: RowBatch[] = [];
  private inFlight = 0;
  private failure: AgentError | null = null;
  private drained: (() => void) | null = null;
  private readonly worker: Worker;
  private onClosed: () => void = () => {};
  private readonly flusher: NodeJS.Timeout;
  /** Records the worker has written. */
  written = 0;

  constructor(private readonly targets: readonly OutputTarget[], private readonly full: boolean, private readonly earlyPackets: number) {
    this.batch = RowBatch.create(full, earlyPackets, BATCH_ROWS);
    this.worker = startWorker(targets);
    this.worker.on('message', (r: WorkerReply) => this.onReply(r));
    this.worker.on('error', (err) => this.fail(err.message));
    this.flusher = setInterval(() => { if (this.batch.count > 0) this.post(); }, FLUSH_MS);
    this.flusher.unref();
  }

  /** The flow table's export handler: copies the flow's rows. */
  add(slots: FlowSlots, slot: number, reason: number): void {
    this.batch.append(slots, slot, reason);
    if (this.batch.isFull) this.post();
  }

  /** Resolves when the worker has caught up enough (the file source awaits it between chunks). */
  gate(): Promise<void> | null {
    if (this.inFlight < MAX_IN_FLIGHT || this.failure) return null;
    return new Promise((resolve) => { this.drained = resolve; });
  }

  /** Writes what is left, closes the files and stops the worker; throws AGENT_ERR_OUTPUT if a file could not be written. */
  async close(): Promise<void> {
    clearInterval(this.flusher);
    if (this.batch.count > 0) this.post();
    if (!this.failure) {
      const closed = new Promise<void>((resolve) => { this.onClosed = resolve; });
      this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      await closed;
    }
    await this.worker.terminate();
    if (this.failure) throw this.failure;
  }

  /** Stops the worker without writing what is left (the agent is failing anyway). */
  abort(): Promise<number> {
    clearInterval(this.flusher);
    return this.worker.terminate();
  }

  private post(): void {
    const { message, transfer } = this.batch.toMessage();
    this.batch = this.spares.pop() ?? RowBatch.create(this.full, this.earlyPackets, BATCH_ROWS);
    if (this.failure) return;
    this.inFlight++;
    this.worker.postMessage({ type: 'rows', batch: message } satisfies WorkerRequest, transfer);
  }

  private onReply(r: WorkerReply): void {
    if (r.type === 'written') {
      this.written += r.records;
      this.spares.push(RowBatch.recycled(r.batch));
      this.inFlight--;
      if (this.inFlight < MAX_IN_FLIGHT / 2 && this.drained) {
        const d = this.drained;
        this.drained = null;
        d();
      }
    } else if (r.type === 'closed') {
      this.onClosed();
    } else {
      this.fail(r.message);
    }
  }

  private fail(message: string): void {
    if (!this.failure) {
      const where = this.targets.map((t) => t.path).join(', ');
      this.failure = new AgentError(AgentErrorCode.OUTPUT, message.includes(where) ? message : `cannot write flows to ${where}: ${message}`);
    }
    this.drained?.();
    this.drained = null;
    this.onClosed();
  }
}
