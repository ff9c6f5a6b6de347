// Picks the transport decoder from meta.protocol. Protocols without one (SCTP, ESP…) leave the
// packet valid at layer 3 with l4Valid false and event OK; the tunnel protocols (IP-in-IP, GRE) are
// taken up by tunnel.ts after this.
import { type PacketMeta } from './packet-meta';
import * as packetMeta from './packet-meta';
import * as tcp from './tcp';
import * as udp from './udp';
import * as icmp from './icmp';

const IPPROTO_ICMP = packetMeta.IPPROTO_ICMP;
const IPPROTO_ICMPV6 = packetMeta.IPPROTO_ICMPV6;
const IPPROTO_TCP = packetMeta.IPPROTO_TCP;
const IPPROTO_UDP = packetMeta.IPPROTO_UDP;
const decodeTcp = tcp.decodeTcp;
const decodeUdp = udp.decodeUdp;
const decodeIcmp = icmp.decodeIcmp;

export const IPPROTO_UDPLITE = 136;

/**
 * Decodes the transport header at buf[off]; `end` = min(end of capture, end of the IP packet).
 * When the header is complete, sets payloadOffset (absolute index in buf) and capturedPayloadLen =
 * min(payloadLen, captured bytes after the header).
 */
export function decodeTransport(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  switch (meta.protocol) {
    case IPPROTO_TCP: decodeTcp(buf, off, end, meta); break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE: decodeUdp(buf, off, end, meta); break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: decodeIcmp(buf, off, end, meta); break;
    default: return;
  }
  if (!meta.l4Valid) return;
  // payloadLen is exactly (end of the IP packet − payload start), so the capture bounds the rest.
  const payload = off + meta.l4HeaderLen;
  const captured = end - payload;
  meta.payloadOffset = payload;
  meta.capturedPayloadLen = captured < 0 ? 0 : captured < meta.payloadLen ? captured : meta.payloadLen;
}
