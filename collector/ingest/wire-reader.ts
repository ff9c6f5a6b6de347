// A minimal protobuf wire reader over one frame, for the batch decoder (batch-decode.ts): reads
// varints, doubles and length-delimited ranges in place, so that a FlowBatch becomes FlowRows without
// protobufjs building an object per message first (that object graph, thrown away at once, was a
// fifth of the collector's time on the transport benchmark, in decoding and in garbage collection).
// Any malformed input throws WireError with the byte offset; nothing else is thrown.
import { isUtf8 } from 'node:buffer';

export const WireType = { VARINT: 0, FIXED64: 1, LEN: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

/** Buffer's own method behind toString('latin1') (present since Node 6, not in the type definitions). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'WireError';
  }
}

export class WireReader {
  pos: number;
  /** end of the message being read (set by the caller for nested messages) */
  end: number;

  constructor(readonly buf: Buffer, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  /** The next field's tag (field number << 3 | wire type). */
  tag(): number {
    return this.uint32();
  }

  /**
   * An unsigned varint as a number; a value past 2^53 comes out inexact but still above
   * Number.MAX_SAFE_INTEGER, which is how callers tell that it cannot be represented.
   */
  varint(): number {
    const at = this.pos;
    let b = this.byte();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 10; i++) {
      b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new WireError('varint longer than 10 bytes', at);
  }

  /** A varint truncated to its low 32 bits, as protobuf reads uint32 and enum fields. */
  uint32(): number {
    const at = this.pos;
    let b = this.byte();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      b = this.byte();
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
    }
    for (let i = 5; i < 10; i++) if (this.byte() < 0x80) return v >>> 0;
    throw new WireError('varint longer than 10 bytes', at);
  }

  double(): number {
    const at = this.pos;
    if (at + 8 > this.end) throw new WireError('truncated double', at);
    this.pos = at + 8;
    return this.buf.readDoubleLE(at);
  }

  /** Reads a length prefix and returns the end of the range it announces (pos is at its start). */
  lengthEnd(): number {
    const at = this.pos;
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.end) throw new WireError(`length ${n} runs past the end of its message`, at);
    return end;
  }

  /** A string field's text; strict UTF-8 (invalid bytes are a malformed frame, not replaced). */
  string(): string {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    const buf = this.buf;
    for (let i = start; i < end; i++) {
      if (buf[i] >= 0x80) {
        if (!isUtf8(buf.subarray(start, end))) throw new WireError('string is not valid UTF-8', start);
        return buf.toString('utf8', start, end);
      }
    }
    // latin1Slice is what toString('latin1') calls after checking its arguments (checked here already)
    return (buf as unknown as Latin1Slicer).latin1Slice(start, end);
  }

  /** Skips a field of this wire type (the tag already read). */
  skip(wireType: number): void {
    const at = this.pos;
    switch (wireType) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.FIXED64:
        this.pos += 8;
        break;
      case WireType.LEN:
        this.pos = this.lengthEnd();
        return;
      case WireType.FIXED32:
        this.pos += 4;
        break;
      default:
        throw new WireError(`wire type ${wireType} is not used by this protocol`, at - 1);
    }
    if (this.pos > this.end) throw new WireError('truncated field', at);
  }

  /** Throws unless a field of this number has the wire type its schema gives it. */
  expect(field: number, wireType: number, want: number): void {
    if (wireType !== want) throw new WireError(`field ${field} has wire type ${wireType}, want ${want}`, this.pos);
  }

  private byte(): number {
    if (this.pos >= this.end) throw new WireError('truncated varint', this.pos);
    return this.buf[this.pos++];
  }
}
