// Reads pcap and pcapng capture files for replay, forensics and tests.
//
// One preallocated buffer (chunkBytes, 1 MiB by default): the format parser hands every whole record
// in it to onFrame synchronously; the unconsumed tail moves to the front and the rest is read again,
// after the gate (backpressure) has let reading go on. A record is never copied and never outlives the
// onFrame call. The buffer grows only for a record larger than itself, up to maxRecordBytes; a larger
// record is taken as corruption.
//
// Reads are synchronous (readSync on the open file), as a C capture reader's are. Reading the next chunk
// ahead on libuv's thread pool, into a second buffer, cost more than it saved: on the 2-core box the
// pool thread woke onto the capture thread's core and preempted it, the chunk arrived in the other
// core's cache, and the 5 M-packet offline meter took 0.1–0.3 s longer (docs/benchmarks.md). The event
// loop still gets a turn every YIELD_BYTES, so timers, sockets and the output worker's replies are served.
import { fstatSync, readSync, promises as fs } from 'node:fs';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { AgentError, AgentErrorCode } from '../errors';
import { PCAP_FILE_HEADER_BYTES, PcapParser, isPcapMagic } from './pcap-format';
import { PCAPNG_SHB_TYPE, PcapngParser } from './pcapng-format';
import { DEFAULT_MAX_RECORD_BYTES, type FileReadStats, type FrameHandler, type RecordParser, u32 } from './record-parser';

export type { FileReadStats, FrameHandler } from './record-parser';

export interface FileSourceOptions {
  /** Size of the read buffer, default 1 MiB (at least 64 bytes). */
  chunkBytes?: number;
  /**
   * Called between chunks with the file offset reached (progress); if it returns a promise, reading
   * waits for it (backpressure).
   */
  gate?: (offset: number) => Promise<void> | null;
  /** Captured bytes above which a record counts as corrupt and reading stops; default 256 KiB. */
  maxRecordBytes?: number;
}

/**
 * Small enough that a chunk is still in the CPU's caches when it is parsed right after the read: the
 * offline meter's capture thread used 5–10 % less CPU with 0.5–2 MiB chunks than with 4 MiB, 15 % less
 * than with 16 MiB (5 M-packet benchmark capture, docs/benchmarks.md).
 */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
const MIN_CHUNK_BYTES = 64;
/** Bytes read between two turns of the event loop. */
const YIELD_BYTES = 4 * 1024 * 1024;
/** How long to wait before reading a non-blocking stream again when it had nothing. */
const STREAM_WAIT_MS = 2;

/** A read in sequence: bytes read (0 at the end), or -1 when a non-blocking descriptor has nothing yet. */
function readStream(fd: number, buf: Buffer, at: number, length: number): number {
  try {
    return readSync(fd, buf, at, length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    throw err;
  }
}

type FileHandle = Awaited<ReturnType<typeof fs.open>>;

function unreadable(path: string, err: unknown): AgentError {
  const e = err as NodeJS.ErrnoException;
  const reason = e && e.code ? `${e.code}: ${e.message}` : String(err);
  return new AgentError(AgentErrorCode.FILE_UNREADABLE, `cannot read capture file ${path} (${reason})`, { cause: err });
}

/**
 * Streams every packet record in order to onFrame. Throws AgentError FILE_UNREADABLE
 * (missing/permission/EISDIR; message names the path and the OS reason) or FILE_FORMAT (unknown
 * magic, bad header; message names the file and byte offset). A record that ends past end-of-file,
 * or a block with an impossible length, ends reading with truncatedRecords counted and a warning,
 * not a throw. Errors thrown by onFrame or gate propagate unchanged.
 */
export async function readCaptureFile(path: string, onFrame: FrameHandler, opts: FileSourceOptions = {}): Promise<FileReadStats> {
  const chunkBytes = Math.max(MIN_CHUNK_BYTES, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
  const maxRecordBytes = Math.max(1, Math.floor(opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES));
  const gate = opts.gate;

  // '-' is the process's standard input, used as it is (it may be a socket, which /dev/stdin cannot open).
  let fh: FileHandle | null = null;
  try {
    if (path !== '-') fh = await fs.open(path, 'r');
  } catch (err) {
    throw unreadable(path, err);
  }
  const fd = fh ? fh.fd : 0;
  try {
    let size: number;
    // A pipe or a terminal (`tcpdump -w - | agent --read -`) is read in sequence, and skipped bytes are read
    // and dropped; a regular file is read at offsets.
    let seekable: boolean;
    try {
      const st = fh ? await fh.stat() : fstatSync(fd);
      if (st.isDirectory()) {
        throw new AgentError(AgentErrorCode.FILE_UNREADABLE, `cannot read capture file ${path} (EISDIR: is a directory)`);
      }
      size = st.size;
      seekable = st.isFile();
    } catch (err) {
      if (err instanceof AgentError) throw err;
      throw unreadable(path, err);
    }

    let buf: Buffer = Buffer.allocUnsafe(chunkBytes);
    let bufFileOffset = 0;   // file position of buf[0]
    let pos = 0;             // first unconsumed byte
    let end = 0;             // one past the last valid byte
    let eof = false;
    let unyielded = 0;       // bytes read since the event loop last had a turn
    let streamPos = 0;       // not seekable: file position of the next byte the stream gives
    let endedInSkip = -1;    // not seekable: where the stream ended inside a block being skipped

    // Moves buf[pos..end) to the front, grows buf if `need` exceeds it, and reads (filling the buffer)
    // until `need` bytes are there or the file ends.
    const refill = async (need: number): Promise<void> => {
      if (pos > 0) {
        buf.copyWithin(0, pos, end);
        bufFileOffset += pos;
        end -= pos;
        pos = 0;
      }
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, Math.min(buf.length * 2, maxRecordBytes * 2)));
        buf.copy(grown, 0, 0, end);
        buf = grown;
      }
      while (!eof && end < need) {
        const at = bufFileOffset + end;
        let n: number;
        try {
          if (seekable) {
            n = readSync(fd, buf, end, buf.length - end, at);
          } else {
            // Bytes the parser skipped are read into the free part of buf and dropped.
            n = readStream(fd, buf, end, streamPos < at ? Math.min(buf.length - end, at - streamPos) : buf.length - end);
            if (n < 0) {
              await delay(STREAM_WAIT_MS); // a non-blocking descriptor with nothing to read yet
              continue;
            }
            const skipped = streamPos < at;
            streamPos += n;
            if (skipped && n > 0) continue;
            if (skipped) endedInSkip = streamPos;
          }
        } catch (err) {
          throw unreadable(path, err);
        }
        if (n === 0) eof = true;
        end += n;
        unyielded += n;
      }
      if (unyielded >= YIELD_BYTES) {
        unyielded = 0;
        await nextTurn();
      }
    };

    await refill(buf.length);
    if (end < 4) {
      throw new AgentError(AgentErrorCode.FILE_FORMAT,
        `${path}: ${end === 0 ? 'empty file' : `only ${end} bytes`}, too short for a pcap or pcapng header (byte offset 0)`);
    }
    const magic = u32(buf, 0, true);
    const stats: FileReadStats = {
      file: path, format: 'pcap', frames: 0, bytes: 0, truncatedRecords: 0, skippedBlocks: 0, warnings: [],
    };
    const suppressed = { n: 0 };
    let parser: RecordParser & { headerDone?: boolean };
    if (isPcapMagic(magic)) {
      parser = new PcapParser(path, buf, end, onFrame, stats, suppressed, maxRecordBytes);
      pos = PCAP_FILE_HEADER_BYTES;
    } else if (magic === PCAPNG_SHB_TYPE) {
      stats.format = 'pcapng';
      parser = new PcapngParser(path, onFrame, stats, suppressed, maxRecordBytes);
    } else {
      const gzip = buf[0] === 0x1f && buf[1] === 0x8b ? ' (gzip-compressed: decompress it first)' : '';
      throw new AgentError(AgentErrorCode.FILE_FORMAT,
        `${path}: not a pcap or pcapng file${gzip}: magic 0x${buf.subarray(0, 4).toString('hex')} at byte offset 0`);
    }

    for (;;) {
      parser.need = 0;
      parser.skip = 0;
      pos = parser.parse(buf, pos, end, bufFileOffset);
      if (parser.stopped) break;
      if (parser.skip > 0) {
        const target = bufFileOffset + pos + parser.skip;
        if (seekable && target > size) {
          stats.truncatedRecords++;
          stats.warnings.push(`${path}: block at byte offset ${bufFileOffset + pos} of ${parser.skip} bytes ends past end-of-file (${size} bytes)`);
          break;
        }
        if (pos + parser.skip <= end) {
          pos += parser.skip;
        } else {
          bufFileOffset = target;
          pos = end = 0;
          eof = false;
        }
        continue;
      }
      if (eof) {
        if (end > pos) {
          if (parser.headerDone === false) {
            throw new AgentError(AgentErrorCode.FILE_FORMAT,
              `${path}: pcapng section header cut short at byte offset ${bufFileOffset + end} (${end - pos} of ${parser.need} bytes)`);
          }
          stats.truncatedRecords++;
          stats.warnings.push(`${path}: file ends mid-record at byte offset ${bufFileOffset + pos}: ` +
            `record needs ${parser.need} bytes, ${end - pos} present`);
        }
        break;
      }
      if (gate) {
        const wait = gate(bufFileOffset + pos);
        if (wait) await wait;
      }
      await refill(parser.need);
    }
    if (endedInSkip >= 0) {
      stats.truncatedRecords++;
      stats.warnings.push(`${path}: input ends at byte offset ${endedInSkip}, inside a block that starts before it`);
    }
    if (suppressed.n > 0) stats.warnings.push(`… and ${suppressed.n} more warnings`);
    return stats;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
