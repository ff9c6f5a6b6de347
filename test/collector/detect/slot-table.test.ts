import t from 'tap';
import { SeenOnce } from '../../../collector/detect/seen-once';
import { SlotStates, SlotTable } from '../../../collector/detect/slot-table';

t.test('SlotTable: exact int32 triples to stable slots; bounded, least recently used dropped and counted', async (t) => {
  const m = new SlotTable(4);
  const a = m.add(1, 2, 3);
  const b = m.add(-1, 2, 3);
  t.not(a, b);
  t.same([m.find(1, 2, 3), m.find(-1, 2, 3), m.find(2, 1, 3), m.find(1, 2, 4)], [a, b, -1, -1]);
  t.equal(m.find(1, 2, 3), a, 'a lookup marks the key used');
  m.add(1, -2, 3); // the young generation is full (2 of 4): the keys not used since the last turn go
  t.equal(m.find(-1, 2, 3), -1, 'a key not used again is gone');
  t.equal(m.evicted, 1, 'and counted');
  t.equal(m.find(1, 2, 3), a, 'the recently used key keeps its slot');
  for (let i = 0; i < 10_000; i++) if (m.find(i, i * 7, i & 3) < 0) m.add(i, i * 7, i & 3);
  t.ok(m.size <= 4);
  t.ok(m.capacity <= 4, 'slots never exceed the bound');
  t.equal(m.evicted + m.size, 10_000 + 3, 'every key added is held or counted as evicted');
});

t.test('SlotTable: many keys, colliding probes, growth: every key found in its slot', async (t) => {
  const big = new SlotTable(100_000);
  const slots = new Int32Array(50_000);
  for (let i = 0; i < 50_000; i++) slots[i] = big.add((i * 2654435761) | 0, ~i, i & 7);
  t.ok(big.capacity >= 50_000, `grew to ${big.capacity}`);
  let ok = 0;
  for (let i = 0; i < 50_000; i++) if (big.peek((i * 2654435761) | 0, ~i, i & 7) === slots[i]) ok++;
  t.equal(ok, 50_000);
  t.equal(new Set(slots).size, 50_000, 'one slot per key');
  t.equal(big.peek(1, 2, 3), -1);
  t.equal(big.evicted, 0);
});

t.test('SlotStates: one state object per slot, reused by the next key of that slot', async (t) => {
  let made = 0;
  const s = new SlotStates(2, () => ({ n: made++ }));
  const x = s.add(1, 0, 0);
  t.equal(s.get(1, 0, 0), x);
  t.equal(s.get(2, 0, 0), undefined);
  for (let i = 2; i < 100; i++) if (!s.get(i, 0, 0)) s.add(i, 0, 0);
  t.ok(made <= 2, `${made} objects for 99 keys`);
});

t.test('SeenOnce: a value per key, taken once; bounded, the oldest half dropped and counted', async (t) => {
  const s = new SeenOnce(100_000);
  for (let i = 0; i < 40_000; i++) s.put((i * 2654435761) | 0, ~i, i & 7, i + 0.5);
  t.equal(s.size, 40_000);
  let ok = 0;
  for (let i = 0; i < 40_000; i += 2) if (s.take((i * 2654435761) | 0, ~i, i & 7) === i + 0.5) ok++;
  t.equal(ok, 20_000, 'every value found under its key, across growth');
  t.ok(Number.isNaN(s.take(0, ~0, 0)), 'taken: gone');
  for (let i = 1; i < 40_000; i += 2) if (s.take((i * 2654435761) | 0, ~i, i & 7) === i + 0.5) ok++;
  t.equal(ok, 40_000, 'removals in between moved nothing out of reach');
  t.equal(s.size, 0);

  const small = new SeenOnce(4);
  for (let i = 0; i < 1000; i++) small.put(i, 0, 0, i);
  t.ok(small.size <= 4, `${small.size} held`);
  t.equal(small.evicted + small.size, 1000);
  t.equal(small.take(999, 0, 0), 999, 'the newest is kept');
  t.ok(Number.isNaN(small.take(0, 0, 0)), 'the oldest went');
});

t.test('SeenOnce: 50,000 random puts and takes agree with a plain model of its generations', async (t) => {
  const max = 1000;
  const s = new SeenOnce(max);
  const model = new Map<number, { gen: number; value: number }>();
  let gen = 1;
  let young = 0;
  let seed = 3;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  let bad = 0;
  for (let op = 0; op < 50_000; op++) {
    const k = rand(20_000);
    const m = model.get(k);
    const got = s.take(k, k ^ 0x55, 7);
    if (m) {
      if (got !== m.value) bad++;
      model.delete(k);
      if (m.gen === gen) young--;
    } else if (!Number.isNaN(got)) bad++;
    if (rand(3) !== 0) {
      if (young >= max / 2) {
        for (const [key, e] of model) if (e.gen !== gen) model.delete(key);
        gen++;
        young = 0;
      }
      model.set(k, { gen, value: op });
      young++;
      s.put(k, k ^ 0x55, 7, op);
    }
  }
  t.equal(bad, 0);
  t.equal(s.size, model.size);
  t.ok(s.evicted > 0, `${s.evicted} evicted`);
});
