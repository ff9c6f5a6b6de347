// Bounded maps keyed by (agent, source, destination, small integer) for the detectors that track
// address pairs per flow (beaconing). When both addresses are IPv4 (int32 keys from flow-keys.ts),
// the key is three int32s in an open-addressing hash table over typed arrays: no key string is built,
// hashed or compared per flow. Other addresses fall back to a string key in a BoundedMap. Both are
// bounded as bounded-map.ts is: two generations, the older dropped whole when the younger is half
// full, a key found in the older moved to the younger.
import { BoundedMap, PerAgent } from './bounded-map';
import { keyText, type AddrKey } from './flow-keys';

const EMPTY = 0;
const USED = 1;

/** One generation: linear probing over power-of-two typed arrays, kept at most half full;
 * removal shifts the entries after it back (no tombstones). */
class Table<V> {
  private readonly ka: Int32Array;
  private readonly kb: Int32Array;
  private readonly kc: Int32Array;
  private readonly state: Uint8Array;
  private readonly vals: (V | undefined)[];
  private readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    this.ka = new Int32Array(capacity);
    this.kb = new Int32Array(capacity);
    this.kc = new Int32Array(capacity);
    this.state = new Uint8Array(capacity);
    this.vals = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  /** The slot holding (a, b, c), or -1. */
  find(a: number, b: number, c: number): number {
    let i = hash(a, b, c) & this.mask;
    for (;;) {
      const s = this.state[i];
      if (s === EMPTY) return -1;
      if (this.ka[i] === a && this.kb[i] === b && this.kc[i] === c) return i;
      i = (i + 1) & this.mask;
    }
  }

  value(slot: number): V {
    return this.vals[slot] as V;
  }

  setValue(slot: number, v: V): void {
    this.vals[slot] = v;
  }

  /** Adds (a, b, c), which must not be present. */
  insert(a: number, b: number, c: number, v: V): void {
    let i = hash(a, b, c) & this.mask;
    while (this.state[i] !== EMPTY) i = (i + 1) & this.mask;
    this.state[i] = USED;
    this.ka[i] = a;
    this.kb[i] = b;
    this.kc[i] = c;
    this.vals[i] = v;
    this.size++;
  }

  remove(slot: number): void {
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      if (this.state[j] === EMPTY) break;
      const home = hash(this.ka[j], this.kb[j], this.kc[j]) & mask;
      // the entry at j stays when its home lies cyclically in (hole, j]
      if (hole <= j ? hole < home && home <= j : hole < home || home <= j) continue;
      this.ka[hole] = this.ka[j];
      this.kb[hole] = this.kb[j];
      this.kc[hole] = this.kc[j];
      this.vals[hole] = this.vals[j];
      hole = j;
    }
    this.state[hole] = EMPTY;
    this.vals[hole] = undefined;
    this.size--;
  }

  clear(): void {
    if (this.size === 0) return;
    this.state.fill(EMPTY);
    this.vals.fill(undefined);
    this.size = 0;
  }
}

function hash(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  h ^= Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  h ^= Math.imul(c, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** At most `max` (a, b, c) int32 triples, least recently used half dropped first. */
export class BoundedTripleMap<V> {
  private young: Table<V>;
  private old: Table<V>;
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
    let cap = 8;
    while (cap < 2 * this.half) cap *= 2;
    this.young = new Table(cap);
    this.old = new Table(cap);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(a: number, b: number, c: number): V | undefined {
    const i = this.young.find(a, b, c);
    if (i >= 0) return this.young.value(i);
    const j = this.old.find(a, b, c);
    if (j < 0) return undefined;
    const v = this.old.value(j);
    this.old.remove(j);
    this.put(a, b, c, v);
    return v;
  }

  set(a: number, b: number, c: number, v: V): void {
    const i = this.young.find(a, b, c);
    if (i >= 0) {
      this.young.setValue(i, v);
      return;
    }
    const j = this.old.find(a, b, c);
    if (j >= 0) this.old.remove(j);
    this.put(a, b, c, v);
  }

  delete(a: number, b: number, c: number): void {
    const i = this.young.find(a, b, c);
    if (i >= 0) this.young.remove(i);
    const j = this.old.find(a, b, c);
    if (j >= 0) this.old.remove(j);
  }

  private put(a: number, b: number, c: number, v: V): void {
    if (this.young.size >= this.half) {
      const dropped = this.old;
      dropped.clear();
      this.old = this.young;
      this.young = dropped;
    }
    this.young.insert(a, b, c, v);
  }
}

/**
 * Per (agent, source, destination, n): `max` keys per agent with both addresses IPv4, and `max`
 * keys of other addresses (all agents together). `n` is an int32 (a port, port and protocol).
 */
export class AddrPairMap<V> {
  private readonly tables: PerAgent<BoundedTripleMap<V>>;
  private readonly other: BoundedMap<string, V>;

  constructor(max: number) {
    this.tables = new PerAgent(() => new BoundedTripleMap(max));
    this.other = new BoundedMap(max);
  }

  get(agentId: string, src: AddrKey, dst: AddrKey, n: number): V | undefined {
    if (typeof src === 'number' && typeof dst === 'number') return this.tables.of(agentId).get(src, dst, n);
    return this.other.get(otherKey(agentId, src, dst, n));
  }

  set(agentId: string, src: AddrKey, dst: AddrKey, n: number, v: V): void {
    if (typeof src === 'number' && typeof dst === 'number') this.tables.of(agentId).set(src, dst, n, v);
    else this.other.set(otherKey(agentId, src, dst, n), v);
  }

  delete(agentId: string, src: AddrKey, dst: AddrKey, n: number): void {
    if (typeof src === 'number' && typeof dst === 'number') this.tables.of(agentId).delete(src, dst, n);
    else this.other.delete(otherKey(agentId, src, dst, n));
  }
}

/** keyText spells an int32 key as its dotted quad, which no string key can be: keys stay distinct. */
function otherKey(agentId: string, src: AddrKey, dst: AddrKey, n: number): string {
  return `${agentId}|${keyText(src)}|${keyText(dst)}|${n}`;
}
