// The one record every decoder writes into. One instance lives for the whole capture and is
// overwritten per packet: nothing here may keep a reference to the frame buffer.

/** Why a frame could not be (fully) decoded. 0 means the packet decoded to layer 4 or as far as it goes. */
export const enum DecodeEvent {
  OK = 0,
  UNSUPPORTED_LINKTYPE = 1,   // link type we do not decode (802.11, ARCNET…): counted, skipped
  NOT_IP = 2,                 // a frame carrying ARP, LLDP, STP…: no flow
  TRUNCATED_L2 = 3,           // captured bytes end inside the link-layer header
  TRUNCATED_L3 = 4,           // … inside the IP header
  TRUNCATED_L4 = 5,           // … inside the TCP/UDP/ICMP header (addresses and protocol are still valid)
  BAD_IP_VERSION = 6,
  BAD_IP_HEADER_LEN = 7,
  BAD_IP_TOTAL_LEN = 8,
  BAD_TCP_HEADER_LEN = 9,
  IP_FRAGMENT = 10,           // a non-first fragment: addresses valid, no ports
  TOO_MANY_HEADERS = 11,      // VLAN/MPLS/extension-header nesting past our limit
  TUNNEL_INNER_INVALID = 12,  // a tunnel's inner packet is truncated or malformed: every field describes
                              // the carrier (complete, l4Valid as decoded); meter it like OK
}

/** Number of DecodeEvent values; counters are a Float64Array of this length indexed by the event. */
export const DECODE_EVENT_COUNT = 13;

export const DECODE_EVENT_NAMES: readonly string[] = [
  'ok', 'unsupported_linktype', 'not_ip', 'truncated_l2', 'truncated_l3', 'truncated_l4',
  'bad_ip_version', 'bad_ip_header_len', 'bad_ip_total_len', 'bad_tcp_header_len', 'ip_fragment',
  'too_many_headers', 'tunnel_inner_invalid',
];

export const enum TunnelType {
  NONE = 0,
  GRE = 1,
  VXLAN = 2,
  GENEVE = 3,
  GTP_U = 4,
  IP_IN_IP = 5,              // IPv4 or IPv6 carried directly in IPv4/IPv6 (protocols 4 and 41)
  TEREDO = 6,
}

export const TUNNEL_NAMES: readonly string[] = ['', 'gre', 'vxlan', 'geneve', 'gtp-u', 'ip-in-ip', 'teredo'];

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export class PacketMeta {
  // Capture facts, set by the source before decoding.
  tsSec = 0;
  tsUsec = 0;
  caplen = 0;                 // bytes captured
  wirelen = 0;                // bytes on the wire

  event: DecodeEvent = DecodeEvent.OK;

  // Link layer.
  vlanId = -1;                // outermost 802.1Q/802.1ad id, -1 when untagged
  etherType = 0;              // of the network layer finally reached

  // Network layer. Addresses are four int32 words in network order (IPv4 uses word 0 only, the
  // rest 0): numeric, comparable and hashable without building strings.
  ipVersion = 0;              // 0 = no IP layer, 4 or 6
  readonly src = new Int32Array(4);
  readonly dst = new Int32Array(4);
  protocol = 0;               // IANA number of the transport (after IPv6 extension headers)
  ipTotalLen = 0;             // IPv4 total length / IPv6 40 + payload length, as the header says
  ipHeaderLen = 0;            // IPv4 IHL×4 / IPv6 40 + extension headers
  ttl = 0;                    // TTL / hop limit
  isFragment = false;         // any fragment (first or later)

  // Transport layer (valid when l4Valid).
  l4Valid = false;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  l4HeaderLen = 0;            // TCP data offset×4, UDP 8, ICMP 8
  payloadLen = 0;             // ipTotalLen - ipHeaderLen - l4HeaderLen, never negative
  icmpType = 0;
  icmpCode = 0;

  // TCP details (valid when protocol is TCP and l4Valid). Options: -1 / false when absent.
  tcpSeq = 0;                 // uint32 as a number
  tcpAck = 0;
  tcpMss = -1;
  tcpWscale = -1;
  tcpSackOk = false;
  tcpTimestamps = false;

  // Where the transport payload starts in the frame buffer (absolute index into the buffer handed to
  // decodeFrame) and how many of its bytes were captured: min(payloadLen, caplen - offset), ≥ 0.
  payloadOffset = 0;
  capturedPayloadLen = 0;

  // Tunnels: when the frame carried GRE, VXLAN, Geneve, GTP-U, IP-in-IP or Teredo, the fields above
  // describe the INNER packet and these name the outermost tunnel. 0 / -1 when untunnelled.
  tunnelType: TunnelType = TunnelType.NONE;
  tunnelId = -1;              // VXLAN/Geneve VNI, GTP-U TEID, GRE key; -1 when the tunnel has none

  // ICMP/ICMPv6 errors (destination unreachable, time exceeded, parameter problem, packet too big):
  // the quoted datagram's tuple, so the error can be attributed to the flow it reports on.
  icmpQuoteValid = false;
  readonly quoteSrc = new Int32Array(4);
  readonly quoteDst = new Int32Array(4);
  quoteProtocol = 0;
  quoteSrcPort = 0;
  quoteDstPort = 0;

  /** Reset everything a decoder may set; the source sets the capture facts afterwards. */
  reset(): void {
    this.event = DecodeEvent.OK;
    this.vlanId = -1;
    this.etherType = 0;
    this.ipVersion = 0;
    this.src[0] = this.src[1] = this.src[2] = this.src[3] = 0;
    this.dst[0] = this.dst[1] = this.dst[2] = this.dst[3] = 0;
    this.protocol = 0;
    this.ipTotalLen = 0;
    this.ipHeaderLen = 0;
    this.ttl = 0;
    this.isFragment = false;
    this.l4Valid = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpWindow = 0;
    this.l4HeaderLen = 0;
    this.payloadLen = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpMss = -1;
    this.tcpWscale = -1;
    this.tcpSackOk = false;
    this.tcpTimestamps = false;
    this.payloadOffset = 0;
    this.capturedPayloadLen = 0;
    this.tunnelType = TunnelType.NONE;
    this.tunnelId = -1;
    if (this.icmpQuoteValid) {
      this.icmpQuoteValid = false;
      this.quoteSrc.fill(0);
      this.quoteDst.fill(0);
      this.quoteProtocol = this.quoteSrcPort = this.quoteDstPort = 0;
    }
  }
}
