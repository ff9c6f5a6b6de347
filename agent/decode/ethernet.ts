// Ethernet II / IEEE 802.3 header: destination 6, source 6, EtherType-or-length 2. An 802.3 length
// (≤ 1500) is followed by LLC; only LLC/SNAP with an EtherType (AA AA 03 00 00 00 + type) can carry IP.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as bytes from './bytes';

const be16 = bytes.be16;

/**
 * Decodes the Ethernet header at buf[off]; leaves the EtherType in meta.etherType and returns the
 * payload offset, or -1 (TRUNCATED_L2, NOT_IP for LLC frames that are not SNAP).
 */
export function decodeEthernet(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 14) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  const type = be16(buf, off + 12);
  if (type >= 0x0600) { meta.etherType = type; return off + 14; }
  // 802.3 length field: LLC follows.
  if (end - off < 22) { meta.event = DecodeEvent.NOT_IP; return -1; }
  if (buf[off + 14] !== 0xaa || buf[off + 15] !== 0xaa || buf[off + 16] !== 0x03 ||
      (buf[off + 17] | buf[off + 18] | buf[off + 19]) !== 0) {
    meta.event = DecodeEvent.NOT_IP;
    return -1;
  }
  meta.etherType = be16(buf, off + 20);
  return off + 22;
}
