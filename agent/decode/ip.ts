// An IP packet from its network header to its transport header. The transport decoder is bounded by
// the end of the IP packet as the header gives it (Ethernet padding is not TCP) and by the capture.
import type { PacketMeta } from './packet-meta';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { decodeTransport } from './transport';

/** IPv4 header at buf[off], then the transport header. */
export function decodeIpv4Packet(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const l4 = decodeIpv4(buf, off, end, meta);
  if (l4 < 0) return;
  const ipEnd = off + meta.ipTotalLen;
  decodeTransport(buf, l4, ipEnd < end ? ipEnd : end, meta);
}

/** IPv6 header and extension headers at buf[off], then the transport header. */
export function decodeIpv6Packet(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const l4 = decodeIpv6(buf, off, end, meta);
  if (l4 < 0) return;
  const ipEnd = off + meta.ipTotalLen;
  decodeTransport(buf, l4, ipEnd < end ? ipEnd : end, meta);
}
