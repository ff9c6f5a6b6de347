// ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code and the 8-byte header. Ports stay 0. The errors
// that quote the datagram they report on (see icmp-quote.ts) get that datagram's tuple decoded.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as packetMeta from './packet-meta';
import * as icmpQuote from './icmp-quote';

const IPPROTO_ICMPV6 = packetMeta.IPPROTO_ICMPV6;
const decodeIcmpQuote = icmpQuote.decodeIcmpQuote;

/** ICMPv4 types that quote the offending datagram: unreachable, source quench, redirect, time exceeded, parameter problem. */
function isIcmpV4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Decodes the ICMP/ICMPv6 header at buf[off]; type and code are set once 2 bytes are there. */
export function decodeIcmp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const avail = end - off;
  if (avail < 2) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  const type = buf[off];
  meta.icmpType = type;
  meta.icmpCode = buf[off + 1];
  if (avail < 8) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.l4HeaderLen = 8;
  const payload = meta.ipTotalLen - meta.ipHeaderLen - 8;
  meta.payloadLen = payload > 0 ? payload : 0;
  meta.l4Valid = true;
  // ICMPv6 errors are types 1 to 4 (destination unreachable, packet too big, time exceeded,
  // parameter problem); informational messages start at 128.
  if (meta.protocol === IPPROTO_ICMPV6) {
    if (type >= 1 && type <= 4) decodeIcmpQuote(buf, off + 8, end, meta, 6);
  } else if (isIcmpV4Error(type)) {
    decodeIcmpQuote(buf, off + 8, end, meta, 4);
  }
}
