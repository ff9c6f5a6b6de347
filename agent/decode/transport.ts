// Picks the transport decoder from meta.protocol. Protocols without one (SCTP, GRE, ESP…) leave the
// packet valid at layer 3 with l4Valid false and event OK.
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type PacketMeta } from './packet-meta';
import { decodeTcp } from './tcp';
import { decodeUdp } from './udp';
import { decodeIcmp } from './icmp';

export const IPPROTO_UDPLITE = 136;

/** Decodes the transport header at buf[off]; `end` = min(end of capture, end of the IP packet). */
export function decodeTransport(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  switch (meta.protocol) {
    case IPPROTO_TCP: decodeTcp(buf, off, end, meta); return;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE: decodeUdp(buf, off, end, meta); return;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: decodeIcmp(buf, off, end, meta); return;
    default: return;
  }
}
