// DNS name helpers for dns_tunnel: the registered domain (the part a tunnel operator owns) and the
// Shannon entropy of the labels before it.

/** Second-level labels under which registrations are one level deeper (example.co.uk). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'gob', 'mil', 'nic']);

/** Splits `name` into [subdomain part, registered domain]; the subdomain part is '' for a bare domain. */
export function splitRegistered(name: string): [string, string] {
  const labels = name.split('.');
  let keep = 2;
  if (labels.length >= 3 && labels[labels.length - 1].length === 2 && SECOND_LEVEL.has(labels[labels.length - 2])) keep = 3;
  if (labels.length <= keep) return ['', name];
  return [labels.slice(0, labels.length - keep).join('.'), labels.slice(labels.length - keep).join('.')];
}

const counts = new Uint16Array(256);

/** Shannon entropy in bits per character of `s` without its dots (char codes folded to one byte). */
export function entropyBitsPerChar(s: string): number {
  counts.fill(0);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) continue;
    counts[c & 0xff]++;
    n++;
  }
  if (n === 0) return 0;
  let h = 0;
  for (let i = 0; i < 256; i++) {
    if (counts[i] === 0) continue;
    const p = counts[i] / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Characters of `s` without its dots. */
export function charsWithoutDots(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 46) n++;
  return n;
}

/** Share of ASCII digits among the characters of `s` without its dots. */
export function digitShare(s: string): number {
  let digits = 0;
  const n = charsWithoutDots(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return n === 0 ? 0 : digits / n;
}
