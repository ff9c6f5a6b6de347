// JA4 TLS client fingerprint of a ClientHello, as FoxIO publishes it (github.com/FoxIO-LLC/ja4,
// technical_details/JA4.md), the `ja4` form (sorted, hashed):
//
//   a: protocol (t TCP, q QUIC) + version (highest supported_versions entry, else the hello's legacy
//      version: 13 12 11 10 s3 s2 s1, DTLS d1 d2 d3, else 00) + d/i (SNI extension present or not) +
//      cipher count + extension count (two digits each, at most 99; SNI and ALPN counted) + first and
//      last character of the first ALPN value (00 without ALPN; its first and last hex digits when
//      either character is not alphanumeric)
//   b: first 12 hex digits of sha256 of the cipher suites, 4-digit lower-case hex, sorted, comma-joined
//   c: first 12 hex digits of sha256 of the extensions sorted the same way without SNI (0000) and ALPN
//      (0010), then `_` and the signature algorithms in their order (no `_` when there are none)
//
// GREASE values (RFC 8701: 0x0a0a, 0x1a1a … 0xfafa) are ignored everywhere. An empty list hashes to
// twelve zeros. Runs once per ClientHello, so plain arrays and node:crypto are fine here.
import { createHash } from 'node:crypto';

export interface Ja4Input {
  /** 't' for TLS over TCP, 'q' for QUIC. */
  transport: 't' | 'q';
  /** Legacy version field of the ClientHello (client_version). */
  legacyVersion: number;
  /** supported_versions entries, or null when the extension is absent. */
  supportedVersions: number[] | null;
  hasSni: boolean;
  ciphers: number[];
  /** Extension types in the order they appear. */
  extensions: number[];
  /** First ALPN protocol (one char per byte), or null. */
  firstAlpn: string | null;
  /** signature_algorithms entries in order, or null when the extension is absent. */
  signatureAlgorithms: number[] | null;
}

export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

function versionCode(v: number): string {
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0200: return 's2';
    case 0x0100: return 's1';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

/** Highest non-GREASE supported_versions entry, else the legacy version. DTLS counts down (0xfefc > 0xfefd). */
export function offeredVersion(legacy: number, supported: number[] | null): number {
  let best = -1;
  let bestRank = -1;
  for (const v of supported ?? []) {
    if (isGrease(v)) continue;
    const rank = (v >> 8) === 0xfe ? 0x10000 - v : v;    // DTLS 1.3 (fefc) above 1.2 (fefd)
    if (rank > bestRank) { best = v; bestRank = rank; }
  }
  return best >= 0 ? best : legacy;
}

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const two = (n: number) => String(n > 99 ? 99 : n).padStart(2, '0');

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function alpnCode(first: string | null): string {
  if (first === null || first.length === 0) return '00';
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (isAlnum(a) && isAlnum(z)) return first[0] + first[first.length - 1];
  const h = (c: number) => c.toString(16).padStart(2, '0');
  return h(a)[0] + h(z)[1];
}

function hash12(s: string): string {
  return s === '' ? '000000000000' : createHash('sha256').update(s).digest('hex').slice(0, 12);
}

/** The JA4 fingerprint, e.g. t13d1516h2_8daaf6152771_e5627efa2ab1. */
export function ja4(h: Ja4Input): string {
  const ciphers = h.ciphers.filter((v) => !isGrease(v));
  const extensions = h.extensions.filter((v) => !isGrease(v));
  const a = h.transport + versionCode(offeredVersion(h.legacyVersion, h.supportedVersions)) + (h.hasSni ? 'd' : 'i') +
    two(ciphers.length) + two(extensions.length) + alpnCode(h.firstAlpn);
  const b = hash12(ciphers.map(hex4).sort().join(','));
  const sorted = extensions.filter((v) => v !== 0x0000 && v !== 0x0010).map(hex4).sort().join(',');
  const sigs = (h.signatureAlgorithms ?? []).filter((v) => !isGrease(v)).map(hex4).join(',');
  const c = hash12(sigs === '' ? sorted : `${sorted}_${sigs}`);
  return `${a}_${b}_${c}`;
}
