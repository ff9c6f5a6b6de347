import t from 'tap';
import { BeaconingDetector } from '../../../collector/detect/beaconing';
import { regularityScore } from '../../../collector/detect/rita-score';
import { prng } from '../../../collector/detect/hst';
import { assertAlertShape, detectConfig, established, flow, run, SEC, T0 } from './flows';

const cfg = detectConfig();

function series(n: number, intervalSecs: (i: number) => number, bytes: (i: number) => number, p = {}) {
  let at = T0;
  return Array.from({ length: n }, (_, i) => {
    at += intervalSecs(i) * SEC;
    const e = established(bytes(i), 4000);
    return flow({ dstIp: '203.0.113.7', dstPort: 443, firstUs: at, lastUs: at + 200_000, ...e, fwd: { ...e.fwd, ipBytes: bytes(i) }, ...p });
  });
}

t.test('RITA score: a perfect series scores 1, jitter ±10 % stays high, random intervals score low', async (t) => {
  const scratch = new Float64Array(64);
  t.equal(regularityScore(Float64Array.from([60, 60, 60, 60, 60]), 5, scratch, 10, 1), 1);
  const rand = prng(7);
  const jitter = Float64Array.from({ length: 40 }, () => 60 * (0.9 + 0.2 * rand()));
  t.ok(regularityScore(jitter, 40, scratch, 10, 1) >= 0.9);
  const expo = Float64Array.from({ length: 40 }, () => -Math.log(1 - rand()) * 60);
  t.ok(regularityScore(expo, 40, scratch, 10, 1) < 0.7);
});

t.test('beaconing: a check-in every 60 s ± 10 % jitter with steady sizes → one alert', async (t) => {
  const rand = prng(1);
  const alerts = run(new BeaconingDetector(cfg.beaconing), series(40, () => 60 * (0.9 + 0.2 * rand()), () => 900 + Math.floor(rand() * 20)));
  t.equal(alerts.length, 1, 'then quiet for suppress_secs');
  const a = alerts[0];
  assertAlertShape(t, a);
  t.match(a, { category: 'beaconing', attack_id: 'T1071', dst_ip: '203.0.113.7', dst_port: 443 });
  t.ok(a.score >= 0.8 && a.threshold === 0.8);
  t.equal(a.evidence.connections, 12, 'called as soon as min_connections are in');
});

t.test('beaconing: browsing-like irregular visits, bursts and periodic DNS stay silent', async (t) => {
  const rand = prng(2);
  t.same(run(new BeaconingDetector(cfg.beaconing), series(60, () => -Math.log(1 - rand()) * 120, () => 500 + Math.floor(rand() * 50_000))), [], 'irregular');
  t.same(run(new BeaconingDetector(cfg.beaconing), series(60, () => 0.05, () => 900)), [], 'a burst of parallel fetches');
  t.same(run(new BeaconingDetector(cfg.beaconing), series(60, () => 30, () => 80, { proto: 17, dstPort: 53, dstIp: '10.0.0.53' })), [], 'DNS is ignored');
});

t.test('beaconing: a pair\'s history grows to max_history and then wraps: a beacon that starts after 100 irregular visits is called on its last 64', async (t) => {
  const rand = prng(3);
  const irregular = (i: number): number => (i < 100 ? -Math.log(1 - rand()) * 120 : 60);
  const sizes = (i: number): number => (i < 100 ? 500 + Math.floor(rand() * 50_000) : 900);
  const alerts = run(new BeaconingDetector(cfg.beaconing), series(200, irregular, sizes));
  t.equal(alerts.length, 1, 'one alert, once the history holds the beacon');
  t.equal(cfg.beaconing.max_history, 64);
  t.equal(alerts[0].evidence.connections, 64, 'scored on a full history of max_history connections');
  t.ok(alerts[0].first_ts >= T0 / 1e6 + 100 * 60 - 1, 'the window starts inside the beacon, the irregular visits wrapped out');
});
