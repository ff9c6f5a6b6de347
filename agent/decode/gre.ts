// GRE (IP protocol 47). Version 0 (RFC 2784, RFC 2890 key and sequence): flags 2 (C 0x8000, R 0x4000,
// K 0x2000, S 0x1000; version in the low 3 bits), protocol type 2, then checksum + reserved 4 if C,
// key 4 if K, sequence 4 if S. R (RFC 1701 source routing) is not decoded. The protocol type is an
// EtherType: IPv4, IPv6, MPLS, VLAN tags, 0x6558 (transparent Ethernet bridging), and ERSPAN:
//   type I   0x88be without S: an Ethernet frame straight away;
//   type II  0x88be with S: version 4 bits (1), VLAN 12, COS 3, En 2, T 1, session id 10, reserved 12,
//            index 20 (8 bytes), then Ethernet;
//   type III 0x22eb: version 4 (2), VLAN 12, COS 3, BSO 2, T 1, session id 10, timestamp 32, SGT 16,
//            P 1, frame type 5, hardware id 6, D 1, granularity 2, O 1 (12 bytes), 8 more when O, then
//            Ethernet when the frame type is 0.
// Version 1 (RFC 2637, PPTP): K set, key = payload length 2 + call id 2, sequence 4 if S, ack 4 if A
// (0x0080), protocol 0x880b: a PPP frame; entered only when that PPP frame is IP (it usually is
// compressed or encrypted).
// tunnelId: the key (version 0) or call id (version 1) when present, else the ERSPAN session id.
import { TunnelType, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as bytes from './bytes';
import * as ppp from './ppp';

const ETHERTYPE_ERSPAN_2 = ethertypes.ETHERTYPE_ERSPAN_2;
const ETHERTYPE_ERSPAN_3 = ethertypes.ETHERTYPE_ERSPAN_3;
const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const ETHERTYPE_MPLS = ethertypes.ETHERTYPE_MPLS;
const ETHERTYPE_MPLS_MC = ethertypes.ETHERTYPE_MPLS_MC;
const ETHERTYPE_PPP = ethertypes.ETHERTYPE_PPP;
const ETHERTYPE_QINQ = ethertypes.ETHERTYPE_QINQ;
const ETHERTYPE_TEB = ethertypes.ETHERTYPE_TEB;
const ETHERTYPE_VLAN = ethertypes.ETHERTYPE_VLAN;
const be16 = bytes.be16;
const be32u = bytes.be32u;
const pppProtocolToEtherType = ppp.pppProtocolToEtherType;

const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
const GRE_A = 0x0080;

/** The GRE header at buf[off] (captured to `end`); as findTunnel in tunnel.ts. */
export function parseGre(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 4) return -1;
  const flags = be16(buf, off);
  const proto = be16(buf, off + 2);
  const version = flags & 0x0007;
  if (version === 1) return parsePptpGre(buf, off, end, meta, flags, proto);
  if (version !== 0 || (flags & GRE_R) !== 0) return -1;
  let p = off + 4;
  if ((flags & GRE_C) !== 0) p += 4;
  let id = -1;
  if ((flags & GRE_K) !== 0) {
    if (end - p < 4) return -1;
    id = be32u(buf, p);
    p += 4;
  }
  if ((flags & GRE_S) !== 0) p += 4;
  let inner = proto;
  switch (proto) {
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6:
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MC:
    case ETHERTYPE_VLAN:
    case ETHERTYPE_QINQ:
    case ETHERTYPE_TEB:
      break;
    case ETHERTYPE_ERSPAN_2:
      inner = ETHERTYPE_TEB;
      if ((flags & GRE_S) === 0) break;                   // type I: no ERSPAN header
      if (end - p < 8 || (buf[p] >> 4) !== 1) return -1;
      if (id < 0) id = be16(buf, p + 2) & 0x03ff;
      p += 8;
      break;
    case ETHERTYPE_ERSPAN_3: {
      inner = ETHERTYPE_TEB;
      if (end - p < 12 || (buf[p] >> 4) !== 2) return -1;
      const w = be16(buf, p + 10);
      if (((w >> 10) & 0x1f) !== 0) return -1;          // frame type: only Ethernet
      if (id < 0) id = be16(buf, p + 2) & 0x03ff;
      p += (w & 1) !== 0 ? 20 : 12;
      break;
    }
    default:
      return -1;
  }
  meta.etherType = inner;
  meta.tunnelType = TunnelType.GRE;
  meta.tunnelId = id;
  return p;
}

function parsePptpGre(buf: Uint8Array, off: number, end: number, meta: PacketMeta, flags: number, proto: number): number {
  if (proto !== ETHERTYPE_PPP || (flags & (GRE_C | GRE_R | GRE_K)) !== GRE_K) return -1;
  let p = off + 8;
  if ((flags & GRE_S) !== 0) p += 4;
  if ((flags & GRE_A) !== 0) p += 4;
  if (end - p < 2) return -1;
  if (buf[p] === 0xff && buf[p + 1] === 0x03) p += 2;   // address and control, unless compressed away
  if (end - p < 1) return -1;
  let pppProto: number;
  if ((buf[p] & 0x01) !== 0) {
    pppProto = buf[p];
    p += 1;
  } else {
    if (end - p < 2) return -1;
    pppProto = be16(buf, p);
    p += 2;
  }
  const type = pppProtocolToEtherType(pppProto);
  if (type === 0) return -1;
  meta.etherType = type;
  meta.tunnelType = TunnelType.GRE;
  meta.tunnelId = be16(buf, off + 6);
  return p;
}
