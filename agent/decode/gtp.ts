// GTP-U (3GPP TS 29.281) on UDP port 2152: flags 1 (version 3 bits = 1, PT = 1, reserved, E, S, PN),
// message type 1, length 2 (bytes after the first 8), TEID 4. Any of E/S/PN adds sequence number 2,
// N-PDU number 1 and next-extension-header type 1; E chains extension headers, each with its length
// in 4-byte units first and the next type last. Only G-PDUs (type 0xFF) carry a user packet: an IPv4
// or IPv6 packet, told apart by its version nibble.
import { TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;

export const GTP_U_PORT = 2152;

const GTP_G_PDU = 0xff;
/** Extension headers followed before the header counts as garbage. */
const MAX_GTP_EXT_HEADERS = 8;

/** The GTP-U header at buf[off] (UDP payload, captured to `end`); as findTunnel in tunnel.ts. */
export function parseGtpU(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 8) return -1;
  const flags = buf[off];
  if ((flags & 0xf0) !== 0x30 || buf[off + 1] !== GTP_G_PDU) return -1;   // version 1, PT 1
  const pduEnd = off + 8 + ((buf[off + 2] << 8) | buf[off + 3]);
  if (pduEnd > meta.payloadOffset + meta.payloadLen) return -1;           // longer than the UDP payload
  let p = off + 8;
  if ((flags & 0x07) !== 0) {
    if (pduEnd - p < 4 || end - p < 4) return -1;
    let next = (flags & 0x04) !== 0 ? buf[p + 3] : 0;
    p += 4;
    for (let n = 0; next !== 0; n++) {
      if (n >= MAX_GTP_EXT_HEADERS || end - p < 1) return -1;
      const len = buf[p] << 2;
      if (len === 0 || end - p < len || pduEnd - p < len) return -1;
      next = buf[p + len - 1];
      p += len;
    }
  }
  if (p >= pduEnd) return -1;                           // a G-PDU with no user packet
  // Not captured: say IPv4, whose decoder reports the cut (the tunnel itself is real).
  const version = p < end ? buf[p] >> 4 : 4;
  if (version !== 4 && version !== 6) return -1;
  meta.etherType = version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
  meta.tunnelType = TunnelType.GTP_U;
  meta.tunnelId = ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
  return p;
}
