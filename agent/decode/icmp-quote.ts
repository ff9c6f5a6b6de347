// The datagram an ICMP/ICMPv6 error quotes (RFC 792: the IP header + at least 8 bytes; RFC 4443: as
// much as fits). Its addresses, protocol (IPv6: after the extension headers, as far as they were quoted)
// and ports go into the quote* fields so the error can be counted on the flow it reports on; the
// packet's own tuple is not touched.
import { type PacketMeta } from './packet-meta';
import * as packetMeta from './packet-meta';
import * as bytes from './bytes';
import * as ipv6 from './ipv6';

const IPPROTO_TCP = packetMeta.IPPROTO_TCP;
const IPPROTO_UDP = packetMeta.IPPROTO_UDP;
const be16 = bytes.be16;
const be32s = bytes.be32s;
const MAX_IPV6_EXT_HEADERS = ipv6.MAX_IPV6_EXT_HEADERS;
const ipv6ExtHeaderLen = ipv6.ipv6ExtHeaderLen;

const IPPROTO_UDPLITE = 136;   // as in transport.ts (not imported from there: transport → icmp → here)

function hasPorts(protocol: number): boolean {
  return protocol === IPPROTO_TCP || protocol === IPPROTO_UDP || protocol === IPPROTO_UDPLITE;
}

/**
 * Decodes the quoted IP header at buf[off] (bounded by `end`). Sets icmpQuoteValid once both
 * addresses were read; ports once 4 transport bytes were (TCP, UDP, UDP-Lite, not in a non-first
 * fragment). ICMP quotes IPv4 and ICMPv6 quotes IPv6 (`version`); anything else, or a quote that is
 * cut or garbage, leaves icmpQuoteValid false. The quote has the error's own IP version, so the
 * quoted tuple is keyed like any flow of that version.
 */
export function decodeIcmpQuote(buf: Uint8Array, off: number, end: number, meta: PacketMeta, version: number): void {
  if (end - off < 1 || buf[off] >> 4 !== version) return;
  let p: number;
  let protocol: number;
  if (version === 4) {
    const headerLen = (buf[off] & 0x0f) << 2;
    if (headerLen < 20 || end - off < 20) return;
    protocol = buf[off + 9];
    meta.quoteSrc[0] = be32s(buf, off + 12);
    meta.quoteDst[0] = be32s(buf, off + 16);
    meta.quoteProtocol = protocol;
    meta.icmpQuoteValid = true;
    if ((be16(buf, off + 6) & 0x1fff) !== 0) return;   // a later fragment: no transport header
    p = off + headerLen;
  } else if (version === 6) {
    if (end - off < 40) return;
    const src = meta.quoteSrc;
    const dst = meta.quoteDst;
    src[0] = be32s(buf, off + 8); src[1] = be32s(buf, off + 12); src[2] = be32s(buf, off + 16); src[3] = be32s(buf, off + 20);
    dst[0] = be32s(buf, off + 24); dst[1] = be32s(buf, off + 28); dst[2] = be32s(buf, off + 32); dst[3] = be32s(buf, off + 36);
    protocol = buf[off + 6];
    meta.quoteProtocol = protocol;
    meta.icmpQuoteValid = true;
    p = off + 40;
    for (let n = 0; ; n++) {
      const len = ipv6ExtHeaderLen(buf, p, end, protocol);
      if (len === 0) break;                              // the upper-layer protocol
      if (len < 0 || n >= MAX_IPV6_EXT_HEADERS || p + len > end) return;
      if (protocol === 44 && (be16(buf, p + 2) & 0xfff8) !== 0) { meta.quoteProtocol = buf[p]; return; }
      protocol = buf[p];
      meta.quoteProtocol = protocol;
      p += len;
    }
  } else {
    return;
  }
  if (!hasPorts(protocol) || end - p < 4) return;
  meta.quoteSrcPort = be16(buf, p);
  meta.quoteDstPort = be16(buf, p + 2);
}
