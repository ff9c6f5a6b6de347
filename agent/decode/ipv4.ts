// IPv4 header (RFC 791). Lengths come from the header fields; the captured length is used only for
// bounds checks, since a snaplen shorter than the packet is normal.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as bytes from './bytes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const be16 = bytes.be16;
const be32s = bytes.be32s;

/**
 * Decodes the IPv4 header at buf[off] (captured bytes end at `end`). Returns the offset of the
 * transport header, or -1 when there is nothing more to decode: bad version or header length, header
 * not captured (the fixed fields are still set when 20 bytes are), total length below the header
 * length, or a non-first fragment (IP_FRAGMENT: addresses and protocol valid, no ports).
 *
 * A total length of 0 is what TSO/GSO-capable NICs hand to the capture for large segments: like
 * Wireshark we then take the captured bytes as the packet.
 */
export function decodeIpv4(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  const avail = end - off;
  if (avail < 1) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
  const vihl = buf[off];
  if (vihl >> 4 !== 4) { meta.event = DecodeEvent.BAD_IP_VERSION; return -1; }
  const headerLen = (vihl & 0x0f) << 2;
  if (headerLen < 20) { meta.event = DecodeEvent.BAD_IP_HEADER_LEN; return -1; }
  if (avail < 20) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }

  meta.ipVersion = 4;
  meta.etherType = ETHERTYPE_IPV4;
  meta.ipHeaderLen = headerLen;
  meta.ttl = buf[off + 8];
  meta.protocol = buf[off + 9];
  meta.src[0] = be32s(buf, off + 12);
  meta.dst[0] = be32s(buf, off + 16);
  let totalLen = be16(buf, off + 2);
  if (avail < headerLen) { meta.ipTotalLen = totalLen; meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
  if (totalLen === 0) totalLen = avail;
  meta.ipTotalLen = totalLen;
  if (totalLen < headerLen) { meta.event = DecodeEvent.BAD_IP_TOTAL_LEN; return -1; }

  const frag = be16(buf, off + 6);
  if ((frag & 0x3fff) !== 0) {            // MF flag or a fragment offset
    meta.isFragment = true;
    if ((frag & 0x1fff) !== 0) { meta.event = DecodeEvent.IP_FRAGMENT; return -1; }
  }
  return off + headerLen;
}
