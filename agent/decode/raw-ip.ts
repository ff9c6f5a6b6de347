// Link types with no link header: the frame starts with the IP header. RAW (101, and 12/14 on the
// BSDs) picks the version from the first nibble; IPV4 (228) and IPV6 (229) fix it.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;

/** Sets meta.etherType from the IP version nibble at buf[off]; returns off, or -1 (TRUNCATED_L3, BAD_IP_VERSION). */
export function decodeRawIp(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 1) { meta.event = DecodeEvent.TRUNCATED_L3; return -1; }
  const version = buf[off] >> 4;
  if (version === 4) meta.etherType = ETHERTYPE_IPV4;
  else if (version === 6) meta.etherType = ETHERTYPE_IPV6;
  else { meta.event = DecodeEvent.BAD_IP_VERSION; return -1; }
  return off;
}
