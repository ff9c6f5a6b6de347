import t from 'tap';
import { BoundedMap } from '../../../collector/detect/bounded-map';
import { PrefixSet } from '../../../collector/detect/prefix-set';

t.test('BoundedMap holds at most max keys and drops the least recently used half', async (t) => {
  const m = new BoundedMap<number, string>(4);
  for (let i = 0; i < 4; i++) m.set(i, `v${i}`);
  t.equal(m.size, 4);
  t.equal(m.get(0), 'v0', 'a read moves key 0 back to the young generation');
  m.set(4, 'v4');
  m.set(5, 'v5');
  t.ok(m.size <= 4, `size ${m.size}`);
  t.equal(m.get(1), undefined, 'key 1 (never read again) is gone');
  t.equal(m.get(0), 'v0', 'key 0 (recently read) survived');
  m.delete(0);
  t.equal(m.get(0), undefined);
  for (let i = 0; i < 10_000; i++) m.set(i, 'x');
  t.ok(m.size <= 4);
});

t.test('PrefixSet: IPv4 and IPv6 prefixes and exact addresses', async (t) => {
  const s = new PrefixSet(['10.0.0.0/8', '192.168.1.7', 'fc00::/7', '172.16.0.0/12']);
  t.ok(s.match('10.255.1.2'));
  t.ok(s.match('172.31.0.1'));
  t.notOk(s.match('172.32.0.1'));
  t.ok(s.match('192.168.1.7'));
  t.notOk(s.match('192.168.1.8'));
  t.ok(s.match('fd12:3456::1'));
  t.notOk(s.match('2001:db8::1'));
  t.notOk(s.add('10.0.0.0/33'));
  t.notOk(s.add('not-an-address'));
  const all = new PrefixSet(['0.0.0.0/0']);
  t.ok(all.match('203.0.113.9'));
});
