// The one entry of the decoders: a captured frame in, the reused PacketMeta filled in.
// Measured (Node 20, the dev captures' mix preloaded in one buffer): see docs/decoding.md; no heap
// growth over 5 M frames: plain byte arithmetic, no DataView, no objects.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as ethernet from './ethernet';
import * as sll from './sll';
import * as loopback from './loopback';
import * as ppp from './ppp';
import * as rawIp from './raw-ip';
import * as nflog from './nflog';
import * as network from './network';
import * as tunnel from './tunnel';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const decodeEthernet = ethernet.decodeEthernet;
const decodeSll = sll.decodeSll;
const decodeSll2 = sll.decodeSll2;
const decodeLoop = loopback.decodeLoop;
const decodeNull = loopback.decodeNull;
const decodeCiscoHdlc = ppp.decodeCiscoHdlc;
const decodePpp = ppp.decodePpp;
const decodeRawIp = rawIp.decodeRawIp;
const decodeNflog = nflog.decodeNflog;
const decodeEtherPayload = network.decodeEtherPayload;
const MAX_TUNNEL_DEPTH = tunnel.MAX_TUNNEL_DEPTH;

/** LINKTYPE_* values (tcpdump.org/linktypes.html) that decodeFrame understands. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;

/** DLT_RAW as OpenBSD (12) and old BSD/OS (14) numbered it; files carry these values too. */
const LINKTYPE_RAW_BSD = 12;
const LINKTYPE_RAW_BSDOS = 14;

// The switch below compares against these module constants: `LinkType.ETHERNET` compiles to a
// property load from the module's exports, on every frame.
const LT_NULL = LinkType.NULL;
const LT_ETHERNET = LinkType.ETHERNET;
const LT_PPP = LinkType.PPP;
const LT_PPP_HDLC = LinkType.PPP_HDLC;
const LT_RAW = LinkType.RAW;
const LT_C_HDLC = LinkType.C_HDLC;
const LT_LOOP = LinkType.LOOP;
const LT_LINUX_SLL = LinkType.LINUX_SLL;
const LT_IPV4 = LinkType.IPV4;
const LT_IPV6 = LinkType.IPV6;
const LT_NFLOG = LinkType.NFLOG;
const LT_LINUX_SLL2 = LinkType.LINUX_SLL2;

/**
 * Decode one frame of `caplen` captured bytes starting at buf[start]. Calls meta.reset() first,
 * never sets tsSec/tsUsec/caplen/wirelen (the caller sets them), sets meta.event; never throws,
 * never allocates.
 *
 * Tunnels are entered up to `maxTunnels` deep (default and ceiling MAX_TUNNEL_DEPTH, where one more
 * is TOO_MANY_HEADERS; with fewer, the packet carrying the next tunnel is the record). A tunnel whose
 * inner packet turns out bad makes a second pass with that tunnel left closed, so the record is the
 * carrier as it decodes on its own (event TUNNEL_INNER_INVALID; see network.ts).
 */
export function decodeFrame(
  linkType: number, buf: Uint8Array, start: number, caplen: number, meta: PacketMeta, maxTunnels = MAX_TUNNEL_DEPTH,
): void {
  const limit = maxTunnels >= 0 && maxTunnels < MAX_TUNNEL_DEPTH ? maxTunnels : MAX_TUNNEL_DEPTH;
  const failed = decodeTo(linkType, buf, start, caplen, meta, limit);
  if (failed < 0) return;
  const innerEvent = meta.event;
  decodeTo(linkType, buf, start, caplen, meta, failed);
  if (meta.event !== DecodeEvent.OK) return;   // cannot happen: the carrier decoded OK the first time
  meta.event = innerEvent === DecodeEvent.NOT_IP ? DecodeEvent.OK
    : innerEvent === DecodeEvent.TOO_MANY_HEADERS ? DecodeEvent.TOO_MANY_HEADERS
    : DecodeEvent.TUNNEL_INNER_INVALID;
}

/** One pass entering at most `limit` tunnels; returns -1 or the depth of a tunnel with a bad inner packet. */
function decodeTo(linkType: number, buf: Uint8Array, start: number, caplen: number, meta: PacketMeta, limit: number): number {
  meta.reset();
  let end = start + caplen;
  if (end > buf.length) end = buf.length;   // a caller's caplen past the buffer: decode what is there
  if (start < 0 || !(end >= start)) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  let off: number;
  switch (linkType) {
    case LT_ETHERNET: off = decodeEthernet(buf, start, end, meta); break;
    case LT_LINUX_SLL: off = decodeSll(buf, start, end, meta); break;
    case LT_LINUX_SLL2: off = decodeSll2(buf, start, end, meta); break;
    case LT_RAW:
    case LINKTYPE_RAW_BSD:
    case LINKTYPE_RAW_BSDOS: off = decodeRawIp(buf, start, end, meta); break;
    case LT_IPV4: meta.etherType = ETHERTYPE_IPV4; off = start; break;
    case LT_IPV6: meta.etherType = ETHERTYPE_IPV6; off = start; break;
    case LT_NULL: off = decodeNull(buf, start, end, meta); break;
    case LT_LOOP: off = decodeLoop(buf, start, end, meta); break;
    case LT_PPP:
    case LT_PPP_HDLC: off = decodePpp(buf, start, end, meta); break;
    case LT_C_HDLC: off = decodeCiscoHdlc(buf, start, end, meta); break;
    case LT_NFLOG: return decodeNflog(buf, start, end, meta, limit);
    default: meta.event = DecodeEvent.UNSUPPORTED_LINKTYPE; return -1;
  }
  if (off < 0) return -1;
  return decodeEtherPayload(buf, off, end, meta, 0, limit);
}
