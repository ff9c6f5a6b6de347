// Classic libpcap files (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html):
// a 24-byte file header (magic, version 2.4, thiszone, sigfigs, snaplen, link type), then records of
// a 16-byte header (ts_sec, ts_usec or ts_nsec, incl_len, orig_len) and incl_len bytes.
// Kuznetzov's "modified pcap" (magic 0xa1b2cd34) adds ifindex 4, protocol 2, pkt_type 1, pad 1:
// 24-byte record headers, otherwise the same.
import { AgentError, AgentErrorCode } from '../errors';
import { type FileReadStats, type FrameHandler, type RecordParser, addWarning, u32 } from './record-parser';

export const PCAP_FILE_HEADER_BYTES = 24;

/** Magic numbers as a little-endian read of the first 4 bytes sees them. */
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;
const MAGIC_US_SWAPPED = 0xd4c3b2a1;
const MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const MAGIC_MODIFIED_SWAPPED = 0x34cdb2a1;

/** True when the first 4 bytes (read little-endian) are one of the pcap magics. */
export function isPcapMagic(magicLe: number): boolean {
  return magicLe === MAGIC_US || magicLe === MAGIC_NS || magicLe === MAGIC_MODIFIED ||
    magicLe === MAGIC_US_SWAPPED || magicLe === MAGIC_NS_SWAPPED || magicLe === MAGIC_MODIFIED_SWAPPED;
}

export class PcapParser implements RecordParser {
  need = 0;
  skip = 0;
  stopped = false;
  readonly linkType: number;
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly recordHeaderBytes: number;

  /** Reads the file header at buf[0..24); throws AgentError FILE_FORMAT when it is cut short. */
  constructor(
    private readonly path: string,
    buf: Uint8Array,
    available: number,
    private readonly onFrame: FrameHandler,
    private readonly stats: FileReadStats,
    private readonly suppressed: { n: number },
    private readonly maxRecordBytes: number,
  ) {
    const magic = u32(buf, 0, true);
    this.le = magic === MAGIC_US || magic === MAGIC_NS || magic === MAGIC_MODIFIED;
    this.nano = magic === MAGIC_NS || magic === MAGIC_NS_SWAPPED;
    this.recordHeaderBytes = magic === MAGIC_MODIFIED || magic === MAGIC_MODIFIED_SWAPPED ? 24 : 16;
    if (available < PCAP_FILE_HEADER_BYTES) {
      throw new AgentError(AgentErrorCode.FILE_FORMAT,
        `${path}: pcap file header cut short at byte offset ${available} (needs ${PCAP_FILE_HEADER_BYTES} bytes)`);
    }
    const major = buf[this.le ? 4 : 5];
    if (major !== 2) addWarning(stats, suppressed, `${path}: unusual pcap version ${major}.x at byte offset 4; reading as 2.4`);
    this.linkType = u32(buf, 20, this.le) & 0xffff;   // upper bits: FCS length flags
  }

  parse(buf: Uint8Array, pos: number, end: number, fileOffset: number): number {
    const hdr = this.recordHeaderBytes;
    const le = this.le;
    const onFrame = this.onFrame;
    const stats = this.stats;
    for (;;) {
      if (end - pos < hdr) { this.need = hdr; return pos; }
      const caplen = u32(buf, pos + 8, le);
      if (caplen > this.maxRecordBytes) {
        stats.truncatedRecords++;
        addWarning(stats, this.suppressed, `${this.path}: corrupt record at byte offset ${fileOffset + pos}: ` +
          `captured length ${caplen} exceeds ${this.maxRecordBytes}; stopped reading`);
        this.stopped = true;
        return pos;
      }
      if (end - pos < hdr + caplen) { this.need = hdr + caplen; return pos; }
      const frac = u32(buf, pos + 4, le);
      onFrame(this.linkType, buf, pos + hdr, caplen, u32(buf, pos + 12, le), u32(buf, pos, le),
        this.nano ? Math.floor(frac / 1000) : frac);
      stats.frames++;
      stats.bytes += caplen;
      pos += hdr + caplen;
    }
  }
}
