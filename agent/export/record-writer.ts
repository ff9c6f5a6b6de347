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
    this.out.write(`${this.format(record)}\n`);
  }

  /**
   * Resolves once a stream that asked for a pause has drained (the file source awaits it between
   * chunks). Asked of the stream itself: a flag of our own could outlive a 'drain' that came before the wait.
   */
  gate(): Promise<void> | null {
    if (!this.out.writableNeedDrain || this.failure) return null;
    return once(this.out, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out === process.stdout) {
      // Writes to a pipe are asynchronous: the agent exits right after this, so wait until they are out.
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      return;
    }
    this.out.end();
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
  }
}
