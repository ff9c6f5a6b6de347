// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html). A file is a run of
// blocks: type 4, total length 4, body, total length 4, in the byte order of the section's Section
// Header Block (SHB). Each section has its own Interface Description Blocks (IDB: link type, snaplen,
// if_tsresol, if_tsoffset); packets come in Enhanced (EPB), Simple (SPB, interface 0, no timestamp)
// or obsolete Packet Blocks (PB). Every other block is skipped.
import { AgentError, AgentErrorCode } from '../errors';
import { type FileReadStats, type FrameHandler, type RecordParser, addWarning, u16, u32 } from './record-parser';

export const PCAPNG_SHB_TYPE = 0x0a0d0d0a;
const IDB_TYPE = 0x00000001;
const PB_TYPE = 0x00000002;
const SPB_TYPE = 0x00000003;
const EPB_TYPE = 0x00000006;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** Bytes of an SHB up to and including its version fields. */
const SHB_FIXED_BYTES = 28;

/** Room for options around the packet data before a packet block is taken as corrupt. */
const MAX_BLOCK_OVERHEAD = 64 * 1024;

export class PcapngParser implements RecordParser {
  need = 0;
  skip = 0;
  stopped = false;
  /** True once the first section header block has been read whole. */
  headerDone = false;
  private le = true;
  private skippingSection = false;
  // Interfaces of the current section, by id: parallel arrays, filled once per IDB.
  private readonly ifLinkType: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifUnitsPerSec: number[] = [];
  private readonly ifTsOffsetSec: number[] = [];
  // Result of convertTimestamp (fields, not an object, so a packet costs no allocation).
  private tsSec = 0;
  private tsUsec = 0;

  constructor(
    private readonly path: string,
    private readonly onFrame: FrameHandler,
    private readonly stats: FileReadStats,
    private readonly suppressed: { n: number },
    private readonly maxRecordBytes: number,
  ) {}

  parse(buf: Uint8Array, pos: number, end: number, fileOffset: number): number {
    const stats = this.stats;
    for (;;) {
      const avail = end - pos;
      if (avail < 12) { this.need = 12; return pos; }
      const type = u32(buf, pos, this.le);   // the SHB type reads the same in both orders
      if (type === PCAPNG_SHB_TYPE) {
        if (avail < SHB_FIXED_BYTES) { this.need = SHB_FIXED_BYTES; return pos; }
        if (!this.readByteOrder(buf, pos, fileOffset + pos)) return pos;
      }
      const len = u32(buf, pos + 4, this.le);
      if (len < 12 || (len & 3) !== 0 || (type === PCAPNG_SHB_TYPE && len < SHB_FIXED_BYTES)) {
        this.corrupt(fileOffset + pos, `impossible block length ${len} (block type 0x${type.toString(16)})`);
        return pos;
      }
      if (len > this.maxRecordBytes + MAX_BLOCK_OVERHEAD) {
        if (type === EPB_TYPE || type === SPB_TYPE || type === PB_TYPE || type === IDB_TYPE || type === PCAPNG_SHB_TYPE) {
          this.corrupt(fileOffset + pos, `block length ${len} too large for block type 0x${type.toString(16)}`);
          return pos;
        }
        stats.skippedBlocks++;
        this.skip = len;
        return pos;
      }
      if (avail < len) { this.need = len; return pos; }
      const trailer = u32(buf, pos + len - 4, this.le);
      if (trailer !== len) {
        this.corrupt(fileOffset + pos, `block trailer length ${trailer} differs from header length ${len}`);
        return pos;
      }
      if (type === PCAPNG_SHB_TYPE) {
        this.startSection(buf, pos, fileOffset + pos);
      } else if (this.skippingSection) {
        stats.skippedBlocks++;
      } else if (type === EPB_TYPE) {
        if (!this.enhancedPacket(buf, pos, len, fileOffset)) return pos;
      } else if (type === SPB_TYPE) {
        if (!this.simplePacket(buf, pos, len, fileOffset)) return pos;
      } else if (type === PB_TYPE) {
        if (!this.obsoletePacket(buf, pos, len, fileOffset)) return pos;
      } else if (type === IDB_TYPE) {
        this.interfaceDescription(buf, pos, len, fileOffset);
      } else {
        stats.skippedBlocks++;
      }
      pos += len;
    }
  }

  /** Byte order of the section whose header starts at buf[pos]. Returns false when reading stops. */
  private readByteOrder(buf: Uint8Array, pos: number, offset: number): boolean {
    const bom = u32(buf, pos + 8, true);
    if (bom === 0x1a2b3c4d) { this.le = true; return true; }
    if (bom === 0x4d3c2b1a) { this.le = false; return true; }
    this.corrupt(offset + 8, `bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`);
    return false;
  }

  /** A whole SHB: forget the previous section's interfaces; skip sections of an unknown major version. */
  private startSection(buf: Uint8Array, pos: number, offset: number): void {
    const major = u16(buf, pos + 12, this.le);
    const minor = u16(buf, pos + 14, this.le);
    if (major !== 1) {
      const msg = `unsupported pcapng version ${major}.${minor} at byte offset ${offset + 12}`;
      if (!this.headerDone) throw new AgentError(AgentErrorCode.FILE_FORMAT, `${this.path}: ${msg}`);
      addWarning(this.stats, this.suppressed, `${this.path}: ${msg}; skipped that section`);
    }
    this.headerDone = true;
    this.skippingSection = major !== 1;
    this.ifLinkType.length = 0;
    this.ifSnaplen.length = 0;
    this.ifUnitsPerSec.length = 0;
    this.ifTsOffsetSec.length = 0;
  }

  private interfaceDescription(buf: Uint8Array, pos: number, len: number, fileOffset: number): void {
    if (len < 20) {
      // Still counts as an interface so that later interface ids keep their meaning.
      addWarning(this.stats, this.suppressed, `${this.path}: short interface description block at byte offset ${fileOffset + pos}`);
      this.addInterface(-1, 0, 1e6, 0);
      return;
    }
    const le = this.le;
    let unitsPerSec = 1e6;
    let tsOffsetSec = 0;
    const optEnd = pos + len - 4;
    for (let o = pos + 16; o + 4 <= optEnd; ) {
      const code = u16(buf, o, le);
      const olen = u16(buf, o + 2, le);
      if (code === OPT_ENDOFOPT || o + 4 + olen > optEnd) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const v = buf[o + 4];
        unitsPerSec = (v & 0x80) !== 0 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const lo = u32(buf, o + 4 + (le ? 0 : 4), le);
        const hi = u32(buf, o + 4 + (le ? 4 : 0), le) | 0;   // signed
        tsOffsetSec = hi * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.addInterface(u16(buf, pos + 8, le), u32(buf, pos + 12, le), unitsPerSec, tsOffsetSec);
  }

  private addInterface(linkType: number, snaplen: number, unitsPerSec: number, tsOffsetSec: number): void {
    this.ifLinkType.push(linkType);
    this.ifSnaplen.push(snaplen);
    this.ifUnitsPerSec.push(unitsPerSec);
    this.ifTsOffsetSec.push(tsOffsetSec);
  }

  private enhancedPacket(buf: Uint8Array, pos: number, len: number, fileOffset: number): boolean {
    if (len < 32) { this.corrupt(fileOffset + pos, `enhanced packet block too short (${len} bytes)`); return false; }
    const le = this.le;
    const caplen = u32(buf, pos + 20, le);
    if (caplen > len - 32 || caplen > this.maxRecordBytes) {
      this.corrupt(fileOffset + pos, `captured length ${caplen} does not fit enhanced packet block of ${len} bytes`);
      return false;
    }
    const ifId = u32(buf, pos + 8, le);
    if (!this.knownInterface(ifId, pos, fileOffset)) return true;
    this.convertTimestamp(u32(buf, pos + 12, le), u32(buf, pos + 16, le), ifId);
    this.deliver(ifId, buf, pos + 28, caplen, u32(buf, pos + 24, le));
    return true;
  }

  private obsoletePacket(buf: Uint8Array, pos: number, len: number, fileOffset: number): boolean {
    if (len < 32) { this.corrupt(fileOffset + pos, `packet block too short (${len} bytes)`); return false; }
    const le = this.le;
    const caplen = u32(buf, pos + 20, le);
    if (caplen > len - 32 || caplen > this.maxRecordBytes) {
      this.corrupt(fileOffset + pos, `captured length ${caplen} does not fit packet block of ${len} bytes`);
      return false;
    }
    const ifId = u16(buf, pos + 8, le);
    if (!this.knownInterface(ifId, pos, fileOffset)) return true;
    this.convertTimestamp(u32(buf, pos + 12, le), u32(buf, pos + 16, le), ifId);
    this.deliver(ifId, buf, pos + 28, caplen, u32(buf, pos + 24, le));
    return true;
  }

  private simplePacket(buf: Uint8Array, pos: number, len: number, fileOffset: number): boolean {
    if (len < 16) { this.corrupt(fileOffset + pos, `simple packet block too short (${len} bytes)`); return false; }
    if (!this.knownInterface(0, pos, fileOffset)) return true;
    const wirelen = u32(buf, pos + 8, this.le);
    const snaplen = this.ifSnaplen[0];
    let caplen = len - 16;
    if (wirelen < caplen) caplen = wirelen;
    if (snaplen > 0 && snaplen < caplen) caplen = snaplen;
    if (caplen > this.maxRecordBytes) {
      this.corrupt(fileOffset + pos, `simple packet block of ${len} bytes exceeds ${this.maxRecordBytes}`);
      return false;
    }
    this.tsSec = 0;
    this.tsUsec = 0;
    this.deliver(0, buf, pos + 12, caplen, wirelen);
    return true;
  }

  private knownInterface(ifId: number, pos: number, fileOffset: number): boolean {
    if (ifId < this.ifLinkType.length && this.ifLinkType[ifId] >= 0) return true;
    this.stats.skippedBlocks++;
    addWarning(this.stats, this.suppressed,
      `${this.path}: packet block at byte offset ${fileOffset + pos} names interface ${ifId}, not described in its section; skipped`);
    return false;
  }

  private deliver(ifId: number, buf: Uint8Array, start: number, caplen: number, wirelen: number): void {
    this.onFrame(this.ifLinkType[ifId], buf, start, caplen, wirelen, this.tsSec, this.tsUsec);
    this.stats.frames++;
    this.stats.bytes += caplen;
  }

  /**
   * 64-bit timestamp (high, low words) in the interface's units → tsSec, tsUsec. Long division in
   * 16-bit digits keeps every step below 2^53, so nanosecond timestamps convert exactly (a double
   * holding high × 2^32 + low would not); units beyond 2^37 per second fall back to floating point.
   */
  private convertTimestamp(high: number, low: number, ifId: number): void {
    const units = this.ifUnitsPerSec[ifId];
    let sec: number;
    let rem: number;
    if (units <= 137438953472) {
      let x = high >>> 16;
      let q = Math.floor(x / units);
      rem = x - q * units;
      sec = q;
      x = rem * 65536 + (high & 0xffff);
      q = Math.floor(x / units);
      rem = x - q * units;
      sec = sec * 65536 + q;
      x = rem * 65536 + (low >>> 16);
      q = Math.floor(x / units);
      rem = x - q * units;
      sec = sec * 65536 + q;
      x = rem * 65536 + (low & 0xffff);
      q = Math.floor(x / units);
      rem = x - q * units;
      sec = sec * 65536 + q;
    } else {
      const v = high * 4294967296 + low;
      sec = Math.floor(v / units);
      rem = v - sec * units;
      if (rem < 0) rem = 0;
    }
    this.tsSec = sec + this.ifTsOffsetSec[ifId];
    this.tsUsec = units === 1e6 ? rem : units > 1e6 ? Math.floor(rem / (units / 1e6)) : Math.floor((rem * 1e6) / units);
  }

  /**
   * Counts and reports a corrupt block; reading stops there. Before the first section header has
   * been read whole, the file is not pcapng at all: AgentError FILE_FORMAT.
   */
  private corrupt(offset: number, message: string): void {
    if (!this.headerDone) throw new AgentError(AgentErrorCode.FILE_FORMAT, `${this.path}: bad pcapng section header at byte offset ${offset}: ${message}`);
    this.stats.truncatedRecords++;
    addWarning(this.stats, this.suppressed, `${this.path}: corrupt pcapng block at byte offset ${offset}: ${message}; stopped reading`);
    this.stopped = true;
  }
}
