// A bounded map for per-flow hot paths: two generations of plain Maps. New keys go into the young
// generation; when it holds max/2 keys, the old generation is dropped whole and the young one
// becomes old. A key found in the old generation moves back to the young one. So at most `max`
// keys are held, the least recently used half is what goes, and each operation is one or two Map
// lookups — measured several times cheaper per flow than lru-cache's exact LRU order
// (scripts/bench/detect.ts), which these detectors do not need.
export class BoundedMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.put(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) this.young.set(key, value);
    else {
      this.old.delete(key);
      this.put(key, value);
    }
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  values(): IterableIterator<V> {
    return [...this.young.values(), ...this.old.values()][Symbol.iterator]();
  }

  private put(key: K, value: V): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

/** One T per agent, made on first use. A batch comes from one agent: its T is found once, not per flow. */
export class PerAgent<T> {
  private readonly agents = new Map<string, T>();
  private lastAgent: string | undefined;
  private lastValue: T | undefined;

  constructor(private readonly make: () => T) {}

  of(agentId: string): T {
    if (agentId === this.lastAgent) return this.lastValue as T;
    let v = this.agents.get(agentId);
    if (v === undefined) this.agents.set(agentId, (v = this.make()));
    this.lastAgent = agentId;
    this.lastValue = v;
    return v;
  }

  /** f summed over every agent's T. */
  sum(f: (t: T) => number): number {
    let n = 0;
    for (const v of this.agents.values()) n += f(v);
    return n;
  }
}
