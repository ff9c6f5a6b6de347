import t from 'tap';
import { HostScanDetector } from '../../../collector/detect/host-scan';
import { TrwDetector } from '../../../collector/detect/trw';
import { established, flow, assertAlertShape, detectConfig, REFUSED, run, SEC, stats, SYN_ONLY, T0 } from './flows';

const cfg = detectConfig();

t.test('host_scan: 25 hosts on one port in 5 min → one alert; 24 → none', async (t) => {
  const probes = (n: number, p = {}) => Array.from({ length: n }, (_, i) => flow({ dstIp: `10.1.0.${i + 1}`, dstPort: 445, firstUs: T0 + i * SEC, ...SYN_ONLY, ...p }));
  t.same(run(new HostScanDetector(cfg.host_scan), probes(24)), []);
  const alerts = run(new HostScanDetector(cfg.host_scan), probes(30));
  t.equal(alerts.length, 1, 'one alert, then suppressed');
  const a = alerts[0];
  assertAlertShape(t, a);
  t.match(a, { category: 'host_scan', attack_id: 'T1046', src_ip: '10.0.0.66', dst_port: 445, score: 25, threshold: 25 });
  t.equal(a.evidence.flow_count, 25);
});

t.test('host_scan: refused probes count, answered connections (a busy client) do not', async (t) => {
  const refused = Array.from({ length: 25 }, (_, i) => flow({ dstIp: `10.1.0.${i + 1}`, dstPort: 23, ...REFUSED }));
  t.equal(run(new HostScanDetector(cfg.host_scan), refused).length, 1);
  const web = Array.from({ length: 60 }, (_, i) => flow({ dstIp: `93.184.${i}.1`, dstPort: 443, ...established(500, 5000) }));
  t.same(run(new HostScanDetector(cfg.host_scan), web), []);
});

t.test('host_scan: the window is 5 min of flow time — 25 probes over an hour are not a threshold scan', async (t) => {
  const slow = Array.from({ length: 25 }, (_, i) => flow({ dstIp: `10.1.0.${i + 1}`, dstPort: 22, firstUs: T0 + i * 150 * SEC }));
  t.same(run(new HostScanDetector(cfg.host_scan), slow), []);
});

t.test('host_scan: a ping sweep of 15 hosts alerts, answered or not; 8 pings to one host do not', async (t) => {
  const sweep = Array.from({ length: 15 }, (_, i) => flow({
    proto: 1, dstPort: 8 << 8, srcPort: 0, dstIp: `192.168.1.${i + 1}`, connState: '',
    fwd: stats({ packets: 1 }), bwd: stats({ packets: i % 2 }),
  }));
  const alerts = run(new HostScanDetector(cfg.host_scan), sweep);
  t.equal(alerts.length, 1);
  t.match(alerts[0].evidence, { protocol: 'icmp_echo' });
  const pings = [flow({ proto: 1, dstPort: 8 << 8, srcPort: 0, fwd: stats({ packets: 8 }), bwd: stats({ packets: 8 }) })];
  t.same(run(new HostScanDetector(cfg.host_scan), pings), []);
});

t.test('host_scan: SYN-ACK backscatter from a spoofed flood elsewhere is not a scan', async (t) => {
  const backscatter = Array.from({ length: 40 }, (_, i) => flow({
    srcIp: '202.229.120.98', dstIp: `192.150.186.${i}`, srcPort: 80, dstPort: 1000 + i, connState: 'OTH',
    fwd: stats({ packets: 1, tcpFlags: 0x12, synCount: 1, ackCount: 1 }), bwd: stats(),
  }));
  t.same(run(new HostScanDetector(cfg.host_scan), backscatter), []);
  t.same(run(new TrwDetector(cfg.trw), backscatter), []);
});

t.test('trw: four failed first contacts call a scanner, however slow', async (t) => {
  const hourly = Array.from({ length: 4 }, (_, i) => flow({ dstIp: `10.9.0.${i + 1}`, dstPort: 445, firstUs: T0 + i * 3600 * SEC }));
  const alerts = run(new TrwDetector(cfg.trw), hourly.slice(0, 2), hourly.slice(2));
  t.equal(alerts.length, 1);
  const a = alerts[0];
  assertAlertShape(t, a);
  t.match(a, { category: 'host_scan', src_ip: '10.0.0.66' });
  t.match(a.evidence, { rule: 'threshold_random_walk', failed_first_contacts: 4, answered_first_contacts: 0 });
  t.ok(a.score >= a.threshold && Math.abs(a.threshold - Math.log(99)) < 1e-3, 'threshold is ln(β/α)');
  t.equal(run(new TrwDetector(cfg.trw), hourly.slice(0, 3)).length, 0, 'three are not enough');
});

t.test('trw: a client whose first contacts mostly succeed is benign; repeats to one host are not first contacts', async (t) => {
  const mixed = Array.from({ length: 40 }, (_, i) => flow({
    dstIp: `93.184.0.${i + 1}`, dstPort: 443, firstUs: T0 + i * SEC, ...(i % 5 === 4 ? SYN_ONLY : established(300, 3000)),
  }));
  t.same(run(new TrwDetector(cfg.trw), mixed), []);
  const retries = Array.from({ length: 20 }, (_, i) => flow({ dstIp: '10.9.9.9', dstPort: 8080, firstUs: T0 + i * SEC }));
  t.same(run(new TrwDetector(cfg.trw), retries), []);
});

t.test('trw: long walks remember every contacted host up to 256, then start the list again', async (t) => {
  const host = (i: number) => `10.8.${i >> 8}.${i & 255}`;
  // answered, failed, answered, …: the walk swings between 0 and ln(0.25), never ending
  const alternating = (n: number) => Array.from({ length: n }, (_, i) => flow({ dstIp: host(i), firstUs: T0 + i * SEC, ...(i % 2 === 0 ? established(300, 3000) : SYN_ONLY) }));
  const failed = (hosts: number[], from: number) => hosts.map((h, k) => flow({ dstIp: host(h), firstUs: T0 + (from + k) * SEC, ...SYN_ONLY }));
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  const walk = alternating(40);
  const repeats = failed(range(0, 40), 40);
  const fresh = failed(range(1000, 1004), 80);
  const alerts = run(new TrwDetector(cfg.trw), walk, repeats, fresh);
  t.equal(alerts.length, 1, 'failed repeats to the 40 hosts are not first contacts; the 4 new hosts are');
  t.match(alerts[0].evidence, { failed_first_contacts: 24, answered_first_contacts: 20 });
  t.equal(alerts[0].last_ts, (T0 + 83 * SEC + 1000) / 1e6, 'raised at the fourth new host');

  // past 256 hosts the list starts again: host 0 is a first contact again, host 299 is not
  const long = alternating(300);
  const again = run(new TrwDetector(cfg.trw), long, failed([299, 0, 2000, 2001], 300), failed([2002], 304));
  t.equal(again.length, 1);
  t.match(again[0].evidence, { failed_first_contacts: 154, answered_first_contacts: 150 });
});

t.test('trw: the thresholds follow the configured probabilities', async (t) => {
  const strict = detectConfig({ trw: { false_positive_prob: 0.0001 } }).trw;
  const probes = Array.from({ length: 6 }, (_, i) => flow({ dstIp: `10.9.1.${i + 1}`, firstUs: T0 + i * SEC }));
  t.same(run(new TrwDetector(strict), probes.slice(0, 5)), [], 'ln(0.99/0.0001) needs 7 failures');
  t.equal(run(new TrwDetector(strict), [...probes, flow({ dstIp: '10.9.1.99', firstUs: T0 + 9 * SEC })]).length, 1);
});
