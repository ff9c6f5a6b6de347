import t from 'tap';
import { icmpFloodDetector } from '../../../collector/detect/icmp-flood';
import { synFloodDetector } from '../../../collector/detect/syn-flood';
import { udpFloodDetector } from '../../../collector/detect/udp-flood';
import { assertAlertShape, detectConfig, established, flow, run, SEC, stats, T0 } from './flows';

const cfg = detectConfig();
const MS = 1000;

t.test('syn_flood: 200 SYNs in 0.2 s from one source → one alert naming it', async (t) => {
  const syns = Array.from({ length: 200 }, (_, i) => flow({ srcIp: '192.0.2.10', dstIp: '198.51.100.5', dstPort: 443, firstUs: T0 + i * MS }));
  const alerts = run(synFloodDetector(cfg.syn_flood), syns);
  t.equal(alerts.length, 1);
  assertAlertShape(t, alerts[0]);
  t.match(alerts[0], { category: 'syn_flood', attack_id: 'T1499.001', severity: 'high', src_ip: '192.0.2.10', dst_ip: '198.51.100.5', dst_port: 443, score: 100, threshold: 100 });
});

t.test('syn_flood: spoofed sources → the source is null (no one sent half)', async (t) => {
  const syns = Array.from({ length: 150 }, (_, i) => flow({ srcIp: `203.0.${i >> 8}.${i & 255}`, dstIp: '198.51.100.5', firstUs: T0 + i * MS }));
  const alerts = run(synFloodDetector(cfg.syn_flood), syns);
  t.equal(alerts.length, 1);
  t.equal(alerts[0].src_ip, null);
});

t.test('syn_flood: 50 SYN/s for 10 s, and a busy web server with completed handshakes, stay silent', async (t) => {
  const slow = Array.from({ length: 500 }, (_, i) => flow({ dstIp: '198.51.100.5', firstUs: T0 + i * 20 * MS }));
  t.same(run(synFloodDetector(cfg.syn_flood), slow), []);
  const busy = Array.from({ length: 1000 }, (_, i) => flow({ srcIp: `198.18.${i >> 8}.${i & 255}`, dstIp: '198.51.100.5', firstUs: T0 + i * MS, ...established(300, 9000) }));
  t.same(run(synFloodDetector(cfg.syn_flood), busy), []);
});

t.test('udp_flood: 10,000 unanswered packets at once → alert; a long quiet flow and answered DNS → silent', async (t) => {
  const burst = [flow({ proto: 17, srcIp: '0.0.0.0', dstIp: '255.255.255.255', dstPort: 67, connState: '', fwd: stats({ packets: 10_000 }), bwd: stats() })];
  const alerts = run(udpFloodDetector(cfg.udp_flood), burst);
  t.equal(alerts.length, 1);
  t.match(alerts[0], { category: 'udp_flood', attack_id: 'T1498.001', dst_port: 67, score: 10_000 });
  const longFlow = [flow({ proto: 17, dstPort: 5004, connState: '', lastUs: T0 + 3600 * SEC, fwd: stats({ packets: 100_000 }), bwd: stats() })];
  t.same(run(udpFloodDetector(cfg.udp_flood), longFlow), [], '28 packets/s on average');
  const dns = Array.from({ length: 3000 }, (_, i) => flow({ proto: 17, dstIp: '10.0.0.53', dstPort: 53, firstUs: T0 + i * 100, connState: '', fwd: stats({ packets: 1 }), bwd: stats({ packets: 1 }) }));
  t.same(run(udpFloodDetector(cfg.udp_flood), dns), [], 'answered queries are not a flood');
});

t.test('icmp_flood: 300 echo requests in 1 s → alert; 8 pings → silent', async (t) => {
  const flood = [flow({ proto: 1, srcPort: 0, dstPort: 8 << 8, connState: '', lastUs: T0 + SEC / 2, fwd: stats({ packets: 300 }), bwd: stats({ packets: 300 }) })];
  const alerts = run(icmpFloodDetector(cfg.icmp_flood), flood);
  t.equal(alerts.length, 1);
  t.match(alerts[0], { category: 'icmp_flood', severity: 'high' });
  const pings = [flow({ proto: 1, srcPort: 0, dstPort: 8 << 8, connState: '', lastUs: T0 + 7 * SEC, fwd: stats({ packets: 8 }), bwd: stats({ packets: 8 }) })];
  t.same(run(icmpFloodDetector(cfg.icmp_flood), pings), []);
});
