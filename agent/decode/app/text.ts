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

/** IPv4 address at buf[off] in dotted form. */
export function ipv4Text(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** IPv6 address at buf[off] in RFC 5952 form (longest run of two or more zero groups as ::). */
export function ipv6Text(buf: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((buf[off + i] << 8) | buf[off + i + 1]);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return bestAt < 0 ? hex(g) : `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
