// RFC 9562 UUID version 5 (SHA-1, name-based): the same namespace and name always give the same id,
// which is what STIX 2.1 wants for deterministic identifiers (§2.9).
import { createHash } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidv5(name: string, namespace: string): string {
  if (!UUID_RE.test(namespace)) throw new TypeError(`uuidv5: namespace ${namespace} is not a UUID`);
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5
  h[8] = (h[8] & 0x3f) | 0x80; // RFC variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
