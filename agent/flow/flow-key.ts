// Direction-independent numeric flow keys. A string key costs one allocation per packet and about
// 3× the time of a numeric one (research/perf-baseline.md, modes c2–c4); a 53-bit key is a double,
// boxed on every call that is not inlined (16 bytes per packet, measured). So keys are int32 (small
// integers to V8): flows whose keys collide are chained and told apart by comparing the tuple.
import type { PacketMeta } from '../decode/packet-meta';
import type { FlowEntry } from './flow-entry';

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
export function tupleKey(src: Int32Array, srcPort: number, dst: Int32Array, dstPort: number,
  protocol: number, vlanId: number, ipVersion: number): number {
  const tail = (protocol << 16) ^ (vlanId & 0xffff) ^ (ipVersion << 28);
  return mix((endpointHash(src, srcPort, 0x1b873593) + endpointHash(dst, dstPort, 0x1b873593)) ^ tail) | 0;
}

export function flowKey(m: PacketMeta): number {
  return tupleKey(m.src, m.srcPort, m.dst, m.dstPort, m.protocol, m.vlanId, m.ipVersion);
}

function sameAddr(a: Int32Array, b: Int32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** 1 when the tuple goes initiator → responder, -1 when it goes back, 0 when it is another flow. */
export function matchTuple(e: FlowEntry, src: Int32Array, srcPort: number, dst: Int32Array, dstPort: number,
  protocol: number, vlanId: number, ipVersion: number): number {
  if (e.protocol !== protocol || e.vlanId !== vlanId || e.ipVersion !== ipVersion) return 0;
  if (e.aPort === srcPort && e.bPort === dstPort && sameAddr(e.aAddr, src) && sameAddr(e.bAddr, dst)) return 1;
  if (e.aPort === dstPort && e.bPort === srcPort && sameAddr(e.aAddr, dst) && sameAddr(e.bAddr, src)) return -1;
  return 0;
}

export function matchDirection(e: FlowEntry, m: PacketMeta): number {
  return matchTuple(e, m.src, m.srcPort, m.dst, m.dstPort, m.protocol, m.vlanId, m.ipVersion);
}
