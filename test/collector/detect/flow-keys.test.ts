import t from 'tap';
import {
  ACCEPTED, addrKey, ATTEMPT, DST_INTERNED, ECHO, FINAL, FIRST_RECORD, FlowKeys, HAS_APP, internAddr, ipv4Key, keyText, PROBE_ANSWERED, PROBE_FAILED,
} from '../../../collector/detect/flow-keys';
import { IndicatorSet } from '../../../collector/detect/intel/indicators';
import { PrefixSet } from '../../../collector/detect/prefix-set';
import { established, flow, REFUSED, stats, SYN_ONLY, T0 } from './flows';

t.test('addrKey: canonical IPv4 becomes its int32 and back; anything else stays its text', async (t) => {
  for (const ip of ['0.0.0.0', '10.0.0.1', '192.168.255.254', '255.255.255.255', '203.0.113.7']) {
    const k = addrKey(ip);
    t.type(k, 'number', ip);
    t.equal(k, k as number | 0, `${ip} is an int32`);
    t.equal(keyText(k), ip);
  }
  t.not(addrKey('10.0.0.1'), addrKey('10.0.0.2'));
  // not canonical: no two spellings of one address may share a key, so these stay strings
  for (const ip of ['010.0.0.1', '10.0.0.01', '10.0.0.256', '10.0.0', '10.0.0.1.2', '10..0.1', '1.2.3.4x', '1.2.3.4.', '.1.2.3', '1.2.3.', '1234.1.1.1', '00.0.0.0', '999.1.1.1', '::1', 'fe80::1%eth0', '', '::ffff:1.2.3.4']) {
    t.equal(addrKey(ip), ip, JSON.stringify(ip));
    t.ok(Number.isNaN(ipv4Key(ip)));
  }
});

t.test('ipv4Key agrees with a plain reference on 300,000 random dotted strings', async (t) => {
  const canonical = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
  const reference = (s: string): number => (canonical.test(s) ? s.split('.').reduce((n, o) => (n << 8) | Number(o), 0) : NaN);
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  let bad = 0;
  let valid = 0;
  for (let k = 0; k < 300_000; k++) {
    // octets of 1-4 digits, biased towards valid ones, with an occasional stray dot or letter
    let s = '';
    for (let o = 0; o < 4; o++) {
      if (o > 0) s += '.';
      const len = 1 + rand(rand(8) === 0 ? 4 : 3);
      for (let c = 0; c < len; c++) s += String(rand(c === 0 ? 3 : 10));
    }
    if (rand(10) === 0) s = s.slice(0, rand(s.length)) + '.x0'[rand(3)] + s.slice(rand(s.length));
    const want = reference(s);
    const got = ipv4Key(s);
    if (!Object.is(got, want)) bad++;
    if (!Number.isNaN(want)) valid++;
  }
  t.equal(bad, 0);
  t.ok(valid > 30_000, `${valid} valid addresses among them`);
});

t.test('FlowKeys: one pre-pass per batch, reused; detectors called alone parse their own', async (t) => {
  const flows = [flow({ srcIp: '10.0.0.1', dstIp: '2001:db8::1' }), flow({ srcIp: '192.168.1.2', dstIp: '8.8.8.8' })];
  const keys = new FlowKeys().fill(flows);
  t.same(keys.src.map(keyText), ['10.0.0.1', '192.168.1.2']);
  t.same(keys.dst.map(keyText), ['2001:db8::1', '8.8.8.8']);
  t.same([keys.srcId[0], keys.kinds[0]], [addrKey('10.0.0.1'), DST_INTERNED], 'IPv4 ids are the address; others interned');
  t.equal(keys.dstId[0], internAddr('2001:db8::1'), 'one id per address text, whoever asks');
  t.not(internAddr('2001:db8::2'), keys.dstId[0]);
  t.equal(FlowKeys.of(flows, keys), keys, 'filled for this batch: shared');
  const other = flows.slice(0, 1);
  const own = FlowKeys.of(other, keys);
  t.not(own, keys, 'another batch: parsed afresh');
  t.equal(own.src.length, 1);
  t.equal(FlowKeys.of(flows, undefined).src.length, 2);
});

t.test('FlowKeys: the columns and traits are what the rows and the probe predicates say', async (t) => {
  const flows = [
    flow({ ...SYN_ONLY, dstPort: 22 }),
    flow({ ...REFUSED, recordSeq: 1, recordType: 'interim' }),
    flow({ ...established(300, 5000), app: { tls_sni: 'example.com' }, firstUs: T0 + 5, lastUs: T0 + 9 }),
    flow({ proto: 1, dstPort: 8 << 8, fwd: stats({ packets: 3 }), bwd: stats({ packets: 3 }) }),
  ];
  const k = new FlowKeys().fill(flows);
  t.equal(k.traits[0], FIRST_RECORD | FINAL | ATTEMPT | PROBE_FAILED);
  t.equal(k.traits[1], ATTEMPT, 'an interim record is no probe (probes.ts), but still an attempt');
  t.equal(k.traits[2], FIRST_RECORD | FINAL | ACCEPTED | PROBE_ANSWERED | HAS_APP);
  t.equal(k.traits[3], FIRST_RECORD | FINAL | PROBE_ANSWERED | ECHO);
  t.same([k.proto[3], k.dstPort[0], k.firstUs[2], k.lastUs[2], k.fwdPayload[2], k.bwdPayload[2], k.fwdPackets[3], k.bwdPackets[3]],
    [1, 22, T0 + 5, T0 + 9, 300, 5000, 3, 3]);
  t.equal(k.agent, flows[0].agentId, 'one agent');
  t.equal(new FlowKeys().fill([flows[0], { ...flows[1], agentId: 'other' }]).agent, undefined, 'two agents');
});

t.test('PrefixSet.matchV4 agrees with match on the text', async (t) => {
  const s = new PrefixSet(['10.0.0.0/8', '172.16.0.0/12', '192.168.1.7', '0.0.0.0/32', 'fc00::/7']);
  const many = new PrefixSet(Array.from({ length: 40 }, (_, i) => `100.${i}.0.0/16`).concat('10.0.0.0/8'));
  for (const ip of ['10.1.2.3', '11.0.0.1', '172.31.255.255', '172.32.0.0', '192.168.1.7', '192.168.1.8', '0.0.0.0', '100.39.1.1', '100.40.1.1', '255.255.255.255']) {
    t.equal(s.matchV4(ipv4Key(ip)), s.match(ip), ip);
    t.equal(many.matchV4(ipv4Key(ip)), many.match(ip), `${ip} (map path, over the linear limit)`);
  }
});

t.test('PrefixSet.matchV4 agrees with match on random addresses, prefixes of every length up to /9', async (t) => {
  let seed = 11;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const ip = (): string => `${rand(256)}.${rand(256)}.${rand(256)}.${rand(256)}`;
  for (const bits of [0, 1, 4, 7, 8, 9, 12, 24, 32]) {
    const set = new PrefixSet([`${ip()}/${bits}`, `${ip()}/${Math.min(32, bits + 3)}`]);
    let bad = 0;
    for (let k = 0; k < 5000; k++) {
      const a = ip();
      if (set.matchV4(ipv4Key(a)) !== set.match(a)) bad++;
    }
    t.equal(bad, 0, `/${bits}`);
  }
});

t.test('IndicatorSet: names match themselves and every name below, whatever their depth', async (t) => {
  const set = new IndicatorSet();
  set.add({ value: 'evil.example', kind: 'domain', source: 's' });
  set.add({ value: 'Deep.Bad.Example.ORG.', kind: 'domain', source: 's' });
  set.add({ value: '203.0.113.0/24', kind: 'ip', source: 's' });
  t.equal(set.matchDomain('evil.example')?.value, 'evil.example');
  t.equal(set.matchDomain('a.b.c.EVIL.example.')?.value, 'evil.example');
  t.equal(set.matchDomain('x.deep.bad.example.org')?.value, 'Deep.Bad.Example.ORG.');
  t.equal(set.matchDomain('X.Evil.EXAMPLE')?.value, 'evil.example', 'letters folded in the last-label shortcut too');
  set.add({ value: 'evil.tk', kind: 'domain', source: 's' });
  t.equal(set.matchDomain('www.evil.t\u212a')?.value, 'evil.tk', 'the Kelvin sign lower-cases to k: no shortcut on non-ASCII');
  t.equal(set.matchDomain('bad.example.org'), undefined);
  t.equal(set.matchDomain('notevil.example'), undefined);
  t.equal(set.matchDomain('example'), undefined);
  t.equal(set.matchIpV4(ipv4Key('203.0.113.200'))?.value, '203.0.113.0/24');
  t.equal(set.matchIpV4(ipv4Key('203.0.114.1')), undefined);
});
