// A bounded table from keys of up to three int32s (address ids from flow-keys.ts, ports) to SLOT
// numbers, for detectors that keep per-key state by slot (SlotStates: one object per slot) rather
// than in a Map of objects under string keys: a lookup hashes three integers and reads typed arrays,
// and a slot's state is reused by the next key that gets the slot, so steady state allocates nothing.
//
// Bounded as bounded-map.ts is, by generations: a key found or added is stamped with the current
// generation ("young"); when `max`/2 keys were stamped young, every key not stamped in it (the old
// generation) is dropped (counted in `evicted`) and a new generation starts, the young keys becoming
// the old. So at most `max` keys are held and what goes is the least recently used half. Slots are
// handed out from 0 up and the slot arrays grow by doubling up to `max` (a table made for many keys
// costs little until they come). A slot number stays valid until its key is evicted;
// eviction only happens inside `add` and `find`, never to the slot they return.
/**
 * Slots a table starts with. Tables are per agent (and, in cluster mode, per agent and partition), so a
 * thousand agents hold thousands of tables: at 1024 slots each (~60 KB) a 1,000-agent collector spent
 * hundreds of MB on tables most agents barely use. Busy tables grow by doubling.
 */
export const MIN_CAPACITY = 64;

export class SlotTable {
  /** slots allocated so far */
  capacity: number;
  /** keys held */
  size = 0;
  /** keys dropped to stay within `max` (least recently used first) */
  evicted = 0;
  /** per slot, interleaved so one cache line holds a key: a, b, c (and a spare int) */
  private keys: Int32Array;
  /** per slot, the generation it was last used in (0 = free): dense, so it stays in cache */
  private stamp: Uint32Array;
  /** open addressing, at most half full: per entry slot + 1 (0 = empty) and the key again, so a
   * lookup reads one cache line of the index and not the slot's */
  private index: Int32Array;
  private mask: number;
  /** free slots below `next` (after evictions) */
  private free: Int32Array;
  private freeTop = 0;
  /** slots never used yet start here */
  private next = 0;
  private gen = 1;
  private young = 0;
  private readonly half: number;
  private readonly max: number;

  constructor(max: number) {
    this.max = Math.max(2, Math.floor(max));
    this.half = Math.max(1, Math.floor(this.max / 2));
    this.capacity = Math.min(this.max, MIN_CAPACITY);
    this.keys = new Int32Array(4 * this.capacity);
    this.stamp = new Uint32Array(this.capacity);
    this.free = new Int32Array(this.capacity);
    this.index = new Int32Array(4 * tableSize(this.capacity));
    this.mask = tableSize(this.capacity) - 1;
  }

  /** The slot of (a, b, c), or -1. Marks the key used. */
  find(a: number, b: number, c: number): number {
    const s = this.peek(a, b, c);
    if (s >= 0 && this.stamp[s] !== this.gen) this.touch(s);
    return s;
  }

  /** The slot of (a, b, c), or -1, without marking it used: for a first pass over a batch that
   * only brings the keys' cache lines in (their loads overlap), before the pass that uses them. */
  peek(a: number, b: number, c: number): number {
    const index = this.index;
    const mask = this.mask;
    let i = hash3(a, b, c) & mask;
    for (;;) {
      const x = 4 * i;
      const e = index[x];
      if (e === 0 || (index[x + 1] === a && index[x + 2] === b && index[x + 3] === c)) return e - 1;
      i = (i + 1) & mask;
    }
  }

  /** Reads the index entry where (a, b, c)'s probe starts and returns it, and nothing else: no
   * branch on what it loads, so a loop of these keeps many cache misses in flight at once. */
  touch3(a: number, b: number, c: number): number {
    return this.index[4 * (hash3(a, b, c) & this.mask)];
  }

  /** Adds (a, b, c), which must not be present, and returns its slot; its state is the caller's to
   * reset. May evict other keys (never the one returned) and grow the slot arrays. */
  add(a: number, b: number, c: number): number {
    let s: number;
    if (this.freeTop > 0) s = this.free[--this.freeTop];
    else {
      if (this.next === this.capacity) this.grow();
      s = this.next++;
    }
    const k = 4 * s;
    this.keys[k] = a;
    this.keys[k + 1] = b;
    this.keys[k + 2] = c;
    this.place(s);
    this.size++;
    this.touch(s);
    return s;
  }

  private touch(s: number): void {
    this.stamp[s] = this.gen;
    if (++this.young >= this.half) this.age();
  }

  /** The young generation is full: drops every key not used in it (the old generation) and starts a
   * new one, so the young keys become the old. */
  private age(): void {
    const stamp = this.stamp;
    const gen = this.gen;
    let dropped = false;
    for (let s = 0; s < this.next; s++) {
      const g = stamp[s];
      if (g === 0 || g === gen) continue;
      stamp[s] = 0;
      this.free[this.freeTop++] = s;
      this.size--;
      this.evicted++;
      dropped = true;
    }
    this.gen = gen + 1;
    this.young = 0;
    if (dropped) this.reindex();
  }

  private place(s: number): void {
    const index = this.index;
    const mask = this.mask;
    const keys = this.keys;
    const k = 4 * s;
    let i = hash3(keys[k], keys[k + 1], keys[k + 2]) & mask;
    while (index[4 * i] !== 0) i = (i + 1) & mask;
    const x = 4 * i;
    index[x] = s + 1;
    index[x + 1] = keys[k];
    index[x + 2] = keys[k + 1];
    index[x + 3] = keys[k + 2];
  }

  private reindex(): void {
    this.index.fill(0);
    for (let s = 0; s < this.next; s++) if (this.stamp[s] !== 0) this.place(s);
  }

  private grow(): void {
    const cap = Math.min(this.max, this.capacity * 2);
    this.keys = grown(this.keys, 4 * cap);
    const stamp = new Uint32Array(cap);
    stamp.set(this.stamp);
    this.stamp = stamp;
    this.free = grown(this.free, cap);
    this.capacity = cap;
    this.index = new Int32Array(4 * tableSize(cap));
    this.mask = tableSize(cap) - 1;
    this.reindex();
  }
}

/** Entries of an open-addressing table for `keys` keys at most half full: a power of two, at least 16. */
export function tableSize(keys: number): number {
  let n = 16;
  while (n < 2 * keys) n *= 2;
  return n;
}

export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  h ^= Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  h ^= Math.imul(c ^ (c >>> 16), 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/**
 * Per-key state objects in a SlotTable: one object per slot, made on the slot's first use and
 * REUSED for every later key of that slot, so a detector allocates nothing per new key once the
 * table has grown. `add` hands back the slot's object as the previous key left it: the caller
 * resets every field.
 */
export class SlotStates<T> {
  readonly table: SlotTable;
  private readonly states: T[] = [];

  constructor(max: number, private readonly make: () => T) {
    this.table = new SlotTable(max);
  }

  get(a: number, b: number, c: number): T | undefined {
    const s = this.table.find(a, b, c);
    return s < 0 ? undefined : this.states[s];
  }

  /** The state of (a, b, c) if held, without marking it used (see SlotTable.peek). */
  peek(a: number, b: number, c: number): T | undefined {
    const s = this.table.peek(a, b, c);
    return s < 0 ? undefined : this.states[s];
  }

  add(a: number, b: number, c: number): T {
    const s = this.table.add(a, b, c);
    let st = this.states[s];
    if (st === undefined) this.states[s] = st = this.make();
    return st;
  }
}

/** `a` if it holds `n` elements, else a copy of it with room for `n`. */
export function grown<A extends Float64Array | Int32Array>(a: A, n: number): A {
  if (a.length >= n) return a;
  const b = new (a.constructor as new (n: number) => A)(n);
  b.set(a);
  return b;
}

/**
 * Per slot of a SlotTable, a row of `doubles` float64s (`i` is the same memory as int32 words): the
 * fields a detector reads for every flow of a key, in one cache line for a row of 8, where the slot's
 * state object would be another miss. Grown by doubling, with the table.
 */
export class SlotRows {
  f = new Float64Array(0);
  i = new Int32Array(0);

  constructor(private readonly doubles: number) {}

  /** Room for `slots` rows; true when the rows were grown (and `f`, `i` replaced). */
  ensure(slots: number): boolean {
    if (this.f.length >= this.doubles * slots) return false;
    this.f = grown(this.f, this.doubles * Math.max(slots, 2 * (this.f.length / this.doubles)));
    this.i = new Int32Array(this.f.buffer);
    return true;
  }
}
