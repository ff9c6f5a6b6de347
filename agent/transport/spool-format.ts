// On-disk format of the agent's spool (see spool.ts for how it is used). Little-endian throughout.
//
// Segment file `seg-<first record id, 16 decimal digits>.gks`:
//   header   16 bytes  "GKSPOOL1" (8) | format version u32 = 1 | reserved u32 = 0
//   records  back to back until the end of the file
//
// Record:
//   0   u32  payload length in bytes
//   4   u32  CRC-32 (zlib.crc32, IEEE) of every byte from offset 8 to the end of the record
//   8   u64  record id: +1 per record over the spool's whole life, never reused
//   16  u64  batch seq as the batcher numbered it
//   24  u32  flows in the batch
//   28  u16  boot id length in bytes (UTF-8), at most 255
//   30  u16  reserved = 0
//   32  ...  boot id, then the payload (one encoded AgentMessage{batch}, sent to the collector as is)
//
// A record is valid when its header fits, its length is within MAX_RECORD_BYTES and inside the file,
// its id is the previous id + 1 (the first one: the id in the file name) and the CRC matches. The first
// invalid record ends the segment: a power cut mid-write leaves a torn tail (part of a record, or zeros
// where the file system extended the file), which is cut off at open and counted.
//
// State file `state` (two 64-byte slots written alternately, so a torn write leaves the other intact):
//   0 generation f64 | 8 acked-through record id f64 | 16 batches dropped f64 | 24 flows dropped f64 |
//   32 torn tails f64 | 40 bytes cut f64 | 48 reserved | 60 u32 CRC-32 of bytes 0..59
// f64 holds integers exactly up to 2^53, far beyond what a spool can count.
import { crc32 } from 'node:zlib'; // Node 20.15 and later (package.json engines)

export const SEGMENT_MAGIC = Buffer.from('GKSPOOL1', 'latin1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 32;
export const MAX_BOOT_ID_BYTES = 255;
/** Larger than any frame a collector accepts (its max_frame_bytes is at most 64 MiB). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
export const STATE_SLOT_BYTES = 64;

const TWO_32 = 0x1_0000_0000;

export function segmentName(firstId: number): string {
  return `seg-${String(firstId).padStart(16, '0')}.gks`;
}

export function parseSegmentName(name: string): number | null {
  const m = /^seg-(\d{16})\.gks$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function segmentHeader(): Buffer {
  const h = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(h, 0);
  h.writeUInt32LE(SEGMENT_VERSION, 8);
  return h;
}

export function isSegmentHeader(buf: Buffer): boolean {
  return buf.length >= SEGMENT_HEADER_BYTES && buf.subarray(0, 8).equals(SEGMENT_MAGIC) && buf.readUInt32LE(8) === SEGMENT_VERSION;
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % TWO_32, at);
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at + 4) * TWO_32 + buf.readUInt32LE(at);
}

export interface RecordMeta {
  readonly id: number;
  readonly seq: number;
  readonly bootId: string;
  readonly flows: number;
}

/** The header (with boot id) of a record holding `payload`; its CRC covers the payload too. */
export function recordHeader(meta: RecordMeta, payload: Uint8Array): Buffer {
  const boot = Buffer.from(meta.bootId, 'utf8');
  const h = Buffer.allocUnsafe(RECORD_HEADER_BYTES + boot.length);
  h.writeUInt32LE(payload.length, 0);
  writeU64(h, meta.id, 8);
  writeU64(h, meta.seq, 16);
  h.writeUInt32LE(meta.flows, 24);
  h.writeUInt16LE(boot.length, 28);
  h.writeUInt16LE(0, 30);
  boot.copy(h, RECORD_HEADER_BYTES);
  h.writeUInt32LE(crc32(payload, crc32(h.subarray(8))), 4);
  return h;
}

export interface ParsedRecord extends RecordMeta {
  /** offset of the payload in the segment file, and its length */
  readonly payloadOffset: number;
  readonly payloadBytes: number;
  /** bytes of the whole record */
  readonly recordBytes: number;
}

/**
 * Parses the record at `at` in a whole segment file `buf` (segment offsets = buffer offsets).
 * Returns null when there is no valid record there: the rest of the file is a torn or corrupt tail.
 */
export function parseRecord(buf: Buffer, at: number, expectId: number): ParsedRecord | null {
  if (at + RECORD_HEADER_BYTES > buf.length) return null;
  const payloadBytes = buf.readUInt32LE(at);
  const bootBytes = buf.readUInt16LE(at + 28);
  if (payloadBytes === 0 || payloadBytes > MAX_RECORD_BYTES || bootBytes > MAX_BOOT_ID_BYTES) return null;
  const end = at + RECORD_HEADER_BYTES + bootBytes + payloadBytes;
  if (end > buf.length) return null;
  const id = readU64(buf, at + 8);
  if (id !== expectId) return null;
  if (crc32(buf.subarray(at + 8, end)) !== buf.readUInt32LE(at + 4)) return null;
  return {
    id,
    seq: readU64(buf, at + 16),
    flows: buf.readUInt32LE(at + 24),
    bootId: buf.toString('utf8', at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + bootBytes),
    payloadOffset: at + RECORD_HEADER_BYTES + bootBytes,
    payloadBytes,
    recordBytes: end - at,
  };
}

export interface SpoolState {
  generation: number;
  ackedThrough: number;
  batchesDropped: number;
  flowsDropped: number;
  tornTails: number;
  bytesCut: number;
}

export function encodeState(s: SpoolState): Buffer {
  const b = Buffer.alloc(STATE_SLOT_BYTES);
  b.writeDoubleLE(s.generation, 0);
  b.writeDoubleLE(s.ackedThrough, 8);
  b.writeDoubleLE(s.batchesDropped, 16);
  b.writeDoubleLE(s.flowsDropped, 24);
  b.writeDoubleLE(s.tornTails, 32);
  b.writeDoubleLE(s.bytesCut, 40);
  b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
  return b;
}

/** The newer valid slot of a state file's bytes; null when neither slot is valid (a new spool). */
export function decodeState(buf: Buffer): SpoolState | null {
  let best: SpoolState | null = null;
  for (let at = 0; at + STATE_SLOT_BYTES <= buf.length && at < 2 * STATE_SLOT_BYTES; at += STATE_SLOT_BYTES) {
    const slot = buf.subarray(at, at + STATE_SLOT_BYTES);
    if (crc32(slot.subarray(0, 60)) !== slot.readUInt32LE(60)) continue;
    const s: SpoolState = {
      generation: slot.readDoubleLE(0),
      ackedThrough: slot.readDoubleLE(8),
      batchesDropped: slot.readDoubleLE(16),
      flowsDropped: slot.readDoubleLE(24),
      tornTails: slot.readDoubleLE(32),
      bytesCut: slot.readDoubleLE(40),
    };
    if (!best || s.generation > best.generation) best = s;
  }
  return best;
}
