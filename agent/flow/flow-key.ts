// Direction-independent numeric flow keys. A string key costs one allocation per packet and about
// 3× the time of a numeric one (research/perf-baseline.md, modes c2–c4), so keys are 53-bit numbers:
// two independent 32-bit hashes, the first cut to 21 bits. Matching entries are still compared word
// by word, so a collision only costs a probe, never a merged flow.
import type { PacketMeta } from '../decode/packet-meta';
import type { FlowEntry } from './flow-entry';

const TWO_32 = 4294967296;

function mix(h: number): number {
  // murmur3 fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function endpointHash(addr: Int32Array, port: number, seed: number): number {
  let h = seed;
  h = Math.imul(h ^ addr[0], 0x9e3779b1);
  h = Math.imul(h ^ addr[1], 0x9e3779b1);
  h = Math.imul(h ^ addr[2], 0x9e3779b1);
  h = Math.imul(h ^ addr[3], 0x9e3779b1);
  return mix(h ^ port);
}

/** Same value for both directions of a conversation: the endpoint hashes are combined by addition. */
export function flowKey(m: PacketMeta): number {
  const tail = (m.protocol << 16) ^ (m.vlanId & 0xffff) ^ (m.ipVersion << 28);
  const h1 = mix((endpointHash(m.src, m.srcPort, 0x1b873593) + endpointHash(m.dst, m.dstPort, 0x1b873593)) ^ tail);
  const h2 = mix((endpointHash(m.src, m.srcPort, 0x5bd1e995) + endpointHash(m.dst, m.dstPort, 0x5bd1e995)) ^ Math.imul(tail, 0xcc9e2d51));
  return (h1 & 0x1fffff) * TWO_32 + (h2 >>> 0);
}

/** Next key to try when `key` holds another flow (stays within 53 bits). */
export function probeKey(key: number): number {
  return key >= 9007199254740991 ? 0 : key + 1;
}

function sameAddr(a: Int32Array, b: Int32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** 1 when the packet goes initiator → responder, -1 when it goes back, 0 when it is another flow. */
export function matchDirection(e: FlowEntry, m: PacketMeta): number {
  if (e.protocol !== m.protocol || e.vlanId !== m.vlanId || e.ipVersion !== m.ipVersion) return 0;
  if (e.aPort === m.srcPort && e.bPort === m.dstPort && sameAddr(e.aAddr, m.src) && sameAddr(e.bAddr, m.dst)) return 1;
  if (e.aPort === m.dstPort && e.bPort === m.srcPort && sameAddr(e.aAddr, m.dst) && sameAddr(e.bAddr, m.src)) return -1;
  return 0;
}
