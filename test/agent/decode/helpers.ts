// Test helpers for the decoders: hex frames in, every PacketMeta field out.
import { decodeFrame } from '../../../agent/decode/decode';
import { PacketMeta } from '../../../agent/decode/packet-meta';

/** Bytes from hex; whitespace and `|` (used to mark layer boundaries) are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Where decodeBytes places a frame in its buffer (payloadOffset is shown relative to it). */
export const PAD = 7;

/** Every decoder-set field of a PacketMeta, as plain data (addresses as four words). */
export interface MetaView {
  event: number; vlanId: number; etherType: number; ipVersion: number;
  src: number[]; dst: number[]; protocol: number; ipTotalLen: number; ipHeaderLen: number; ttl: number;
  isFragment: boolean; l4Valid: boolean; srcPort: number; dstPort: number; tcpFlags: number; tcpWindow: number;
  l4HeaderLen: number; payloadLen: number; icmpType: number; icmpCode: number;
  tcpSeq: number; tcpAck: number; tcpMss: number; tcpWscale: number; tcpSackOk: boolean; tcpTimestamps: boolean;
  /** Relative to the frame's first byte (0 when unset). */
  payloadOffset: number; capturedPayloadLen: number;
  tunnelType: number; tunnelId: number;
  icmpQuoteValid: boolean; quoteSrc: number[]; quoteDst: number[]; quoteProtocol: number; quoteSrcPort: number; quoteDstPort: number;
}

export const RESET_VIEW: MetaView = {
  event: 0, vlanId: -1, etherType: 0, ipVersion: 0, src: [0, 0, 0, 0], dst: [0, 0, 0, 0], protocol: 0,
  ipTotalLen: 0, ipHeaderLen: 0, ttl: 0, isFragment: false, l4Valid: false, srcPort: 0, dstPort: 0,
  tcpFlags: 0, tcpWindow: 0, l4HeaderLen: 0, payloadLen: 0, icmpType: 0, icmpCode: 0,
  tcpSeq: 0, tcpAck: 0, tcpMss: -1, tcpWscale: -1, tcpSackOk: false, tcpTimestamps: false,
  payloadOffset: 0, capturedPayloadLen: 0, tunnelType: 0, tunnelId: -1,
  icmpQuoteValid: false, quoteSrc: [0, 0, 0, 0], quoteDst: [0, 0, 0, 0], quoteProtocol: 0, quoteSrcPort: 0, quoteDstPort: 0,
};

/** The record as plain data; `start` is where the frame began in the decoded buffer. */
export function view(m: PacketMeta, start = PAD): MetaView {
  return {
    event: m.event, vlanId: m.vlanId, etherType: m.etherType, ipVersion: m.ipVersion,
    src: Array.from(m.src), dst: Array.from(m.dst), protocol: m.protocol, ipTotalLen: m.ipTotalLen,
    ipHeaderLen: m.ipHeaderLen, ttl: m.ttl, isFragment: m.isFragment, l4Valid: m.l4Valid,
    srcPort: m.srcPort, dstPort: m.dstPort, tcpFlags: m.tcpFlags, tcpWindow: m.tcpWindow,
    l4HeaderLen: m.l4HeaderLen, payloadLen: m.payloadLen, icmpType: m.icmpType, icmpCode: m.icmpCode,
    tcpSeq: m.tcpSeq, tcpAck: m.tcpAck, tcpMss: m.tcpMss, tcpWscale: m.tcpWscale, tcpSackOk: m.tcpSackOk,
    tcpTimestamps: m.tcpTimestamps,
    payloadOffset: m.payloadOffset === 0 ? 0 : m.payloadOffset - start, capturedPayloadLen: m.capturedPayloadLen,
    tunnelType: m.tunnelType, tunnelId: m.tunnelId,
    icmpQuoteValid: m.icmpQuoteValid, quoteSrc: Array.from(m.quoteSrc), quoteDst: Array.from(m.quoteDst),
    quoteProtocol: m.quoteProtocol, quoteSrcPort: m.quoteSrcPort, quoteDstPort: m.quoteDstPort,
  };
}

/** The full expected view: reset values overridden by `fields`. */
export function expected(fields: Partial<MetaView>): MetaView {
  return { ...RESET_VIEW, ...fields };
}

/**
 * Decodes `bytes` placed at a non-zero offset in a larger, dirty buffer (as the file reader does);
 * `maxTunnels` as decodeFrame's.
 */
export function decodeBytes(linkType: number, bytes: Uint8Array, caplen = bytes.length, meta = new PacketMeta(), maxTunnels?: number): PacketMeta {
  const buf = new Uint8Array(PAD + bytes.length + 9).fill(0xee);
  buf.set(bytes, PAD);
  // Dirty the record first, so a field the decoder forgets to reset shows.
  meta.src.fill(-1); meta.dst.fill(-1); meta.srcPort = 999; meta.l4Valid = true; meta.vlanId = 7;
  meta.tcpSeq = 5; meta.tcpMss = 1; meta.tcpSackOk = true; meta.payloadOffset = 3; meta.capturedPayloadLen = 3;
  meta.tunnelType = 2; meta.tunnelId = 9; meta.icmpQuoteValid = true; meta.quoteSrc.fill(-1); meta.quoteSrcPort = 1;
  meta.tsSec = 11; meta.tsUsec = 22; meta.caplen = 33; meta.wirelen = 44;
  decodeFrame(linkType, buf, PAD, caplen, meta, maxTunnels);
  return meta;
}

/** IPv4 address as PacketMeta's signed int32 word. */
export function v4(a: string): number {
  const p = a.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
}

/** IPv6 address (full or with ::) as PacketMeta's four signed int32 words. */
export function v6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl].map((g) => parseInt(g, 16));
  const out: number[] = [];
  for (let i = 0; i < 8; i += 2) out.push(((groups[i] << 16) | groups[i + 1]) | 0);
  return out;
}

/** Deterministic PRNG (mulberry32) for the fuzz tests. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
