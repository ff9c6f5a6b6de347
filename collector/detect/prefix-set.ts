// Address prefixes (10.0.0.0/8, fc00::/7) and exact addresses, matched against the textual
// addresses in FlowRow (local networks, threat-intel addresses). IPv4 is compared as a 32-bit number per prefix length present; IPv6 on the
// expanded 128-bit value as a bigint (rare enough on the paths that use it).
import { isIPv4, isIPv6 } from 'node:net';

export function ipv4ToInt(ip: string): number {
  let n = 0;
  let part = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
      dots++;
    } else part = part * 10 + (c - 48);
  }
  return dots === 3 ? n * 256 + part : -1;
}

export function ipv6ToBigInt(ip: string): bigint {
  let s = ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // an embedded IPv4 tail (::ffff:1.2.3.4)
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToInt(tail);
    s = `${s.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
  return v;
}

const V4_FILTER_BITS = 65_536;

/** The filter bit of a masked IPv4 value (an int32) and its prefix length. */
function filterBit(k: number, bits: number): number {
  const h = Math.imul(k ^ (k >>> 16) ^ (bits << 24), 0x45d9f3b);
  return (h ^ (h >>> 16)) & (V4_FILTER_BITS - 1);
}

/** Address prefixes mapped to a value; the longest matching prefix wins. */
export class PrefixMap<V> {
  /** prefix length → masked value (IPv4: as an int32) → V */
  private readonly v4 = new Map<number, Map<number, V>>();
  private readonly v6 = new Map<number, Map<bigint, V>>();
  private v4Lengths: number[] = [];
  /** the maps of v4Lengths, in the same order; keyed by the masked address as an int32 (a small
   * integer to V8, so a lookup boxes nothing) */
  private v4ByLength: Map<number, V>[] = [];
  private v6Lengths: number[] = [];
  /** a bit per hash of (prefix length, masked IPv4 value) of every IPv4 entry: a clear bit means no
   * entry, without a Map lookup (8 KiB, so it stays in cache; most addresses match nothing) */
  private readonly v4Filter = new Int32Array(V4_FILTER_BITS >>> 5);
  size = 0;

  /** Adds `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or prefix. Returns false when it is not one. */
  set(text: string, value: V): boolean {
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const bitsText = slash < 0 ? '' : text.slice(slash + 1);
    if (bitsText !== '' && !/^\d{1,3}$/.test(bitsText)) return false;
    if (isIPv4(addr)) {
      const bits = bitsText === '' ? 32 : Number(bitsText);
      if (bits > 32) return false;
      let m = this.v4.get(bits);
      if (!m) {
        this.v4.set(bits, (m = new Map()));
        this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
        this.v4ByLength = this.v4Lengths.map((b) => this.v4.get(b)!);
      }
      const k = mask4(ipv4ToInt(addr), bits) | 0;
      const h = filterBit(k, bits);
      this.v4Filter[h >>> 5] |= 1 << (h & 31);
      if (!m.has(k)) this.size++;
      m.set(k, value);
      return true;
    }
    if (isIPv6(addr)) {
      const bits = bitsText === '' ? 128 : Number(bitsText);
      if (bits > 128) return false;
      let m = this.v6.get(bits);
      if (!m) {
        this.v6.set(bits, (m = new Map()));
        this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
      }
      const k = mask6(ipv6ToBigInt(addr), bits);
      if (!m.has(k)) this.size++;
      m.set(k, value);
      return true;
    }
    return false;
  }

  /** The value of the longest prefix holding `ip` (as FlowRow spells addresses), or undefined. */
  get(ip: string): V | undefined {
    if (ip.includes(':')) {
      if (this.v6Lengths.length === 0) return undefined;
      const v = ipv6ToBigInt(ip);
      for (const bits of this.v6Lengths) {
        const hit = this.v6.get(bits)!.get(mask6(v, bits));
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    if (this.v4Lengths.length === 0) return undefined;
    const v = ipv4ToInt(ip);
    if (v < 0) return undefined;
    return this.getV4(v);
  }

  /** As get, for an IPv4 address given as its 32-bit value (signed or unsigned). */
  getV4(ip: number): V | undefined {
    const lengths = this.v4Lengths;
    const filter = this.v4Filter;
    for (let i = 0; i < lengths.length; i++) {
      const bits = lengths[i];
      const k = bits === 0 ? 0 : ip & (-1 << (32 - bits));
      const h = filterBit(k, bits);
      if ((filter[h >>> 5] & (1 << (h & 31))) === 0) continue;
      const hit = this.v4ByLength[i].get(k);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}

/** Up to this many IPv4 prefixes, a PrefixSet tests them one by one on int32s (no map lookups). */
const LINEAR_V4_PREFIXES = 32;

/** A set of address prefixes (detect.local_networks). */
export class PrefixSet {
  private readonly map = new PrefixMap<true>();
  /** the IPv4 prefixes as int32 (mask, masked value) pairs while there are few */
  private v4Masks: number[] = [];
  private v4Values: number[] = [];
  /** by an IPv4 address's first octet: 0 no prefix holds it, 1 some /0–/8 prefix holds it, 2 look */
  private readonly byOctet = new Uint8Array(256);

  constructor(prefixes: readonly string[] = []) {
    for (const p of prefixes) this.add(p);
  }

  add(text: string): boolean {
    if (!this.map.set(text, true)) return false;
    const slash = text.indexOf('/');
    const v = ipv4ToInt(slash < 0 ? text : text.slice(0, slash));
    if (v >= 0 && !text.includes(':')) {
      const bits = slash < 0 ? 32 : Number(text.slice(slash + 1));
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) | 0;
      this.v4Masks.push(mask);
      this.v4Values.push(v & mask);
      for (let o = 0; o < 256; o++) {
        if (bits <= 8) {
          if ((((o << 24) ^ v) & mask) === 0) this.byOctet[o] = 1;
        } else if (o === v >>> 24 && this.byOctet[o] === 0) this.byOctet[o] = 2;
      }
    }
    return true;
  }

  match(ip: string): boolean {
    return this.map.get(ip) === true;
  }

  /** As match, for an IPv4 address given as its 32-bit value. */
  matchV4(ip: number): boolean {
    const first = this.byOctet[ip >>> 24];
    if (first !== 2) return first === 1;
    const masks = this.v4Masks;
    if (masks.length > LINEAR_V4_PREFIXES) return this.map.getV4(ip) === true;
    const v = ip | 0;
    for (let i = 0; i < masks.length; i++) if ((v & masks[i]) === this.v4Values[i]) return true;
    return false;
  }
}

function mask4(v: number, bits: number): number {
  return bits === 0 ? 0 : (v & (0xffffffff << (32 - bits))) >>> 0;
}

function mask6(v: bigint, bits: number): bigint {
  const shift = BigInt(128 - bits);
  return (v >> shift) << shift;
}

/** `ip` truncated to `bits` (for per-network keys); the whole address when bits is 0 or the full length. */
export function networkOf(ip: string, bitsV4: number, bitsV6: number): string {
  if (ip.includes(':')) return bitsV6 === 0 ? '::/0' : `${mask6(ipv6ToBigInt(ip), bitsV6).toString(16)}/${bitsV6}`;
  if (bitsV4 === 0) return '0.0.0.0/0';
  return `${mask4(ipv4ToInt(ip), bitsV4)}/${bitsV4}`;
}
