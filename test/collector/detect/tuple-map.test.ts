import t from 'tap';
import { addrKey } from '../../../collector/detect/flow-keys';
import { AddrPairMap, BoundedTripleMap } from '../../../collector/detect/tuple-map';

t.test('BoundedTripleMap: exact int32 triples, bounded, least recently used half dropped (as BoundedMap)', async (t) => {
  const m = new BoundedTripleMap<string>(4);
  m.set(1, 2, 3, 'a');
  m.set(-1, 2, 3, 'b');
  t.same([m.get(1, 2, 3), m.get(-1, 2, 3), m.get(2, 1, 3), m.get(1, 2, 4)], ['a', 'b', undefined, undefined]);
  m.set(1, -2, 3, 'c');
  m.set(1, 2, -3, 'd');
  t.equal(m.size, 4);
  t.equal(m.get(1, 2, 3), 'a', 'a read moves the key back to the young generation');
  m.set(9, 9, 9, 'e');
  t.ok(m.size <= 4, `size ${m.size}`);
  t.equal(m.get(-1, 2, 3), undefined, 'a key never read again is gone');
  t.equal(m.get(1, 2, 3), 'a');
  m.set(1, 2, 3, 'a2');
  t.equal(m.get(1, 2, 3), 'a2', 'overwritten in place');
  m.delete(1, 2, 3);
  t.equal(m.get(1, 2, 3), undefined);
  for (let i = 0; i < 10_000; i++) m.set(i, i * 7, i & 3, 'x');
  t.ok(m.size <= 4);
  // many keys, many colliding slots, deletes in between: every survivor still found under its value
  const big = new BoundedTripleMap<number>(100_000);
  for (let i = 0; i < 50_000; i++) big.set((i * 2654435761) | 0, ~i, i & 7, i);
  for (let i = 0; i < 50_000; i += 3) big.delete((i * 2654435761) | 0, ~i, i & 7);
  let ok = 0;
  for (let i = 0; i < 50_000; i++) if (big.get((i * 2654435761) | 0, ~i, i & 7) === (i % 3 === 0 ? undefined : i)) ok++;
  t.equal(ok, 50_000);
  t.equal(big.size, 50_000 - Math.ceil(50_000 / 3));
});

t.test('AddrPairMap: IPv4 pairs per agent, other addresses by text; the two never mix', async (t) => {
  const m = new AddrPairMap<string>(10);
  const v4 = addrKey('10.0.0.1');
  const v4b = addrKey('10.0.0.2');
  m.set('gw1', v4, v4b, 443, 'v4');
  m.set('gw1', '2001:db8::1', v4b, 443, 'v6');
  m.set('gw2', v4, v4b, 443, 'other agent');
  t.equal(m.get('gw1', v4, v4b, 443), 'v4');
  t.equal(m.get('gw1', '2001:db8::1', v4b, 443), 'v6');
  t.equal(m.get('gw2', v4, v4b, 443), 'other agent');
  t.equal(m.get('gw1', v4b, v4, 443), undefined, 'direction matters');
  t.equal(m.get('gw1', v4, v4b, 80), undefined);
  t.equal(m.get('gw1', '10.0.0.1x', v4b, 443), undefined);
  m.delete('gw1', '2001:db8::1', v4b, 443);
  m.delete('gw1', v4, v4b, 443);
  t.equal(m.get('gw1', '2001:db8::1', v4b, 443), undefined);
  t.equal(m.get('gw1', v4, v4b, 443), undefined);
  t.equal(m.get('gw2', v4, v4b, 443), 'other agent');
});
