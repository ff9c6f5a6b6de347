// Linux NFLOG (link type 239, tcpdump.org/linktypes/LINKTYPE_NFLOG.html): a 4-byte header (address
// family 1, version 1, resource id 2), then TLVs: length 2 (including these 4 bytes), type 2, value,
// padded to 4 bytes. Length and type are in the byte order of the host that captured; the IP packet
// is the value of NFULA_PAYLOAD (type 9). AF_INET (2) → IPv4, AF_INET6 (10) → IPv6.
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as ethertypes from './ethertypes';
import * as network from './network';

const ETHERTYPE_IPV4 = ethertypes.ETHERTYPE_IPV4;
const ETHERTYPE_IPV6 = ethertypes.ETHERTYPE_IPV6;
const decodeEtherPayload = network.decodeEtherPayload;

const NFULA_PAYLOAD = 9;
/** Attribute types are small; the two top bits are netlink flags (nested, network byte order). */
const NLA_TYPE_MASK = 0x3fff;
const NFULA_MAX = 64;
/** TLVs walked before giving up (a real record has about ten). */
const MAX_TLVS = 64;

/**
 * Decodes the NFLOG header at buf[off], walks the TLVs to NFULA_PAYLOAD and decodes the IP packet in
 * it (bounded by the TLV). Returns as decodeEtherPayload; sets TRUNCATED_L2 for a cut or inconsistent
 * TLV, NOT_IP for another family or no payload.
 */
export function decodeNflog(buf: Uint8Array, off: number, end: number, meta: PacketMeta, limit: number): number {
  if (end - off < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  const family = buf[off];
  let type: number;
  if (family === 2) type = ETHERTYPE_IPV4;
  else if (family === 10) type = ETHERTYPE_IPV6;
  else { meta.event = DecodeEvent.NOT_IP; return -1; }
  let p = off + 4;
  if (end - p < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  // Byte order from the first TLV: little-endian (x86, ARM) unless only the big-endian reading is sane.
  const le = tlvSane(buf[p] | (buf[p + 1] << 8), buf[p + 2] | (buf[p + 3] << 8), end - p) ||
    !tlvSane((buf[p] << 8) | buf[p + 1], (buf[p + 2] << 8) | buf[p + 3], end - p);
  for (let n = 0; n < MAX_TLVS; n++) {
    if (end - p < 4) break;
    const len = le ? buf[p] | (buf[p + 1] << 8) : (buf[p] << 8) | buf[p + 1];
    const t = (le ? buf[p + 2] | (buf[p + 3] << 8) : (buf[p + 2] << 8) | buf[p + 3]) & NLA_TYPE_MASK;
    if (len < 4) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
    if (t === NFULA_PAYLOAD) {              // may be cut by the snaplen: decode what was captured
      meta.etherType = type;
      return decodeEtherPayload(buf, p + 4, len < end - p ? p + len : end, meta, 0, limit);
    }
    if (len > end - p) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
    p += (len + 3) & ~3;
  }
  meta.event = DecodeEvent.NOT_IP;
  return -1;
}

function tlvSane(len: number, type: number, avail: number): boolean {
  const t = type & NLA_TYPE_MASK;
  return len >= 4 && len <= avail && t > 0 && t < NFULA_MAX;
}
