// The per-batch pre-pass every detector shares: each flow's addresses as map keys that are cheap to
// hash. A canonical dotted-quad IPv4 address becomes its 32-bit value as a signed int32 (a small
// integer to V8: no string hashing, no allocation); any other address (IPv6, or IPv4 not spelled
// canonically) stays its string. The two never collide (a number is never equal to a string) and
// both are exact, so a map keyed by AddrKey holds the same entries a map keyed by the address text
// would. The runner parses each batch once and hands the result to every detector; a detector called
// without it (tests) parses the batch itself.
import type { FlowRow } from '../model';

export type AddrKey = number | string;

/** The int32 of a canonical dotted quad ("10.0.0.1": no leading zeros, octets ≤ 255), else NaN. */
export function ipv4Key(ip: string): number {
  if (typeof ip !== 'string') return NaN; // a malformed row: left for the detectors to fail on, one by one
  const len = ip.length;
  if (len < 7 || len > 15) return NaN;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return NaN;
      n = (n << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return NaN; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return NaN;
      digits++;
    } else return NaN;
  }
  if (dots !== 3 || digits === 0) return NaN;
  return (n << 8) | part;
}

/** The key of one address: its int32 when canonical IPv4, else the text itself. */
export function addrKey(ip: string): AddrKey {
  const v = ipv4Key(ip);
  return v === v ? v : ip;
}

/** The address an AddrKey stands for, spelled as in FlowRow. */
export function keyText(k: AddrKey): string {
  return typeof k === 'string' ? k : `${k >>> 24}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

/** Source and destination keys of a batch's flows, by index; the arrays are reused batch to batch. */
export class FlowKeys {
  readonly src: AddrKey[] = [];
  readonly dst: AddrKey[] = [];
  private flows: readonly FlowRow[] | undefined;

  /** Parses `flows`' addresses (once per batch). */
  fill(flows: readonly FlowRow[]): this {
    const n = flows.length;
    const src = this.src;
    const dst = this.dst;
    src.length = n;
    dst.length = n;
    for (let i = 0; i < n; i++) {
      const f = flows[i];
      src[i] = addrKey(f.srcIp);
      dst[i] = addrKey(f.dstIp);
    }
    this.flows = flows;
    return this;
  }

  /** True when these keys were filled from exactly this batch. */
  isFor(flows: readonly FlowRow[]): boolean {
    return this.flows === flows && this.src.length === flows.length;
  }

  /** `keys` when it was filled for `flows`, else a fresh pre-pass (a detector called on its own). */
  static of(flows: readonly FlowRow[], keys: FlowKeys | undefined): FlowKeys {
    return keys !== undefined && keys.isFor(flows) ? keys : new FlowKeys().fill(flows);
  }
}
