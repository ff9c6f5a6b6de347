// Geneve (RFC 8926) on UDP destination port 6081: version 2 bits (0) + options length 6 bits (in
// 4-byte words), O/C flags 1, protocol type 2, VNI 3, reserved 1, options; then what the protocol
// type names: an Ethernet frame (0x6558) or an IP packet (0x0800, 0x86dd).
import { TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const ETHERTYPE_TEB = ethertypes.ETHERTYPE_TEB;

export const GENEVE_PORT = 6081;

/** The Geneve header at buf[off] (UDP payload, captured to `end`); as findTunnel in tunnel.ts. */
export function parseGeneve(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 8 || (buf[off] >> 6) !== 0) return -1;
  const type = (buf[off + 2] << 8) | buf[off + 3];
  if (type !== ETHERTYPE_TEB && type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return -1;
  meta.etherType = type;
  meta.tunnelType = TunnelType.GENEVE;
  meta.tunnelId = (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
  return off + 8 + ((buf[off] & 0x3f) << 2);
}
