// AgentMessage{batch} encoded by hand into one reused buffer. protobufjs' writer builds a list of
// operation objects per field before it copies anything (on the transport benchmark its encode and
// the garbage it left were two thirds of the agent's busy time); this writes each field in place.
// Proto3 rules: a scalar at its default (0, '', false) is left out, an `optional` one is written
// whenever it is set, a nested message whenever it is present. Field numbers: proto/goalkeeper.proto.
import type { IAppInfo, IDirectionStats, IFlowRecord, IStats } from '../../proto';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

type Num = number | null | undefined;
type Str = string | null | undefined;

/**
 * Room made once per flow record for its fixed-size fields (about 150 fields of at most 11 bytes);
 * strings, addresses and lists make room for themselves. Per-field bounds checks were a fifth of the time.
 */
const RECORD_ROOM = 4096;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

class Writer {
  buf = Buffer.allocUnsafe(1 << 20);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * An unsigned varint of up to 2^53 (uint64 values arrive as plain numbers); a negative one as its
   * 64-bit two's complement. The caller has made room (10 bytes). Past 32 bits the value is split in
   * two 32-bit halves first: looping with the remainder and division of a double (fmod) on timestamps,
   * which are past 2^50 µs, took about a fifth of the encoding time.
   */
  varint(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (v >= 0 && v < 0x80) {
      buf[pos] = v;
      this.pos = pos + 1;
      return;
    }
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
      while (big > 0x7fn) {
        buf[pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      buf[pos++] = Number(big);
      this.pos = pos;
      return;
    }
    let lo = v >>> 0;
    if (v > 0xffffffff) {
      let hi = ((v - lo) / 0x1_0000_0000) >>> 0;
      while (hi > 0) {
        buf[pos++] = (lo & 0x7f) | 0x80;
        lo = ((lo >>> 7) | (hi << 25)) >>> 0;
        hi >>>= 7;
      }
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** Field numbers of this protocol are below 2,048: a tag takes one or two bytes. */
  tag(field: number, wireType: number): void {
    const t = (field << 3) | wireType;
    if (t < 0x80) {
      this.buf[this.pos++] = t;
    } else {
      const pos = this.pos;
      this.buf[pos] = (t & 0x7f) | 0x80;
      this.buf[pos + 1] = t >>> 7;
      this.pos = pos + 2;
    }
  }

  /** A uint32/uint64/enum field, left out at 0. */
  uint(field: number, v: Num): void {
    if (!v) return;
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** An `optional` uint32 field: written whenever set, 0 included. */
  optionalUint(field: number, v: Num): void {
    if (v === null || v === undefined) return;
    this.tag(field, VARINT);
    this.varint(v);
  }

  bool(field: number, v: boolean | null | undefined): void {
    if (!v) return;
    this.tag(field, VARINT);
    this.buf[this.pos++] = 1;
  }

  double(field: number, v: Num): void {
    if (!v) return; // 0 (and -0, which proto3 also treats as the default)
    this.tag(field, FIXED64);
    f64[0] = v;
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = f64Bytes[0];
    buf[pos + 1] = f64Bytes[1];
    buf[pos + 2] = f64Bytes[2];
    buf[pos + 3] = f64Bytes[3];
    buf[pos + 4] = f64Bytes[4];
    buf[pos + 5] = f64Bytes[5];
    buf[pos + 6] = f64Bytes[6];
    buf[pos + 7] = f64Bytes[7];
    this.pos = pos + 8;
  }

  string(field: number, v: Str): void {
    if (v) this.text(field, v);
  }

  /** A string field written even when empty (an element of a repeated string). */
  text(field: number, v: string): void {
    const n = v.length;
    const max = n * 3;
    this.ensure(max + 20);
    this.tag(field, LEN);
    if (max < 128) {
      // the byte length fits one length byte: write the text after it, then the length. Short ASCII
      // (names, ALPN ids, JA4) is copied char by char: Buffer#write costs more per call than that.
      const buf = this.buf;
      const at = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + 1 + i] = c;
      }
      const len = i === n ? n : buf.write(v, at + 1, 'utf8');
      buf[at] = len;
      this.pos = at + 1 + len;
    } else {
      this.varint(Buffer.byteLength(v, 'utf8'));
      this.pos += this.buf.write(v, this.pos, 'utf8');
    }
  }

  bytes(field: number, v: Uint8Array | null | undefined): void {
    if (!v || v.length === 0) return;
    const n = v.length;
    this.ensure(n + 20);
    this.tag(field, LEN);
    this.varint(n);
    const buf = this.buf;
    const pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos + i] = v[i];
    this.pos = pos + n;
  }

  /**
   * Starts a length-delimited field and leaves `guess` bytes for its length, not known yet (end() moves
   * the body when the length takes more or fewer); returns where the length goes. `room`: bytes its
   * fixed-size fields may take.
   */
  begin(field: number, room: number, guess: number): number {
    this.ensure(room + 20);
    this.tag(field, LEN);
    const mark = this.pos;
    this.pos += guess;
    return mark;
  }

  end(mark: number, guess: number): void {
    const start = mark + guess;
    const len = this.pos - start;
    let n = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) n++;
    if (n !== guess) {
      this.ensure(n - guess);
      this.buf.copyWithin(mark + n, start, this.pos);
      this.pos += n - guess;
    }
    const end = this.pos;
    this.pos = mark;
    this.varint(len);
    this.pos = end;
  }
}

function stats(w: Writer, field: number, s: IStats | null | undefined): void {
  if (!s) return;
  const m = w.begin(field, 0, 1);
  w.uint(1, s.n);
  w.double(2, s.min);
  w.double(3, s.max);
  w.double(4, s.mean);
  w.double(5, s.m2);
  w.end(m, 1);
}

function direction(w: Writer, field: number, d: IDirectionStats | null | undefined): void {
  if (!d) return;
  const m = w.begin(field, 0, 2);
  w.uint(1, d.packets);
  w.uint(2, d.ipBytes);
  w.uint(3, d.payloadBytes);
  w.uint(4, d.headerBytes);
  w.uint(5, d.tcpFlags);
  w.uint(6, d.synCount);
  w.uint(7, d.finCount);
  w.uint(8, d.rstCount);
  w.uint(9, d.pshCount);
  w.uint(10, d.ackCount);
  w.uint(11, d.urgCount);
  w.uint(12, d.initWindow);
  w.uint(13, d.lenMin);
  w.uint(14, d.lenMax);
  w.double(15, d.lenMean);
  w.double(16, d.lenM2);
  w.uint(17, d.iatCount);
  w.uint(18, d.iatMinUs);
  w.uint(19, d.iatMaxUs);
  w.double(20, d.iatMeanUs);
  w.double(21, d.iatM2Us);
  w.uint(22, d.eceCount);
  w.uint(23, d.cwrCount);
  stats(w, 24, d.payloadLen);
  w.uint(25, d.nonemptyPackets);
  w.uint(26, d.l4HeaderBytes);
  w.uint(27, d.l4HeaderLenMin);
  w.uint(28, d.firstUs);
  w.uint(29, d.lastUs);
  w.uint(30, d.bulkCount);
  w.uint(31, d.bulkBytes);
  w.uint(32, d.bulkPackets);
  w.uint(33, d.bulkDurationUs);
  w.uint(34, d.firstTcpFlags);
  w.optionalUint(35, d.tcpMss);
  w.optionalUint(36, d.tcpWscale);
  w.bool(37, d.tcpSackOk);
  w.bool(38, d.tcpTimestamps);
  w.optionalUint(39, d.synTtl);
  w.end(m, 2);
}

function strings(w: Writer, field: number, list: Str[] | null | undefined): void {
  if (!list) return;
  // a repeated string keeps its empty entries (they are elements, not defaults)
  for (const s of list) w.text(field, s ?? '');
}

function app(w: Writer, a: IAppInfo | null | undefined): void {
  if (!a) return;
  const m = w.begin(27, 0, 2);
  w.string(1, a.dnsQuery);
  w.optionalUint(2, a.dnsQtype);
  w.optionalUint(3, a.dnsRcode);
  strings(w, 4, a.dnsAnswers);
  w.string(5, a.tlsSni);
  strings(w, 6, a.tlsAlpn);
  w.optionalUint(7, a.tlsVersion);
  w.string(8, a.ja4);
  w.string(9, a.httpMethod);
  w.string(10, a.httpHost);
  w.string(11, a.httpUserAgent);
  w.optionalUint(12, a.quicVersion);
  w.end(m, 2);
}

/** Packed repeated sint32 (zigzag). */
function packedSint32(w: Writer, field: number, list: Num[] | null | undefined): void {
  if (!list || list.length === 0) return;
  const m = w.begin(field, list.length * 10, 1);
  for (const v of list) {
    const x = (v ?? 0) | 0;
    w.varint(((x << 1) ^ (x >> 31)) >>> 0);
  }
  w.end(m, 1);
}

/** Packed repeated uint64. */
function packedUint(w: Writer, field: number, list: Num[] | null | undefined): void {
  if (!list || list.length === 0) return;
  const m = w.begin(field, list.length * 10, 1);
  for (const v of list) w.varint(v ?? 0);
  w.end(m, 1);
}

function record(w: Writer, f: IFlowRecord): void {
  const m = w.begin(4, RECORD_ROOM, 2);
  w.bytes(1, f.srcAddr);
  w.bytes(2, f.dstAddr);
  w.uint(3, f.srcPort);
  w.uint(4, f.dstPort);
  w.uint(5, f.protocol);
  w.uint(6, f.vlanId);
  w.bool(7, f.hasVlan);
  w.uint(8, f.firstUs);
  w.uint(9, f.lastUs);
  w.uint(10, f.endReason);
  direction(w, 11, f.fwd);
  direction(w, 12, f.bwd);
  w.uint(13, f.flowId);
  stats(w, 14, f.iatUs);
  stats(w, 15, f.payloadLen);
  stats(w, 16, f.activeUs);
  stats(w, 17, f.idleUs);
  w.uint(18, f.subflowCount);
  w.string(19, f.communityId);
  w.uint(20, f.recordSeq);
  w.uint(21, f.recordType);
  w.uint(22, f.ipVersion);
  w.uint(23, f.tunnelType);
  w.optionalUint(24, f.tunnelId);
  packedSint32(w, 25, f.earlySizes);
  packedUint(w, 26, f.earlyGapsUs);
  app(w, f.app);
  w.string(28, f.connState);
  w.uint(29, f.icmpErrors);
  w.uint(30, f.tsRegressions);
  w.end(m, 2);
}

/**
 * Encodes AgentMessage{batch: FlowBatch{seq, boot_id, created_us, flows}}. One encoder is reused for
 * every batch; the returned bytes are a view of its buffer, valid until the next encode() (the spool
 * writes them at once; copying each batch, a fresh 0.5 MB, was a sixth of the encoding time).
 */
export class BatchEncoder {
  private readonly w = new Writer();

  encode(seq: number, bootId: string, createdUs: number, flows: readonly IFlowRecord[]): Uint8Array {
    const w = this.w;
    w.reset();
    const batch = w.begin(2, 0, 3);
    w.uint(1, seq);
    w.string(2, bootId);
    w.uint(3, createdUs);
    for (const f of flows) record(w, f);
    w.end(batch, 3);
    return w.buf.subarray(0, w.pos);
  }
}
