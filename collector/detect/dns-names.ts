// DNS name helpers for dns_tunnel: the registered domain (the part a tunnel operator owns) and the
// Shannon entropy of the labels before it.

/** Second-level labels under which registrations are one level deeper (example.co.uk). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'gob', 'mil', 'nic']);

/** Splits `name` into [subdomain part, registered domain]; the subdomain part is '' for a bare domain. */
export function splitRegistered(name: string): [string, string] {
  const cut = registeredCut(name);
  return cut < 0 ? ['', name] : [name.slice(0, cut), name.slice(cut + 1)];
}

/** The index of the dot between `name`'s subdomain part and its registered domain; -1 for a bare
 * domain (or a name whose subdomain part would be empty). No string is made. */
export function registeredCut(name: string): number {
  const last = name.lastIndexOf('.');
  if (last <= 0) return -1;
  let cut = name.lastIndexOf('.', last - 1); // the dot before the registered domain
  if (cut < 0) return -1;
  if (last === name.length - 3 && SECOND_LEVEL.has(name.slice(cut + 1, last))) cut = name.lastIndexOf('.', cut - 1);
  return cut;
}

const counts = new Uint16Array(256);

/** Shannon entropy in bits per character of `s` (its first `end` characters) without its dots (char
 * codes folded to one byte). */
export function entropyBitsPerChar(s: string, end = s.length): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) continue;
    counts[c & 0xff]++;
    n++;
  }
  let h = 0;
  // each distinct character is summed once, then its count cleared (no 256-entry sweep per name)
  for (let i = 0; i < end; i++) {
    const k = s.charCodeAt(i) & 0xff;
    if (s.charCodeAt(i) === 46 || counts[k] === 0) continue;
    const p = counts[k] / n;
    h -= p * Math.log2(p);
    counts[k] = 0;
  }
  return h;
}

/** Characters of `s` (its first `end`) without its dots. */
export function charsWithoutDots(s: string, end = s.length): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (s.charCodeAt(i) !== 46) n++;
  return n;
}

/** Share of ASCII digits among the characters of `s` (its first `end`) without its dots. */
export function digitShare(s: string, end = s.length): number {
  let digits = 0;
  const n = charsWithoutDots(s, end);
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return n === 0 ? 0 : digits / n;
}
