import t from 'tap';
import { DnsTunnelDetector } from '../../../collector/detect/dns-tunnel';
import { entropyBitsPerChar, splitRegistered } from '../../../collector/detect/dns-names';
import { prng } from '../../../collector/detect/hst';
import { assertAlertShape, detectConfig, flow, run, SEC, stats, T0 } from './flows';

const cfg = detectConfig();

function query(name: string, qtype = 1, i = 0, packets = 1) {
  return flow({ proto: 17, dstIp: '10.0.0.53', dstPort: 53, connState: '', firstUs: T0 + i * SEC, fwd: stats({ packets }), bwd: stats({ packets }), app: { dns_query: name, dns_qtype: qtype } });
}

function hex(rand: () => number, n: number): string {
  return Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
}

t.test('names: registered domain and entropy', async (t) => {
  t.same(splitRegistered('a.b.example.com'), ['a.b', 'example.com']);
  t.same(splitRegistered('www.bbc.co.uk'), ['www', 'bbc.co.uk']);
  t.same(splitRegistered('example.com'), ['', 'example.com']);
  t.equal(entropyBitsPerChar('aaaa'), 0);
  t.equal(entropyBitsPerChar('ab.ab'), 1);
});

t.test('dns_tunnel: hex-encoded labels (dnscat2-like) → alert after 5 queries', async (t) => {
  const rand = prng(3);
  const flows = Array.from({ length: 8 }, (_, i) => query(`${hex(rand, 34)}.biillpi.com`, 15, i));
  const alerts = run(new DnsTunnelDetector(cfg.dns_tunnel), flows);
  t.equal(alerts.length, 1);
  assertAlertShape(t, alerts[0]);
  t.match(alerts[0], { category: 'dns_tunnel', attack_id: 'T1071.004', score: 5, threshold: 5 });
  t.match(alerts[0].evidence, { rule: 'encoded_names', domain: 'biillpi.com' });
});

t.test('dns_tunnel: TXT-heavy traffic on one socket (dns2tcp-like) → alert', async (t) => {
  const alerts = run(new DnsTunnelDetector(cfg.dns_tunnel), [query('aaaaah7wqa.=auth.dns2tcp.hsc.fr', 16, 0, 22)]);
  t.equal(alerts.length, 1);
  t.match(alerts[0].evidence, { rule: 'txt_null_queries', txt_null_queries: 22 });
});

t.test('dns_tunnel: 100 unique subdomains of one domain → alert', async (t) => {
  const flows = Array.from({ length: 100 }, (_, i) => query(`host${i}.c2.example.net`, 1, i));
  const alerts = run(new DnsTunnelDetector(cfg.dns_tunnel), flows);
  t.equal(alerts.length, 1);
  t.match(alerts[0].evidence, { rule: 'unique_subdomains', domain: 'example.net' });
});

t.test('dns_tunnel: ordinary names, CDNs, reverse lookups, mDNS and SPF TXT stay silent', async (t) => {
  const names = [
    'www.google.com', 'mail.google.com', 'd3kl2j4h5abc.cloudfront.net', 'e1234.a.akamaiedge.net', 'fonts.gstatic.com',
    '9.c.9.e.7.c.e.f.f.f.b.e.7.2.a.b.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa', 'black-pearl._workstation._tcp.local',
    'this-is-a-rather-long-but-readable-hostname-for-the-intranet.corp.example.org',
  ];
  for (let k = 0; k < 6; k++) names.push(`a-rather-long-but-readable-hostname-number-${'abcdef'[k]}.corp.example.org`);
  const flows = names.flatMap((n, k) => Array.from({ length: 6 }, (_, i) => query(n, 1, k * 10 + i)));
  flows.push(...Array.from({ length: 6 }, (_, i) => query(`_spf${i}.example.com`, 16, 100 + i)));
  flows.push(...Array.from({ length: 50 }, (_, i) => query(`shop${i}.example.com`, 1, 200 + i)));
  t.same(run(new DnsTunnelDetector(cfg.dns_tunnel), flows), []);
});
