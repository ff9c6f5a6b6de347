// Walks from the EtherType a link layer found, through tags and shims (802.1Q/ad, MPLS, PPPoE), to
// IPv4 or IPv6 and on to the transport layer.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_MPLS_MC, ETHERTYPE_PPPOE_SESSION,
  ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_QINQ_OLD2, ETHERTYPE_VLAN,
} from './ethertypes';
import { decodeVlan } from './vlan';
import { decodeMpls } from './mpls';
import { decodePppoeSession } from './pppoe';
import { decodeIpv4Packet, decodeIpv6Packet } from './ip';

/** Tags and shims (VLAN, MPLS stacks, PPPoE) crossed before giving up with TOO_MANY_HEADERS. */
export const MAX_ENCAPSULATION_DEPTH = 8;

/**
 * Decodes what follows a link layer at buf[off], starting from the EtherType the link layer left
 * in meta.etherType, down to the transport layer. `end` is one past the last captured byte.
 */
export function decodeEtherPayload(buf: Uint8Array, off: number, end: number, meta: PacketMeta): void {
  for (let depth = 0; ; depth++) {
    const type = meta.etherType;
    if (type === ETHERTYPE_IPV4) { decodeIpv4Packet(buf, off, end, meta); return; }
    if (type === ETHERTYPE_IPV6) { decodeIpv6Packet(buf, off, end, meta); return; }
    if (depth >= MAX_ENCAPSULATION_DEPTH) { meta.event = DecodeEvent.TOO_MANY_HEADERS; return; }
    switch (type) {
      case ETHERTYPE_VLAN:
      case ETHERTYPE_QINQ:
      case ETHERTYPE_QINQ_OLD:
      case ETHERTYPE_QINQ_OLD2:
        off = decodeVlan(buf, off, end, meta);
        break;
      case ETHERTYPE_MPLS:
      case ETHERTYPE_MPLS_MC:
        off = decodeMpls(buf, off, end, meta);
        break;
      case ETHERTYPE_PPPOE_SESSION:
        off = decodePppoeSession(buf, off, end, meta);
        break;
      default:
        meta.event = DecodeEvent.NOT_IP;
        return;
    }
    if (off < 0) return;
  }
}
