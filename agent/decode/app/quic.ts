// QUIC long-header packets (RFC 8999 invariants, RFC 9000 §17.2): first byte with the header-form bit
// 0x80, version 4, destination connection id length 1 (≤ 20) + id, source connection id length 1
// (≤ 20) + id. Only the version is read: Initial packets are not decrypted, so the ClientHello inside
// stays unseen. Any UDP port; a version we know is what tells QUIC from other UDP traffic with a high
// first bit (version negotiation, version 0, says nothing about the version in use and is skipped).
import type { AppNames } from './app-names';

/** Connection ids longer than this are not QUIC v1/v2 (RFC 9000 §17.2). */
const MAX_CID = 20;

/** Versions seen in the wild: v1, v2 (and its draft number), IETF drafts 1–34, mvfst, Google Q046/Q050/T050/T051. */
export function isKnownQuicVersion(v: number): boolean {
  if (v === 0x00000001 || v === 0x6b3343cf || v === 0x709a50c4) return true;
  if (v >= 0xff000001 && v <= 0xff000022) return true;
  if (v >= 0xfaceb001 && v <= 0xfaceb003) return true;
  return v === 0x51303436 || v === 0x51303530 || v === 0x54303530 || v === 0x54303531;
}

/** Parses the long header at buf[off..end); true when it set out.quicVersion. */
export function parseQuicLongHeader(buf: Uint8Array, off: number, end: number, out: AppNames): boolean {
  if (end - off < 7 || (buf[off] & 0x80) === 0) return false;
  const version = ((buf[off + 1] << 24) | (buf[off + 2] << 16) | (buf[off + 3] << 8) | buf[off + 4]) >>> 0;
  if (!isKnownQuicVersion(version)) return false;
  const dcid = buf[off + 5];
  if (dcid > MAX_CID || end - off < 7 + dcid) return false;
  const scid = buf[off + 6 + dcid];
  if (scid > MAX_CID || end - off < 7 + dcid + scid) return false;
  out.quicVersion = version;
  return true;
}
