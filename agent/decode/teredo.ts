// Teredo (RFC 4380) on UDP port 3544: IPv6 over UDP/IPv4, optionally after an authentication
// indicator (0x0001, client-id length 1, auth length 1, client id, auth value, nonce 8, confirmation 1)
// and/or an origin indication (0x0000, port 2, address 4). Port 3544 also carries other traffic, so
// the payload counts as a tunnel only when a whole IPv6 header starts where it should and its payload
// length fits in the rest of the UDP payload (bubbles are seen with trailing bytes after a 0-length
// IPv6 packet, so the fit need not be exact).
import { TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;

export const TEREDO_PORT = 3544;

/** The Teredo payload at buf[off] (UDP payload, captured to `end`); as findTunnel in tunnel.ts. */
export function parseTeredo(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  const udpEnd = meta.payloadOffset + meta.payloadLen;  // the payload as the headers give it, captured or not
  let p = off;
  if (end - p >= 4 && buf[p] === 0 && buf[p + 1] === 1) p += 4 + buf[p + 2] + buf[p + 3] + 9;
  if (end - p >= 8 && buf[p] === 0 && buf[p + 1] === 0) p += 8;
  if (end - p < 6 || (buf[p] >> 4) !== 6 || 40 + ((buf[p + 4] << 8) | buf[p + 5]) > udpEnd - p) return -1;
  meta.etherType = ETHERTYPE_IPV6;
  meta.tunnelType = TunnelType.TEREDO;
  meta.tunnelId = -1;
  return p;
}
