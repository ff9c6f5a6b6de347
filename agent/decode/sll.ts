// Linux "cooked" capture headers, what `tcpdump -i any` writes.
// SLL  (link type 113), 16 bytes: packet type 2, ARPHRD type 2, address length 2, address 8, protocol 2.
// SLL2 (link type 276), 20 bytes: protocol 2, reserved 2, interface index 4, ARPHRD type 2,
//      packet type 1, address length 1, address 8.
// The protocol is an EtherType for the usual ARPHRD types (Ethernet, loopback, tunnels, ppp).
import { DecodeEvent, type PacketMeta } from './packet-meta';
import * as bytes from './bytes';

const be16 = bytes.be16;

/** Decodes an SLL header at buf[off]; leaves the protocol in meta.etherType, returns the payload offset or -1. */
export function decodeSll(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 16) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  meta.etherType = be16(buf, off + 14);
  return off + 16;
}

/** Decodes an SLL2 header at buf[off]; leaves the protocol in meta.etherType, returns the payload offset or -1. */
export function decodeSll2(buf: Uint8Array, off: number, end: number, meta: PacketMeta): number {
  if (end - off < 20) { meta.event = DecodeEvent.TRUNCATED_L2; return -1; }
  meta.etherType = be16(buf, off);
  return off + 20;
}
