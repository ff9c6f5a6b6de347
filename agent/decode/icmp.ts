// ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code and the 8-byte header. Ports stay 0. Errors
// quoting another datagram are left as they are (no inner decode).
import { DecodeEvent, type PacketMeta } from './packet-meta';

/** Decodes the ICMP/ICMPv6 header at buf[off]; type and code are set once 2 bytes are there. */
export function decodeIcmp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const avail = end - off;
  if (avail < 2) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.icmpType = buf[off];
  meta.icmpCode = buf[off + 1];
  if (avail < 8) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.l4HeaderLen = 8;
  const payload = meta.ipTotalLen - meta.ipHeaderLen - 8;
  meta.payloadLen = payload > 0 ? payload : 0;
  meta.l4Valid = true;
}
