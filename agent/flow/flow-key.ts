// Direction-independent numeric flow keys. A string key costs one allocation per packet and about
// 3× the time of a numeric one (research/perf-baseline.md, modes c2–c4); a 53-bit key is a double,
// boxed on every call that is not inlined (16 bytes per packet, measured). So keys are int32 (small
// integers to V8): flows in one hash bucket are chained and told apart by comparing the tuple.
import type { PacketMeta } from '../decode/packet-meta';
import { CoreI } from './flow-slots';

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

function sameAddr(i32: Int32Array, at: number, a: Int32Array): boolean {
  return i32[at] === a[0] && i32[at + 1] === a[1] && i32[at + 2] === a[2] && i32[at + 3] === a[3];
}

/** 1 when the tuple goes initiator → responder, -1 when it goes back, 0 when it is another flow. */
export function matchTuple(i32: Int32Array, slot: number, src: Int32Array, srcPort: number, dst: Int32Array,
  dstPort: number, protocol: number, vlanId: number, ipVersion: number): number {
  const b = slot * CoreI.STRIDE;
  if ((i32[b + CoreI.META] & 0xfff) !== (protocol | (ipVersion << 8)) || i32[b + CoreI.VLAN] !== vlanId) return 0;
  const ports = i32[b + CoreI.PORTS];
  if (ports === ((srcPort << 16) | dstPort) && sameAddr(i32, b + CoreI.A_ADDR, src) && sameAddr(i32, b + CoreI.B_ADDR, dst)) return 1;
  if (ports === ((dstPort << 16) | srcPort) && sameAddr(i32, b + CoreI.A_ADDR, dst) && sameAddr(i32, b + CoreI.B_ADDR, src)) return -1;
  return 0;
}

export function matchDirection(i32: Int32Array, slot: number, m: PacketMeta): number {
  return matchTuple(i32, slot, m.src, m.srcPort, m.dst, m.dstPort, m.protocol, m.vlanId, m.ipVersion);
}
