// PPPoE session stage (RFC 2516): ver/type 1 byte, code 1, session id 2, length 2, then a PPP frame
// whose 2-byte protocol says what it carries.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ppp from './ppp';

const pppProtocolToEtherType = ppp.pppProtocolToEtherType;

/**
 * Decodes the PPPoE session header and PPP protocol at buf[off]; leaves the carried EtherType in
 * meta.etherType and returns the offset after the PPP protocol, or -1 (TRUNCATED_L2, NOT_IP).
 */
export function decodePppoeSession(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 8) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  const type = pppProtocolToEtherType((buf[off + 6] << 8) | buf[off + 7]);
  if (type === 0) { meta.event = DecodeEvent.NOT_IP; return -1; }
  meta.etherType = type;
  return off + 8;
}
