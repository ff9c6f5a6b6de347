// TCP header (RFC 9293): the fixed 20 bytes. Options are not decoded yet.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import { be16 } from './bytes';

/**
 * Decodes the TCP header at buf[off]; `end` is the end of the captured bytes or of the IP packet,
 * whichever comes first. Ports are set once 4 bytes are there; the rest needs the 20 fixed bytes
 * (TRUNCATED_L4 otherwise). A data offset below 5 words, or one reaching past the IP packet, is
 * BAD_TCP_HEADER_LEN (fields set, l4Valid false).
 */
export function decodeTcp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const avail = end - off;
  if (avail < 4) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.srcPort = be16(buf, off);
  meta.dstPort = be16(buf, off + 2);
  if (avail < 20) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  const headerLen = (buf[off + 12] >> 4) << 2;
  meta.tcpFlags = buf[off + 13];
  meta.tcpWindow = be16(buf, off + 14);
  meta.l4HeaderLen = headerLen;
  const ipPayload = meta.ipTotalLen - meta.ipHeaderLen;
  if (headerLen < 20 || headerLen > ipPayload) { meta.event = DecodeEvent.BAD_TCP_HEADER_LEN; return; }
  meta.payloadLen = ipPayload - headerLen;
  meta.l4Valid = true;
}
