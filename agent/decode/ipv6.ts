// IPv6 header (RFC 8200) and the extension-header chain up to the transport protocol.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as bytes from './bytes';

const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const be16 = bytes.be16;
const be32s = bytes.be32s;

/** Extension headers walked before giving up with TOO_MANY_HEADERS. */
export const MAX_IPV6_EXT_HEADERS = 8;

const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_DEST_OPTS = 60;
const NH_MOBILITY = 135;
const NH_HIP = 139;
const NH_SHIM6 = 140;

/**
 * Decodes the IPv6 header at buf[off] and walks the extension headers (hop-by-hop, routing,
 * fragment, destination options, AH, mobility, HIP, shim6). Sets protocol to the final next header
 * and ipHeaderLen to 40 + extension headers. Returns the offset of the transport header, or -1 when
 * there is nothing more to decode (bad version, truncation, a non-first fragment: IP_FRAGMENT).
 *
 * A payload length of 0 (jumbogram, or a TSO/GSO super-packet) is taken as the captured bytes.
 */
export function decodeIpv6(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  const avail = end - off;
  if (avail < 1) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
  if (buf[off] >> 4 !== 6) { meta.event = DecodeEvent.BAD_IP_VERSION; return -1; }
  if (avail < 40) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }

  meta.ipVersion = 6;
  meta.etherType = ETHERTYPE_IPV6;
  meta.ttl = buf[off + 7];
  const src = meta.src;
  const dst = meta.dst;
  src[0] = be32s(buf, off + 8);
  src[1] = be32s(buf, off + 12);
  src[2] = be32s(buf, off + 16);
  src[3] = be32s(buf, off + 20);
  dst[0] = be32s(buf, off + 24);
  dst[1] = be32s(buf, off + 28);
  dst[2] = be32s(buf, off + 32);
  dst[3] = be32s(buf, off + 36);
  let payloadLen = be16(buf, off + 4);
  if (payloadLen === 0) payloadLen = avail - 40;
  const totalLen = 40 + payloadLen;
  meta.ipTotalLen = totalLen;
  meta.ipHeaderLen = 40;

  let next = buf[off + 6];
  let p = off + 40;
  for (let n = 0; ; n++) {
    meta.protocol = next;
    const len = ipv6ExtHeaderLen(buf, p, end, next);
    if (len === 0) {
      meta.ipHeaderLen = p - off;
      return p;
    }
    if (len < 0) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
    if (n >= MAX_IPV6_EXT_HEADERS) { meta.event = DecodeEvent.TOO_MANY_HEADERS; return -1; }
    if (p + len > off + totalLen) { meta.event = DecodeEvent.BAD_IP_TOTAL_LEN; return -1; }
    if (p + len > end) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
    if (next === NH_FRAGMENT) {
      meta.isFragment = true;
      if ((be16(buf, p + 2) & 0xfff8) !== 0) {  // offset > 0: no transport header here
        meta.protocol = buf[p];
        meta.ipHeaderLen = p + 8 - off;
        meta.event = DecodeEvent.IP_FRAGMENT;
        return -1;
      }
    }
    next = buf[p];
    p += len;
  }
}

/**
 * Length of the extension header `next` at buf[p] (bounded by `end`): 0 when `next` is not an
 * extension header (the upper-layer protocol was reached), -1 when its length byte is not captured.
 */
export function ipv6ExtHeaderLen(buf: Uint8Array, p: number, end: number, next: number): number {
  switch (next) {
    case NH_HOP_BY_HOP:
    case NH_ROUTING:
    case NH_DEST_OPTS:
    case NH_MOBILITY:
    case NH_HIP:
    case NH_SHIM6:
      return end - p < 2 ? -1 : (buf[p + 1] + 1) << 3;
    case NH_AH:
      return end - p < 2 ? -1 : (buf[p + 1] + 2) << 2;
    case NH_FRAGMENT:
      return 8;
    default:
      return 0;
  }
}
