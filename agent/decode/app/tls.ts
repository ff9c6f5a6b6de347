// TLS ClientHello (RFC 8446 §4.1.2) at the start of a TCP payload, on any port: record header 0x16
// (handshake), version 0x03 0x00–0x04, length 2; handshake type 1, length 3; legacy version 2, random 32,
// session id 1+n, cipher suites 2+n, compression methods 1+n, extensions 2+n (type 2, length 2, data).
// Only this one segment is read. A ClientHello cut by the segment end yields the extensions that are
// complete in it (SNI, ALPN); the version and the JA4 fingerprint need the whole hello, since a later
// extension could change them.
import type { AppNames } from './app-names';
import { latin1, latin1Lower } from './text';
import { ja4, offeredVersion } from './ja4';

const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0x0000;
const EXT_SIGNATURE_ALGORITHMS = 0x000d;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;
/** ALPN protocols kept (a real hello offers two or three). */
const MAX_ALPN = 8;

/** True when buf[off..end) starts like a TLS handshake record carrying a ClientHello. */
export function looksLikeClientHello(buf: Uint8Array, off: number, end: number): boolean {
  return end - off >= 6 && buf[off] === CONTENT_HANDSHAKE && buf[off + 1] === 0x03 && buf[off + 2] <= 0x04 &&
    buf[off + 5] === HANDSHAKE_CLIENT_HELLO;
}

/**
 * Parses the ClientHello record at buf[off..end). Returns true when it added something to `out`
 * (tlsSni, tlsAlpn, tlsVersion, ja4). `transport` is the JA4 protocol letter.
 */
export function parseTlsClientHello(buf: Uint8Array, off: number, end: number, out: AppNames, transport: 't' | 'q' = 't'): boolean {
  if (!looksLikeClientHello(buf, off, end)) return false;
  const recordEnd = off + 5 + ((buf[off + 3] << 8) | buf[off + 4]);
  const p0 = off + 5;
  if (end - p0 < 4) return false;
  const helloEnd = p0 + 4 + ((buf[p0 + 1] << 16) | (buf[p0 + 2] << 8) | buf[p0 + 3]);
  // The hello as far as this segment (and its record) holds it.
  let limit = end < recordEnd ? end : recordEnd;
  const complete = helloEnd <= limit;
  if (helloEnd < limit) limit = helloEnd;
  return parseHelloBody(buf, p0 + 4, limit, complete, out, transport);
}

/** The ClientHello body at buf[p..limit); `complete` says whether limit is the hello's real end. */
function parseHelloBody(buf: Uint8Array, p: number, limit: number, complete: boolean, out: AppNames, transport: 't' | 'q'): boolean {
  if (limit - p < 2 + 32 + 1) return false;
  const legacyVersion = (buf[p] << 8) | buf[p + 1];
  if ((legacyVersion >> 8) !== 0x03 && (legacyVersion >> 8) !== 0xfe) return false;
  p += 34;
  p += 1 + buf[p];                                       // session id
  if (limit - p < 2) return false;
  const cipherEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (cipherEnd > limit) return false;
  const ciphers: number[] = [];
  for (let c = p + 2; c + 1 < cipherEnd; c += 2) ciphers.push((buf[c] << 8) | buf[c + 1]);
  p = cipherEnd;
  if (limit - p < 1) return false;
  p += 1 + buf[p];                                       // compression methods
  if (p > limit) return false;

  let added = false;
  const extensions: number[] = [];
  let hasSni = false;
  let supported: number[] | null = null;
  let sigAlgs: number[] | null = null;
  let alpn: string[] | null = null;
  let extsComplete = true;
  if (limit - p >= 2) {
    const extEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
    p += 2;
    while (p < extEnd) {
      if (limit - p < 4) { extsComplete = false; break; }
      const type = (buf[p] << 8) | buf[p + 1];
      const data = p + 4;
      const dataEnd = data + ((buf[p + 2] << 8) | buf[p + 3]);
      if (dataEnd > extEnd) return added;                // inconsistent lengths: garbage from here on
      extensions.push(type);
      if (type === EXT_SERVER_NAME) hasSni = true;
      if (dataEnd > limit) { extsComplete = false; break; }
      switch (type) {
        case EXT_SERVER_NAME: {
          const sni = serverName(buf, data, dataEnd);
          if (sni !== null) { out.tlsSni = sni; added = true; }
          break;
        }
        case EXT_ALPN:
          alpn = alpnList(buf, data, dataEnd);
          if (alpn !== null) { out.tlsAlpn = alpn; added = true; }
          break;
        case EXT_SUPPORTED_VERSIONS:
          supported = u16List(buf, data + 1, data + 1 + (dataEnd > data ? buf[data] : 0), dataEnd);
          break;
        case EXT_SIGNATURE_ALGORITHMS:
          sigAlgs = u16List(buf, data + 2, data + 2 + (dataEnd - data >= 2 ? (buf[data] << 8) | buf[data + 1] : 0), dataEnd);
          break;
        default:
          break;
      }
      p = dataEnd;
    }
  }
  // A later extension could still raise the version or change the fingerprint: only a whole hello says.
  if (supported !== null) {
    out.tlsVersion = offeredVersion(legacyVersion, supported);
    added = true;
  }
  if (complete && extsComplete) {
    if (supported === null) { out.tlsVersion = legacyVersion; added = true; }
    out.ja4 = ja4({
      transport, legacyVersion, supportedVersions: supported, hasSni, ciphers, extensions,
      firstAlpn: alpn !== null && alpn.length > 0 ? alpn[0] : null, signatureAlgorithms: sigAlgs,
    });
    added = true;
  }
  return added;
}

/** The first host_name of a server_name extension body (RFC 6066 §3), lower case; null when malformed. */
function serverName(buf: Uint8Array, p: number, end: number): string | null {
  if (end - p < 2) return null;
  const listEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (listEnd > end) return null;
  p += 2;
  while (listEnd - p >= 3) {
    const nameType = buf[p];
    const nameEnd = p + 3 + ((buf[p + 1] << 8) | buf[p + 2]);
    if (nameEnd > listEnd) return null;
    if (nameType === 0 && nameEnd > p + 3) return latin1Lower(buf, p + 3, nameEnd);
    p = nameEnd;
  }
  return null;
}

/** The protocol names of an ALPN extension body (RFC 7301), at most MAX_ALPN; null when malformed or empty. */
function alpnList(buf: Uint8Array, p: number, end: number): string[] | null {
  if (end - p < 2) return null;
  const listEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (listEnd > end) return null;
  p += 2;
  const names: string[] = [];
  while (p < listEnd && names.length < MAX_ALPN) {
    const nameEnd = p + 1 + buf[p];
    if (nameEnd > listEnd) return null;
    names.push(latin1(buf, p + 1, nameEnd));
    p = nameEnd;
  }
  return names.length > 0 ? names : null;
}

/** 16-bit values in buf[from..to), the list's own length; null when it overruns `end`. */
function u16List(buf: Uint8Array, from: number, to: number, end: number): number[] | null {
  if (to > end || from > end) return null;
  const list: number[] = [];
  for (let p = from; p + 1 < to; p += 2) list.push((buf[p] << 8) | buf[p + 1]);
  return list;
}
