// The byte writer behind --jsonl: every number must come out exactly as JSON.stringify writes it (the
// line format is a stable interface), whichever of its paths (int32, large integers, String(), the
// timestamp shortcut) the number takes.
import t from 'tap';
import { LineBuffer, fragment } from '../../../agent/export/line-buffer';

function written(f: (o: LineBuffer) => void): string {
  const o = new LineBuffer();
  f(o);
  return o.takeText();
}

/** A deterministic pseudo-random sequence (xorshift32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

t.test('num() writes what JSON.stringify writes, null for NaN and infinities', async (t) => {
  const special = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2,
    1e21, 1e-7, 0.1, 0.5, -0.25, 1 / 3, 123456789.123, 1710234000.015199, Number.MAX_VALUE, Number.MIN_VALUE,
    NaN, Infinity, -Infinity];
  const r = rng(7);
  const values = [...special];
  for (let i = 0; i < 20000; i++) {
    values.push(Math.floor(r() * 2 ** 31), -Math.floor(r() * 2 ** 31), Math.floor(r() * 2 ** 53), r() * 1e6, Math.sqrt(r() * 1e12),
      (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
  }
  let bad = 0;
  for (const x of values) {
    const got = written((o) => o.num(x));
    if (got !== JSON.stringify(x) && bad++ < 5) t.equal(got, JSON.stringify(x), `num(${x})`);
  }
  t.equal(bad, 0, `${values.length} values`);
});

t.test('seconds(us) writes what num(us / 1e6) writes', async (t) => {
  const r = rng(11);
  const values = [0, 1, 10, 999999, 1000000, 1000001, 1710234000000000, 1710234000015199, 1710234000015190, 2 ** 32 * 1e6 - 1,
    2 ** 32 * 1e6, 2 ** 40 * 1e6, 1.5, -1, NaN];
  for (let i = 0; i < 100000; i++) values.push(Math.floor(r() * 2 ** 32) * 1e6 + Math.floor(r() * 1e6), Math.floor(r() * 1e6) * 10);
  let bad = 0;
  for (const us of values) {
    const got = written((o) => o.seconds(us));
    const want = JSON.stringify(us / 1e6);
    if (got !== want && bad++ < 5) t.equal(got, want, `seconds(${us})`);
  }
  t.equal(bad, 0, `${values.length} values`);
});

t.test('fragments, text and booleans; the buffer grows past its first size and take() starts afresh', async (t) => {
  const o = new LineBuffer();
  const key = fragment(',"a_rather_long_key_name":');
  let want = '';
  for (let i = 0; i < 5000; i++) {
    o.raw(key).num(i).ascii('x').bool(i % 2 === 0).utf8(JSON.stringify(`é ${i} "q"`));
    want += `,"a_rather_long_key_name":${i}x${i % 2 === 0}${JSON.stringify(`é ${i} "q"`)}`;
  }
  t.ok(o.length > 64 * 1024, 'more than the initial buffer');
  const bytes = o.take();
  t.equal(bytes.toString('utf8'), want);
  t.equal(o.length, 0);
  o.ascii('next');
  t.equal(o.takeText(), 'next');
  t.equal(bytes.toString('utf8'), want, 'what take() returned is not overwritten by later writes');
});
