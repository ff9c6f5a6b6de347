// Writes one line per flow record (JSON lines, CSV) to a file or stdout ('-'), respecting the
// stream's backpressure. Lines are formatted from the flow's rows as it leaves the table, as bytes
// into a LineBuffer that goes to the stream in chunks (at most CHUNK_BYTES, and at the latest once
// the current burst of exports is over), not one write per record.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AgentError, AgentErrorCode } from '../errors';
import type { FlowRows } from '../flow/flow-slots';
import type { EndReasonValue } from '../../proto';
import { LineBuffer, fragment } from './line-buffer';

/** Appends one record, without its newline. */
export type RecordFormatter = (out: LineBuffer, rows: FlowRows, slot: number, reason: EndReasonValue) => void;

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = fragment('\n');

export class RecordWriter {
  private readonly out: Writable;
  private failure: Error | null = null;
  private readonly lines = new LineBuffer();
  private flushQueued = false;

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

  write(rows: FlowRows, slot: number, reason: EndReasonValue): void {
    if (this.failure) return;
    this.format(this.lines, rows, slot, reason);
    this.lines.raw(NEWLINE);
    if (this.lines.length >= CHUNK_BYTES) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands what is buffered to the stream. */
  flush(): void {
    this.flushQueued = false;
    if (this.lines.length > 0 && !this.failure) this.out.write(this.lines.take());
  }

  /**
   * Resolves once a stream that asked for a pause has drained (the file source awaits it between
   * chunks). Asked of the stream itself: a flag of our own could outlive a 'drain' that came before the wait.
   */
  gate(): Promise<void> | null {
    this.flush();
    if (!this.out.writableNeedDrain || this.failure) return null;
    return once(this.out, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    this.flush();
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
