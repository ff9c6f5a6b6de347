// Builds decoded packets by hand for flow-level tests (no frame bytes involved).
import { DecodeEvent, IPPROTO_TCP, PacketMeta } from '../../agent/decode/packet-meta';

export function ipv4Word(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) | 0;
}

export interface PacketSpec {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  proto?: number;
  flags?: number;
  window?: number;
  ipLen?: number;
  payload?: number;
  tsUs: number;
  vlan?: number;
  icmpType?: number;
}

/** Fills `m` as decodeFrame would for an IPv4 packet. */
export function fill(m: PacketMeta, p: PacketSpec): PacketMeta {
  m.reset();
  const proto = p.proto ?? IPPROTO_TCP;
  const l4 = proto === IPPROTO_TCP ? 20 : 8;
  m.event = DecodeEvent.OK;
  m.tsSec = Math.floor(p.tsUs / 1e6);
  m.tsUsec = p.tsUs % 1e6;
  m.ipVersion = 4;
  m.src[0] = ipv4Word(p.src);
  m.dst[0] = ipv4Word(p.dst);
  m.protocol = proto;
  m.vlanId = p.vlan ?? -1;
  m.ipHeaderLen = 20;
  m.l4HeaderLen = l4;
  m.payloadLen = p.payload ?? 0;
  m.ipTotalLen = p.ipLen ?? 20 + l4 + m.payloadLen;
  m.srcPort = p.sport ?? 0;
  m.dstPort = p.dport ?? 0;
  m.tcpFlags = p.flags ?? 0;
  m.tcpWindow = p.window ?? 0;
  m.icmpType = p.icmpType ?? 0;
  m.l4Valid = true;
  return m;
}
