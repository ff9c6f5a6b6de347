// TCP header (RFC 9293): the fixed 20 bytes, then the options a flow meter cares about.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as bytes from './bytes';

const be16 = bytes.be16;
const be32u = bytes.be32u;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;               // RFC 9293, length 4
const OPT_WSCALE = 3;            // RFC 7323, length 3
const OPT_SACK_PERMITTED = 4;    // RFC 2018, length 2
const OPT_TIMESTAMPS = 8;        // RFC 7323, length 10

/**
 * Decodes the TCP header at buf[off]; `end` is the end of the captured bytes or of the IP packet,
 * whichever comes first. Ports are set once 4 bytes are there; the rest needs the 20 fixed bytes
 * (TRUNCATED_L4 otherwise). A data offset below 5 words, or one reaching past the IP packet, is
 * BAD_TCP_HEADER_LEN (fields set, l4Valid false). Options are read as far as they were captured.
 */
export function decodeTcp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const avail = end - off;
  if (avail < 4) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.srcPort = be16(buf, off);
  meta.dstPort = be16(buf, off + 2);
  if (avail < 20) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  const headerLen = (buf[off + 12] >> 4) << 2;
  meta.tcpSeq = be32u(buf, off + 4);
  meta.tcpAck = be32u(buf, off + 8);
  meta.tcpFlags = buf[off + 13];
  meta.tcpWindow = be16(buf, off + 14);
  meta.l4HeaderLen = headerLen;
  const ipPayload = meta.ipTotalLen - meta.ipHeaderLen;
  if (headerLen < 20 || headerLen > ipPayload) { meta.event = DecodeEvent.BAD_TCP_HEADER_LEN; return; }
  meta.payloadLen = ipPayload - headerLen;
  meta.l4Valid = true;
  if (headerLen > 20) {
    const optEnd = off + headerLen;
    decodeTcpOptions(buf, off + 20, optEnd < end ? optEnd : end, meta);
  }
}

/**
 * Walks the options in buf[off..end) (end = end of the header or of the capture) for MSS, window
 * scale, SACK-permitted and timestamps. EOL, an option cut by `end` or a length below 2 ends the
 * walk: what was read before stays, nothing after is guessed. An option with the wrong length for
 * its kind is skipped without being recorded.
 */
export function decodeTcpOptions(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  while (off < end) {
    const kind = buf[off];
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) { off++; continue; }
    if (end - off < 2) return;
    const len = buf[off + 1];
    if (len < 2 || len > end - off) return;
    switch (kind) {
      case OPT_MSS: if (len === 4) meta.tcpMss = be16(buf, off + 2); break;
      case OPT_WSCALE: if (len === 3) meta.tcpWscale = buf[off + 2]; break;
      case OPT_SACK_PERMITTED: if (len === 2) meta.tcpSackOk = true; break;
      case OPT_TIMESTAMPS: if (len === 10) meta.tcpTimestamps = true; break;
      default: break;
    }
    off += len;
  }
}
