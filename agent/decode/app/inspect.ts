// Application names from a payload: picks the parser by content and ports. Called by the flow table
// for the first few payload packets of a flow, with the captured payload (payloadOffset,
// capturedPayloadLen). Nothing is allocated unless a parser recognises its protocol; no parser throws
// or reads outside buf[offset..offset+length).
import type { AppNames } from './app-names';
import { DNS_PORT, MDNS_PORT, parseDns } from './dns';
import { looksLikeClientHello, parseTlsClientHello } from './tls';
import { parseHttpRequest } from './http';
import { parseQuicLongHeader } from './quic';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/**
 * Adds what the payload names to `out` (DNS question/answers, TLS SNI/ALPN/version/JA4, HTTP
 * method/Host/User-Agent, QUIC version); true when it added something.
 *  - UDP, either port 53 or 5353: DNS; else a QUIC long header with a known version.
 *  - TCP: a TLS ClientHello (any port, by content); either port 53: DNS after its 2-byte length;
 *    else an HTTP/1.x request (any port, by content).
 */
export function inspectPayload(
  protocol: number, srcPort: number, dstPort: number, buf: Uint8Array, offset: number, length: number, out: AppNames,
): boolean {
  if (!(offset >= 0) || !(length > 0)) return false;
  let end = offset + length;
  if (end > buf.length) end = buf.length;
  if (end - offset < 1) return false;
  if (protocol === IPPROTO_UDP) {
    if (srcPort === DNS_PORT || dstPort === DNS_PORT || srcPort === MDNS_PORT || dstPort === MDNS_PORT) {
      return parseDns(buf, offset, end, out);
    }
    return (buf[offset] & 0x80) !== 0 && parseQuicLongHeader(buf, offset, end, out);
  }
  if (protocol !== IPPROTO_TCP) return false;
  if (looksLikeClientHello(buf, offset, end)) return parseTlsClientHello(buf, offset, end, out);
  if (srcPort === DNS_PORT || dstPort === DNS_PORT) {
    // DNS over TCP: a 2-byte length, then the message (bounded by it and by the segment).
    if (end - offset < 2) return false;
    const msgEnd = offset + 2 + ((buf[offset] << 8) | buf[offset + 1]);
    return parseDns(buf, offset + 2, msgEnd < end ? msgEnd : end, out);
  }
  const c = buf[offset];
  return c >= 0x41 && c <= 0x54 && parseHttpRequest(buf, offset, end, out);   // 'A'..'T': the methods' first letters
}
