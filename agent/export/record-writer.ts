// Writes one line per flow record (JSON lines, CSV) to a file or stdout ('-'), respecting the
// stream's backpressure.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AgentError, AgentErrorCode } from '../errors';
import type { IFlowRecord } from '../../proto';

export type RecordFormatter = (record: IFlowRecord) => string;

export class RecordWriter {
  private readonly out: Writable;
  private failure: Error | null = null;
  private pendingDrain = false;

  constructor(private readonly target: string, private readonly format: RecordFormatter, header?: string) {
    if (target === '-') {
      this.out = process.stdout;
    } else {
      const file: WriteStream = createWriteStream(target);
      this.out = file;
    }
    this.out.on('error', (err) => {
      this.failure = new AgentError(AgentErrorCode.OUTPUT, `cannot write flows to ${this.target}: ${err.message}`, { cause: err });
    });
    if (header) this.out.write(`${header}\n`);
  }

  write(record: IFlowRecord): void {
    if (this.failure) return;
    if (!this.out.write(`${this.format(record)}\n`)) this.pendingDrain = true;
  }

  /** Resolves once the stream asked for a pause has drained (the file source awaits it between chunks). */
  gate(): Promise<void> | null {
    if (!this.pendingDrain || this.failure) return null;
    this.pendingDrain = false;
    return once(this.out, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out === process.stdout) return;
    this.out.end();
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
  }
}
