// A bounded set of int32-triple keys with one number each, every entry held inline in one typed
// array (key, generation, value: 24 bytes), for keys that are looked up once or twice and then
// dropped — beaconing's pairs seen once. A lookup or an insert reads one cache line, where a
// SlotTable (slot-table.ts) reads its index and then the slot's arrays.
//
// Bounded by generations as SlotTable is: an entry inserted is stamped with the current generation;
// when `max`/2 entries were inserted in it, every entry of older generations is dropped (counted in
// `evicted`) and a new generation starts. So at most `max` entries are held and the oldest half goes.
import { hash3, MIN_CAPACITY, tableSize } from './slot-table';

/** Int32 words per entry: a, b, c, generation (0 = empty), the value as a double (words 4–5). */
const STRIDE = 6;
/** Float64 index of entry word x's value. */
const VALUE = 2;

export class SeenOnce {
  /** entries held */
  size = 0;
  /** entries dropped to stay within `max` */
  evicted = 0;
  private i32: Int32Array;
  private f64: Float64Array;
  private mask: number;
  private gen = 1;
  private young = 0;
  private readonly half: number;
  private readonly max: number;

  constructor(max: number) {
    this.max = Math.max(2, Math.floor(max));
    this.half = Math.max(1, Math.floor(this.max / 2));
    const entries = tableSize(Math.min(this.max, MIN_CAPACITY));
    this.i32 = new Int32Array(STRIDE * entries);
    this.f64 = new Float64Array(this.i32.buffer);
    this.mask = entries - 1;
  }

  /** The value of (a, b, c), removing the entry; NaN when absent. */
  take(a: number, b: number, c: number): number {
    const i = this.position(a, b, c);
    if (i < 0) return NaN;
    const v = this.f64[(STRIDE * i) / 2 + VALUE];
    if (this.i32[STRIDE * i + 3] === this.gen) this.young--;
    this.removeAt(i);
    this.size--;
    return v;
  }

  /** The value of (a, b, c), NaN when absent; changes nothing (a first pass that brings the
   * entries' cache lines in, see SlotTable.peek). */
  peek(a: number, b: number, c: number): number {
    const i = this.position(a, b, c);
    return i < 0 ? NaN : this.f64[(STRIDE * i) / 2 + VALUE];
  }

  /** Reads the entry where (a, b, c)'s probe starts and returns its key word, nothing else (see
   * SlotTable.touch3). */
  touch3(a: number, b: number, c: number): number {
    return this.i32[STRIDE * (hash3(a, b, c) & this.mask)];
  }

  /** The entry holding (a, b, c), or -1. */
  private position(a: number, b: number, c: number): number {
    const i32 = this.i32;
    const mask = this.mask;
    for (let i = hash3(a, b, c) & mask; ; i = (i + 1) & mask) {
      const x = STRIDE * i;
      if (i32[x + 3] === 0) return -1;
      if (i32[x] === a && i32[x + 1] === b && i32[x + 2] === c) return i;
    }
  }

  /** Adds (a, b, c) with `value`; the key must not be present. */
  put(a: number, b: number, c: number, value: number): void {
    if (this.young >= this.half) this.age();
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    this.place(a, b, c, this.gen, value);
    this.size++;
    this.young++;
  }

  private place(a: number, b: number, c: number, gen: number, value: number): void {
    const i32 = this.i32;
    const mask = this.mask;
    let i = hash3(a, b, c) & mask;
    while (i32[STRIDE * i + 3] !== 0) i = (i + 1) & mask;
    const x = STRIDE * i;
    i32[x] = a;
    i32[x + 1] = b;
    i32[x + 2] = c;
    i32[x + 3] = gen;
    this.f64[x / 2 + VALUE] = value;
  }

  /** Backward-shift deletion of the entry at position `i` (no tombstones). */
  private removeAt(i: number): void {
    const i32 = this.i32;
    const mask = this.mask;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const y = STRIDE * j;
      if (i32[y + 3] === 0) break;
      const home = hash3(i32[y], i32[y + 1], i32[y + 2]) & mask;
      // the entry at j stays when its home lies cyclically in (hole, j]
      if (hole <= j ? hole < home && home <= j : hole < home || home <= j) continue;
      const x = STRIDE * hole;
      for (let k = 0; k < STRIDE; k++) i32[x + k] = i32[y + k]; // a builtin call (copyWithin) per move cost more
      hole = j;
    }
    i32[STRIDE * hole + 3] = 0;
  }

  /** Drops every entry of an older generation, in place; the current one becomes the older. */
  private age(): void {
    const i32 = this.i32;
    const mask = this.mask;
    const gen = this.gen;
    // start after an empty entry (the table is at most half full): no run of entries wraps past it,
    // so an entry shifted back by a removal never lands before the scan
    let start = 0;
    while (i32[STRIDE * start + 3] !== 0) start++;
    for (let k = 1; k <= mask + 1; ) {
      const i = (start + k) & mask;
      const g = i32[STRIDE * i + 3];
      if (g !== 0 && g !== gen) {
        this.removeAt(i); // what moves into i is looked at next
        this.size--;
        this.evicted++;
      } else k++;
    }
    this.gen = gen + 1;
    this.young = 0;
  }

  /** Re-places every entry into a table twice the size. */
  private grow(): void {
    const old = this.i32;
    const oldF = this.f64;
    const entries = 2 * (this.mask + 1);
    this.i32 = new Int32Array(STRIDE * entries);
    this.f64 = new Float64Array(this.i32.buffer);
    this.mask = entries - 1;
    for (let x = 0; x < old.length; x += STRIDE) {
      if (old[x + 3] !== 0) this.place(old[x], old[x + 1], old[x + 2], old[x + 3], oldF[x / 2 + VALUE]);
    }
  }
}
