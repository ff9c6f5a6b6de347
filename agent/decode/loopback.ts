// BSD loopback headers: a 4-byte address family. NULL (link type 0) writes it in the capturing
// host's byte order, so both orders are accepted; LOOP (108) writes it in network order.
// AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (Darwin).
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;

function familyToEtherType(family: number, meta: PacketMeta): number {
  if (family === 2) return ETHERTYPE_IPV4;
  if (family === 24 || family === 28 || family === 30) return ETHERTYPE_IPV6;
  meta.event = DecodeEvent.NOT_IP;
  return 0;
}

/** Decodes a NULL header at buf[off]; leaves the EtherType in meta.etherType, returns the payload offset or -1. */
export function decodeNull(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  // Families are small: the non-zero end of the word says which order it was written in.
  const family = (buf[off + 1] | buf[off + 2] | buf[off + 3]) === 0 ? buf[off]
    : (buf[off] | buf[off + 1] | buf[off + 2]) === 0 ? buf[off + 3] : -1;
  const type = familyToEtherType(family, meta);
  if (type === 0) return -1;
  meta.etherType = type;
  return off + 4;
}

/** Decodes a LOOP header (family in network order) at buf[off]; as decodeNull. */
export function decodeLoop(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  const family = (buf[off] | buf[off + 1] | buf[off + 2]) === 0 ? buf[off + 3] : -1;
  const type = familyToEtherType(family, meta);
  if (type === 0) return -1;
  meta.etherType = type;
  return off + 4;
}
