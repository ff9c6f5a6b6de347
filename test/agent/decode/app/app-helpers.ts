// Builders and checks shared by the application-name tests.
import type { AppNames } from '../../../../agent/decode/app/app-names';
import { inspectPayload } from '../../../../agent/decode/app/inspect';

export const hx = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** Bytes from hex (spaces and `|` ignored). */
export function bytes(h: string): Uint8Array {
  const clean = h.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${h}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** ASCII text as hex. */
export const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** A DNS name as uncompressed labels. */
export const dnsName = (name: string) =>
  (name === '' ? '' : name.split('.').map((l) => hx(l.length, 1) + ascii(l)).join('')) + '00';

/**
 * Runs inspectPayload on `payload` placed at a non-zero offset of a dirty buffer, with `length` bytes
 * of it given (all by default). Returns what it added ({} when it returned false) and the result.
 */
export function inspect(protocol: number, srcPort: number, dstPort: number, payload: Uint8Array, length = payload.length):
  { found: boolean; out: AppNames } {
  const pad = 5;
  const buf = new Uint8Array(pad + payload.length + 16).fill(0x41);
  buf.set(payload, pad);
  const out: AppNames = {};
  const found = inspectPayload(protocol, srcPort, dstPort, buf, pad, length, out);
  return { found, out };
}

/**
 * True when `part` says nothing `full` contradicts: every field present is equal, except lists,
 * which may be a prefix of the full list.
 */
export function consistent(part: AppNames, full: AppNames): boolean {
  for (const [k, v] of Object.entries(part)) {
    const w = (full as Record<string, unknown>)[k];
    if (Array.isArray(v)) {
      if (!Array.isArray(w) || v.length > w.length || v.some((x, i) => x !== w[i])) return false;
    } else if (v !== w) return false;
  }
  return true;
}
