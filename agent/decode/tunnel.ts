// Which tunnel an IP packet carries, if any. Entered: IP-in-IP (protocol 4, 41), GRE (47, gre.ts),
// and over UDP by port after a header check: VXLAN (destination 4789), Geneve (destination 6081),
// GTP-U (2152 either side), Teredo (3544 either side). A header that fails its check is not a tunnel:
// the packet stays the UDP packet it is. network.ts enters the tunnel; the policy is described there.
import { IPPROTO_UDP, TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as gre from './gre';
import * as vxlan from './vxlan';
import * as geneve from './geneve';
import * as gtp from './gtp';
import * as teredo from './teredo';

/** Tunnels entered inside one another before TOO_MANY_HEADERS. */
export const MAX_TUNNEL_DEPTH = 4;

const IPPROTO_IPIP = 4;
const IPPROTO_IPV6 = 41;
const IPPROTO_GRE = 47;
const UDP = IPPROTO_UDP;
const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const VXLAN_PORT = vxlan.VXLAN_PORT;
const GENEVE_PORT = geneve.GENEVE_PORT;
const GTP_U_PORT = gtp.GTP_U_PORT;
const TEREDO_PORT = teredo.TEREDO_PORT;
const parseGre = gre.parseGre;
const parseVxlan = vxlan.parseVxlan;
const parseGeneve = geneve.parseGeneve;
const parseGtpU = gtp.parseGtpU;
const parseTeredo = teredo.parseTeredo;

/**
 * For a complete IP packet whose transport header is at buf[l4] (end = min(end of capture, end of the
 * IP packet)): the offset of the tunnelled packet, or -1 when there is none. On success sets
 * meta.etherType to what the inner packet is (ETHERTYPE_TEB: an Ethernet frame), meta.tunnelType and
 * meta.tunnelId (-1 when the tunnel has no id); on -1 changes nothing. The parsers follow the same
 * contract.
 */
export function findTunnel(buf: Uint8Array, l4: number, end: number, meta: PacketMeta): number {
  switch (meta.protocol) {
    case UDP: {
      if (!meta.l4Valid) return -1;
      const sp = meta.srcPort;
      const dp = meta.dstPort;
      const p = meta.payloadOffset;
      const e = p + meta.capturedPayloadLen;
      if (dp === VXLAN_PORT) return parseVxlan(buf, p, e, meta);
      if (dp === GENEVE_PORT) return parseGeneve(buf, p, e, meta);
      if (sp === GTP_U_PORT || dp === GTP_U_PORT) return parseGtpU(buf, p, e, meta);
      if (sp === TEREDO_PORT || dp === TEREDO_PORT) return parseTeredo(buf, p, e, meta);
      return -1;
    }
    case IPPROTO_IPIP: return ipInIp(meta, l4, ETHERTYPE_IPV4);
    case IPPROTO_IPV6: return ipInIp(meta, l4, ETHERTYPE_IPV6);
    case IPPROTO_GRE: return parseGre(buf, l4, end, meta);
    default: return -1;
  }
}

function ipInIp(meta: PacketMeta, inner: number, etherType: number): number {
  meta.etherType = etherType;
  meta.tunnelType = TunnelType.IP_IN_IP;
  meta.tunnelId = -1;
  return inner;
}
