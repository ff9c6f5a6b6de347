// PPP (RFC 1661) as link types PPP (9) and PPP_HDLC (50): optional HDLC address/control bytes FF 03,
// then the protocol, 1 byte when compressed (odd first byte, RFC 1661 §6.5) or 2. Cisco HDLC
// (C_HDLC, 104): address 1, control 1, then a 2-byte EtherType.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as bytes from './bytes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const ETHERTYPE_MPLS = ethertypes.ETHERTYPE_MPLS;
const ETHERTYPE_MPLS_MC = ethertypes.ETHERTYPE_MPLS_MC;
const be16 = bytes.be16;

/** The EtherType a PPP protocol number carries, 0 when it is not IP or MPLS. */
export function pppProtocolToEtherType(protocol: number): number {
  switch (protocol) {
    case 0x0021: return ETHERTYPE_IPV4;
    case 0x0057: return ETHERTYPE_IPV6;
    case 0x0281: return ETHERTYPE_MPLS;
    case 0x0283: return ETHERTYPE_MPLS_MC;
    default: return 0;
  }
}

/** Decodes a PPP header at buf[off]; leaves the EtherType in meta.etherType, returns the payload offset or -1. */
export function decodePpp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 2) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  if (buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
  if (end - off < 1) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  let protocol: number;
  if ((buf[off] & 0x01) !== 0) {
    protocol = buf[off];
    off += 1;
  } else {
    if (end - off < 2) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
    protocol = be16(buf, off);
    off += 2;
  }
  const type = pppProtocolToEtherType(protocol);
  if (type === 0) { meta.event = DecodeEvent.NOT_IP; return -1; }
  meta.etherType = type;
  return off;
}

/** Decodes a Cisco HDLC header at buf[off]; leaves the EtherType in meta.etherType, returns the payload offset or -1. */
export function decodeCiscoHdlc(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  meta.etherType = be16(buf, off + 2);
  return off + 4;
}
