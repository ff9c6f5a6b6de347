// UDP header (RFC 768), also used for UDP-Lite (RFC 3828), whose header has the same shape.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as bytes from './bytes';

const be16 = bytes.be16;

/** Decodes the 8-byte UDP header at buf[off]; ports are set once 4 bytes are there. */
export function decodeUdp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  const avail = end - off;
  if (avail < 4) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.srcPort = be16(buf, off);
  meta.dstPort = be16(buf, off + 2);
  if (avail < 8) { meta.event = DecodeEvent.TRUNCATED_L4; return; }
  meta.l4HeaderLen = 8;
  const payload = meta.ipTotalLen - meta.ipHeaderLen - 8;
  meta.payloadLen = payload > 0 ? payload : 0;
  meta.l4Valid = true;
}
