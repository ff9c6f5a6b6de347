// What the file reader and the two format parsers share: the frame callback, the statistics, and the
// contract of a parser (consume whole records from a buffer window, say how many bytes it needs next).

export type FrameHandler = (linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, tsSec: number, tsUsec: number) => void;

export interface FileReadStats {
  file: string;
  format: 'pcap' | 'pcapng';
  /** Packet records handed to onFrame. */
  frames: number;
  /** Captured bytes handed to onFrame (sum of caplen). */
  bytes: number;
  /** Records cut by end-of-file or corrupt (impossible length): at most 1, since either ends reading. */
  truncatedRecords: number;
  /** pcapng blocks that carry no packet for us (NRB, ISB, custom…) or that could not be used. */
  skippedBlocks: number;
  /** Human-readable, at most MAX_WARNINGS entries (then one "… more" line). */
  warnings: string[];
}

/** Warnings kept per file; a broken file must not grow the list without bound. */
export const MAX_WARNINGS = 20;

/** Captured bytes above which a record is taken as corrupt (libpcap's own ceiling is 256 KiB). */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024;

export function addWarning(stats: FileReadStats, suppressed: { n: number }, message: string): void {
  if (stats.warnings.length < MAX_WARNINGS) stats.warnings.push(message);
  else suppressed.n++;
}

/** Little- or big-endian unsigned 32-bit read. */
export function u32(buf: Uint8Array, off: number, le: boolean): number {
  return le
    ? (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0
    : ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Little- or big-endian unsigned 16-bit read. */
export function u16(buf: Uint8Array, off: number, le: boolean): number {
  return le ? buf[off] | (buf[off + 1] << 8) : (buf[off] << 8) | buf[off + 1];
}

/**
 * A format parser. parse() hands every whole record in buf[pos..end) to the frame handler, then
 * returns the position of the first unconsumed byte and sets exactly one of:
 *  - need: bytes the next record needs from that position (the reader reads more, or at
 *    end-of-file reports a truncated record when any bytes are left),
 *  - skip: bytes to pass over from that position without reading them (a huge block we ignore),
 *  - stopped: reading ends here (corruption already counted and warned about).
 * fileOffset is the file position of buf[0], for messages.
 */
export interface RecordParser {
  need: number;
  skip: number;
  stopped: boolean;
  parse(buf: Uint8Array, pos: number, end: number, fileOffset: number): number;
}
