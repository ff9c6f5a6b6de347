import { formatAddress } from '../../../proto';

// Strings for application names, built only once something was found. Bytes are taken as Latin-1
// (one char per byte), so any input gives a string and nothing can throw on bad UTF-8.

/** buf[from..to) as a string, one char per byte. */
export function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  // Chunks keep the spread argument count far below engine limits.
  for (let i = from; i < to; i += 1024) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(to, i + 1024)) as unknown as number[]);
  }
  return s;
}

/** buf[from..to) with ASCII upper case folded to lower case. */
export function latin1Lower(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = buf[i];
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return s;
}

/** The address of `length` bytes (4 or 16) at buf[off], as text (IPv6 in RFC 5952 form). */
export function addressText(buf: Uint8Array, off: number, length: number): string {
  return formatAddress(buf.subarray(off, off + length));
}
