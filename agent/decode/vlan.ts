// IEEE 802.1Q / 802.1ad tag: 2 bytes TCI (PCP 3 bits, DEI 1, VID 12) + 2 bytes inner EtherType.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as bytes from './bytes';

const be16 = bytes.be16;

/**
 * Decodes one VLAN tag at buf[off] (after the tag's own EtherType). Records the VLAN id when it is
 * the outermost tag, leaves the inner EtherType in meta.etherType and returns the offset after the
 * tag, or -1 (TRUNCATED_L2).
 */
export function decodeVlan(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  if (meta.vlanId < 0) meta.vlanId = be16(buf, off) & 0x0fff;
  meta.etherType = be16(buf, off + 2);
  return off + 4;
}
