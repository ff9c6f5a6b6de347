// VXLAN (RFC 7348) on UDP destination port 4789: flags 1 (I = 0x08: the VNI is valid), reserved 3,
// VNI 3, reserved 1; an Ethernet frame follows.
import { TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_TEB = ethertypes.ETHERTYPE_TEB;

export const VXLAN_PORT = 4789;

/** The VXLAN header at buf[off] (UDP payload, captured to `end`); as findTunnel in tunnel.ts. */
export function parseVxlan(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 8 || (buf[off] & 0x08) === 0) return -1;
  meta.etherType = ETHERTYPE_TEB;
  meta.tunnelType = TunnelType.VXLAN;
  meta.tunnelId = (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
  return off + 8;
}
