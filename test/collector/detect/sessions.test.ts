import t from 'tap';
import { BruteForceDetector } from '../../../collector/detect/brute-force';
import { SlowDosDetector } from '../../../collector/detect/slow-dos';
import { assertAlertShape, detectConfig, established, flow, run, SEC, T0 } from './flows';

const cfg = detectConfig();

function attempts(n: number, port: number, p = {}) {
  return Array.from({ length: n }, (_, i) => flow({
    dstIp: '10.0.0.22', dstPort: port, firstUs: T0 + i * 2 * SEC, lastUs: T0 + i * 2 * SEC + 1.8 * SEC, ...established(80, 120), ...p,
  }));
}

t.test('brute_force: 10 short SSH logins → one alert; 9 → none', async (t) => {
  t.same(run(new BruteForceDetector(cfg.brute_force), attempts(9, 22)), []);
  const alerts = run(new BruteForceDetector(cfg.brute_force), attempts(15, 22));
  t.equal(alerts.length, 1);
  assertAlertShape(t, alerts[0]);
  t.match(alerts[0], { category: 'brute_force', attack_id: 'T1110', severity: 'high', src_ip: '10.0.0.66', dst_ip: '10.0.0.22', dst_port: 22, score: 10, threshold: 10 });
});

t.test('brute_force: look-alikes stay silent', async (t) => {
  t.same(run(new BruteForceDetector(cfg.brute_force), attempts(30, 443)), [], 'HTTPS is not a login port');
  t.same(run(new BruteForceDetector(cfg.brute_force), attempts(30, 22, established(0, 0))), [], 'port checks send no credentials');
  t.same(run(new BruteForceDetector(cfg.brute_force), attempts(30, 22, { lastUs: T0 + 3600 * SEC, ...established(90_000, 900_000) })), [], 'interactive sessions');
  t.same(run(new BruteForceDetector(cfg.brute_force), attempts(30, 80, { app: { http_method: 'GET' } })), [], 'page loads');
  const spread = attempts(10, 22).map((f, i) => ({ ...f, firstUs: T0 + i * 200 * SEC, lastUs: T0 + i * 200 * SEC + SEC }));
  t.same(run(new BruteForceDetector(cfg.brute_force), spread), [], '10 logins over 30 minutes (window 15 min)');
});

t.test('brute_force: login form POSTs on port 80 count', async (t) => {
  const alerts = run(new BruteForceDetector(cfg.brute_force), attempts(12, 80, { app: { http_method: 'POST', http_host: 'intranet' } }));
  t.equal(alerts.length, 1);
  t.equal(alerts[0].dst_port, 80);
});

function held(n: number, clientBytes: number, p = {}) {
  return Array.from({ length: n }, (_, i) => flow({
    dstIp: '10.0.0.80', dstPort: 80, firstUs: T0 + i * SEC, lastUs: T0 + i * SEC + 300 * SEC, recordType: 'interim' as const, ...established(clientBytes, 0), ...p,
  }));
}

t.test('slow_dos: 20 connections held 5 min with a trickle of bytes → one alert', async (t) => {
  const alerts = run(new SlowDosDetector(cfg.slow_dos), held(25, 3000));
  t.equal(alerts.length, 1);
  assertAlertShape(t, alerts[0]);
  t.match(alerts[0], { category: 'slow_dos', attack_id: 'T1499.002', dst_port: 80, score: 20, threshold: 20 });
});

t.test('slow_dos: a browser (6 idle keep-alives) and 20 busy downloads stay silent; interim repeats count once', async (t) => {
  t.same(run(new SlowDosDetector(cfg.slow_dos), held(6, 100)), []);
  t.same(run(new SlowDosDetector(cfg.slow_dos), held(20, 3_000_000)), [], 'the client sends 10 kB/s');
  const one = held(1, 100)[0];
  const repeats = Array.from({ length: 30 }, (_, i) => ({ ...one, recordSeq: i, lastUs: one.lastUs + i * SEC }));
  t.same(run(new SlowDosDetector(cfg.slow_dos), repeats), [], 'one flow reported 30 times');
});
