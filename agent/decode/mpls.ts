// MPLS label stack (RFC 3032): 4-byte entries, label 20 bits, TC 3, bottom-of-stack 1, TTL 8.
// Nothing says what is under the bottom label; like tcpdump we guess from the first nibble, after the
// explicit-null labels (0 = IPv4, 2 = IPv6) that do say it.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;

/** Labels popped before giving up with TOO_MANY_HEADERS. */
export const MAX_MPLS_LABELS = 16;

/**
 * Pops labels from buf[off] to the bottom of the stack and leaves 0x0800/0x86dd in meta.etherType.
 * Returns the payload offset, or -1 (TRUNCATED_L2, TOO_MANY_HEADERS, NOT_IP for pseudowires and
 * anything else that is not IP).
 */
export function decodeMpls(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  for (let n = 0; n < MAX_MPLS_LABELS; n++) {
    if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
    const bottom = (buf[off + 2] & 0x01) !== 0;
    const label = (buf[off] << 12) | (buf[off + 1] << 4) | (buf[off + 2] >> 4);
    off += 4;
    if (!bottom) continue;
    if (label === 0) { meta.etherType = ETHERTYPE_IPV4; return off; }
    if (label === 2) { meta.etherType = ETHERTYPE_IPV6; return off; }
    if (end - off < 1) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
    const version = buf[off] >> 4;
    if (version === 4) { meta.etherType = ETHERTYPE_IPV4; return off; }
    if (version === 6) { meta.etherType = ETHERTYPE_IPV6; return off; }
    meta.event = DecodeEvent.NOT_IP;
    return -1;
  }
  meta.event = DecodeEvent.TOO_MANY_HEADERS;
  return -1;
}
