// The decode module's public surface.
export { LinkType, decodeFrame } from './decode';
export {
  PacketMeta, DecodeEvent, DECODE_EVENT_COUNT, DECODE_EVENT_NAMES, TunnelType, TUNNEL_NAMES,
  TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR,
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6,
} from './packet-meta';
export { MAX_TUNNEL_DEPTH } from './tunnel';
export { inspectPayload } from './app/inspect';
export type { AppNames } from './app/app-names';
