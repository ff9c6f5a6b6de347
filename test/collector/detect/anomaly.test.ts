import t from 'tap';
import { AnomalyDetector } from '../../../collector/detect/anomaly';
import { HalfSpaceTrees, prng } from '../../../collector/detect/hst';
import type { FlowRow } from '../../../collector/model';
import { detectConfig, established, flow, run, SEC, stats, T0 } from './flows';

/** Web browsing: HTTPS flows with varied but ordinary sizes. */
function normal(n: number, seed: number, agentId = 'gw1'): FlowRow[] {
  const rand = prng(seed);
  return Array.from({ length: n }, (_, i) => {
    const up = 300 + Math.floor(rand() * 1500);
    const down = 2000 + Math.floor(rand() * 60_000);
    const e = established(up, down);
    return flow({
      agentId, srcIp: `10.0.0.${1 + (i % 50)}`, dstIp: `93.184.${i % 200}.1`, dstPort: 443, firstUs: T0 + i * SEC, lastUs: T0 + i * SEC + (200 + rand() * 2000) * 1000,
      ...e, fwd: { ...e.fwd, packets: 8 + Math.floor(rand() * 20), iatMeanUs: 20_000 + rand() * 50_000 }, bwd: { ...e.bwd, packets: 10 + Math.floor(rand() * 60) },
    });
  });
}

/** Something this network never does: a 2-hour UDP flow sending 5 GB to a high port, no replies. */
function odd(i: number): FlowRow {
  return flow({
    srcIp: '10.0.0.7', dstIp: '198.51.100.99', proto: 17, srcPort: 50000, dstPort: 61000 + i, connState: '',
    firstUs: T0 + 1e9 + i * SEC, lastUs: T0 + 1e9 + i * SEC + 7200 * SEC,
    fwd: stats({ packets: 4_000_000, payloadBytes: 5e9, ipBytes: 5.1e9, lenMean: 1250, iatMeanUs: 1800 }), bwd: stats(),
  });
}

const cfg = detectConfig({ anomaly: { learning_flows: 4000, alert_rate: 0.001, window_flows: 250 } }).anomaly;

t.test('half-space trees: dense regions score low, empty ones high; seeded, so reproducible', async (t) => {
  const a = new HalfSpaceTrees({ trees: 25, height: 8, windowSize: 100, dims: 2, seed: 1 });
  const b = new HalfSpaceTrees({ trees: 25, height: 8, windowSize: 100, dims: 2, seed: 1 });
  const rand = prng(9);
  const x = new Float64Array(2);
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < 1000; i++) {
    x[0] = 0.2 + 0.05 * rand();
    x[1] = 0.3 + 0.05 * rand();
    sa.push(a.scoreAndLearn(x));
    sb.push(b.scoreAndLearn(x));
  }
  t.same(sa, sb, 'same seed, same scores');
  x[0] = 0.21; x[1] = 0.31;
  const inside = a.scoreAndLearn(x);
  x[0] = 0.95; x[1] = 0.9;
  const outside = a.scoreAndLearn(x);
  t.ok(outside > inside + 0.3, `outside ${outside} vs inside ${inside}`);
});

t.test('anomaly: silent while learning, then flags what the network never does, at about the chosen rate', async (t) => {
  const d = new AnomalyDetector(cfg);
  t.same(run(d, normal(4000, 1)), [], 'learning period: no alerts');
  t.same(d.networks, { total: 1, learning: 0 });
  const normalAfter = run(d, normal(4000, 2));
  t.ok(normalAfter.length <= 4000 * cfg.alert_rate * 5, `${normalAfter.length} alerts on 4000 normal flows (rate ${cfg.alert_rate})`);
  const alerts = run(d, [odd(1), odd(2), odd(3)]);
  t.equal(alerts.length, 3, 'every odd flow is flagged');
  const a = alerts[0];
  t.match(a, { category: 'anomaly', severity: 'low', attack_id: null, src_ip: '10.0.0.7', dst_ip: '198.51.100.99' });
  t.ok(a.score > a.threshold);
  t.ok((a.evidence.outside_learned_range as string[]).includes('log_fwd_payload_bytes'));
  t.equal(a.evidence.network, '0.0.0.0/0');
});

t.test('anomaly: per-network models — one agent learning says nothing about another', async (t) => {
  const d = new AnomalyDetector(cfg);
  run(d, normal(4000, 3));
  t.same(run(d, [{ ...odd(1), agentId: 'gw2' }]), [], 'gw2 is still learning');
  t.same(d.networks, { total: 2, learning: 1 });
  const byPrefix = new AnomalyDetector(detectConfig({ anomaly: { learning_flows: 4000, network_prefix_v4: 24 } }).anomaly);
  run(byPrefix, normal(100, 4));
  t.same(byPrefix.networks, { total: 1, learning: 1 }, 'all of 10.0.0.0/24 is one network');
});
