// Walks from the EtherType a link layer found, through tags and shims (802.1Q/ad, MPLS, PPPoE), to
// IPv4 or IPv6, on to the transport layer, and into tunnels, where the walk starts again on the
// inner packet. The recursion lives in this one module so the others import without cycles (see
// bytes.ts for why that matters).
//
// Tunnels (tunnel.ts finds them): the flow is the INNER packet's, so its fields overwrite the
// carrier's; tunnelType/tunnelId name the OUTERMOST tunnel; vlanId stays the outer frame's. `depth`
// counts the tunnels entered, `limit` how many may be; one more at MAX_TUNNEL_DEPTH sets
// TOO_MANY_HEADERS. An inner packet is kept when its event is OK, TRUNCATED_L4 or IP_FRAGMENT (its
// network layer is complete, which is what an untunnelled packet needs to be metered). Otherwise the
// walk returns the tunnel's depth and decodeFrame decodes the frame again with that tunnel left
// closed: the record is then the carrier exactly as it decodes on its own.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as ethernet from './ethernet';
import * as vlan from './vlan';
import * as mpls from './mpls';
import * as pppoe from './pppoe';
import * as ipv4 from './ipv4';
import * as ipv6 from './ipv6';
import * as transport from './transport';
import * as tunnel from './tunnel';

/** Tags and shims (VLAN, MPLS stacks, PPPoE) crossed before giving up with TOO_MANY_HEADERS. */
export const MAX_ENCAPSULATION_DEPTH = 8;

const OK = DecodeEvent.OK;
const TRUNCATED_L4 = DecodeEvent.TRUNCATED_L4;
const IP_FRAGMENT = DecodeEvent.IP_FRAGMENT;
const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const ETHERTYPE_VLAN = ethertypes.ETHERTYPE_VLAN;
const ETHERTYPE_QINQ = ethertypes.ETHERTYPE_QINQ;
const ETHERTYPE_QINQ_OLD = ethertypes.ETHERTYPE_QINQ_OLD;
const ETHERTYPE_QINQ_OLD2 = ethertypes.ETHERTYPE_QINQ_OLD2;
const ETHERTYPE_MPLS = ethertypes.ETHERTYPE_MPLS;
const ETHERTYPE_MPLS_MC = ethertypes.ETHERTYPE_MPLS_MC;
const ETHERTYPE_PPPOE_SESSION = ethertypes.ETHERTYPE_PPPOE_SESSION;
const ETHERTYPE_TEB = ethertypes.ETHERTYPE_TEB;
const MAX_TUNNEL_DEPTH = tunnel.MAX_TUNNEL_DEPTH;
const decodeEthernet = ethernet.decodeEthernet;
const decodeVlan = vlan.decodeVlan;
const decodeMpls = mpls.decodeMpls;
const decodePppoeSession = pppoe.decodePppoeSession;
const decodeIpv4 = ipv4.decodeIpv4;
const decodeIpv6 = ipv6.decodeIpv6;
const decodeTransport = transport.decodeTransport;
const findTunnel = tunnel.findTunnel;

/**
 * Decodes what follows a link layer at buf[off], starting from the EtherType the link layer left
 * in meta.etherType, down to the transport layer and through tunnels. `end` is one past the last
 * captured byte. Returns -1, or the depth of a tunnel whose inner packet was bad.
 */
export function decodeEtherPayload(buf: Uint8Array, off: number, end: number, meta: PacketMeta, depth: number, limit: number): number {
  for (let tags = 0; ; tags++) {
    const type = meta.etherType;
    if (type === ETHERTYPE_IPV4) return decodeIpv4Packet(buf, off, end, meta, depth, limit);
    if (type === ETHERTYPE_IPV6) return decodeIpv6Packet(buf, off, end, meta, depth, limit);
    if (tags >= MAX_ENCAPSULATION_DEPTH) { meta.event = DecodeEvent.TOO_MANY_HEADERS; return -1; }
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
        return -1;
    }
    if (off < 0) return -1;
  }
}

// The transport decoder is bounded by the end of the IP packet as the header gives it (Ethernet
// padding is not TCP) and by the capture.

function decodeIpv4Packet(buf: Uint8Array, off: number, end: number, meta: PacketMeta, depth: number, limit: number): number {
  return afterIpHeader(buf, off, decodeIpv4(buf, off, end, meta), end, meta, depth, limit);
}

function decodeIpv6Packet(buf: Uint8Array, off: number, end: number, meta: PacketMeta, depth: number, limit: number): number {
  return afterIpHeader(buf, off, decodeIpv6(buf, off, end, meta), end, meta, depth, limit);
}

/** Transport header at `l4` (an IP header at `off` ended there, or l4 < 0: it failed), then tunnels. */
function afterIpHeader(buf: Uint8Array, off: number, l4: number, end: number, meta: PacketMeta, depth: number, limit: number): number {
  if (l4 < 0) return -1;
  const ipEnd = off + meta.ipTotalLen;
  const l4End = ipEnd < end ? ipEnd : end;
  decodeTransport(buf, l4, l4End, meta);
  if (meta.event !== OK || meta.isFragment || !mayTunnel(meta.protocol)) return -1;
  return decodeTunnel(buf, l4, l4End, meta, depth, limit);
}

/** UDP, IP-in-IP, GRE: the protocols findTunnel looks into (TCP, most of the traffic, skips the call). */
function mayTunnel(protocol: number): boolean {
  return protocol === 17 || protocol === 4 || protocol === 41 || protocol === 47;
}

/** A complete, unfragmented IP packet: enter the tunnel it carries, if any (see the top of this file). */
function decodeTunnel(buf: Uint8Array, l4: number, end: number, meta: PacketMeta, depth: number, limit: number): number {
  if (depth >= limit && limit < MAX_TUNNEL_DEPTH) return -1;   // second pass: this tunnel stays closed
  const outerType = meta.tunnelType;
  const outerId = meta.tunnelId;
  const carrierEtherType = meta.etherType;
  const inner = findTunnel(buf, l4, end, meta);
  if (inner < 0) return -1;
  const innerType = meta.etherType;
  if (depth > 0 || depth >= limit) {                           // record the outermost tunnel only
    meta.tunnelType = outerType;
    meta.tunnelId = outerId;
  }
  if (depth >= limit) {
    meta.etherType = carrierEtherType;
    meta.event = DecodeEvent.TOO_MANY_HEADERS;
    return -1;
  }
  const vlanId = meta.vlanId;
  clearCarrier(meta);
  let failed: number;
  if (innerType === ETHERTYPE_TEB) {
    const p = decodeEthernet(buf, inner, end, meta);
    failed = p < 0 ? depth : decodeEtherPayload(buf, p, end, meta, depth + 1, limit);
  } else {
    failed = decodeEtherPayload(buf, inner, end, meta, depth + 1, limit);
  }
  meta.vlanId = vlanId;
  if (failed >= 0) return failed;
  const ev = meta.event;
  return ev === OK || ev === TRUNCATED_L4 || ev === IP_FRAGMENT ? -1 : depth;
}

/**
 * Resets what a carrier (IP + UDP, or IP alone) set and an inner decode might leave alone: the
 * address words an inner IPv4 header does not write, the UDP header's fields.
 */
function clearCarrier(meta: PacketMeta): void {
  const src = meta.src;
  const dst = meta.dst;
  src[0] = src[1] = src[2] = src[3] = 0;
  dst[0] = dst[1] = dst[2] = dst[3] = 0;
  meta.l4Valid = false;
  meta.srcPort = 0;
  meta.dstPort = 0;
  meta.l4HeaderLen = 0;
  meta.payloadLen = 0;
  meta.payloadOffset = 0;
  meta.capturedPayloadLen = 0;
}
