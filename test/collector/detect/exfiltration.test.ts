import t from 'tap';
import { ExfiltrationDetector } from '../../../collector/detect/exfiltration';
import { PrefixSet } from '../../../collector/detect/prefix-set';
import { assertAlertShape, detectConfig, established, flow, run, SEC, T0 } from './flows';

const cfg = detectConfig();
const local = new PrefixSet(cfg.local_networks);
const BUCKET = cfg.exfiltration.bucket_secs * SEC;

/** One upload per 5-min bucket from 10.0.0.5 to the outside, `bytes(i)` in bucket i. */
function uploads(buckets: number, bytes: (i: number) => number) {
  return Array.from({ length: buckets }, (_, i) => flow({
    srcIp: '10.0.0.5', dstIp: '198.51.100.9', dstPort: 443, firstUs: T0 + i * BUCKET, lastUs: T0 + i * BUCKET + 10 * SEC, ...established(bytes(i), 1000),
  }));
}

t.test('exfiltration: 12 buckets of ~2 MB, then 300 MB → one alert with the baseline', async (t) => {
  const flows = uploads(14, (i) => (i < 13 ? 2_000_000 + (i % 3) * 100_000 : 300_000_000));
  const alerts = run(new ExfiltrationDetector(cfg.exfiltration, local), flows);
  t.equal(alerts.length, 1);
  const a = alerts[0];
  assertAlertShape(t, a);
  t.match(a, { category: 'exfiltration', attack_id: 'T1048', src_ip: '10.0.0.5', dst_ip: '198.51.100.9', score: 300_000_000 });
  t.ok(a.threshold >= cfg.exfiltration.min_bytes);
  t.ok((a.evidence.baseline_mean_bytes as number) > 1_000_000 && (a.evidence.baseline_mean_bytes as number) < 3_000_000);
});

t.test('exfiltration: silent while learning, for a steady heavy uploader, for internal copies and for downloads', async (t) => {
  t.same(run(new ExfiltrationDetector(cfg.exfiltration, local), uploads(5, (i) => (i < 4 ? 1000 : 500_000_000))), [], 'still learning');
  t.same(run(new ExfiltrationDetector(cfg.exfiltration, local), uploads(40, (i) => 400_000_000 + (i % 5) * 20_000_000)), [], 'backup server');
  const internal = uploads(20, (i) => (i < 19 ? 1000 : 900_000_000)).map((f) => ({ ...f, dstIp: '10.0.0.9' }));
  t.same(run(new ExfiltrationDetector(cfg.exfiltration, local), internal), [], 'internal');
  const downloads = uploads(20, () => 1000).map((f, i) => ({ ...f, ...established(1000, i < 19 ? 1000 : 900_000_000) }));
  t.same(run(new ExfiltrationDetector(cfg.exfiltration, local), downloads), [], 'downloads');
});

t.test('exfiltration: a long flow reported as interim records counts only its growth', async (t) => {
  const base = uploads(13, () => 2_000_000);
  const long = Array.from({ length: 3 }, (_, k) => flow({
    flowId: 999_999, recordSeq: k, recordType: k < 2 ? 'interim' as const : 'final' as const, srcIp: '10.0.0.5', dstIp: '198.51.100.9',
    firstUs: T0 + 13 * BUCKET, lastUs: T0 + 13 * BUCKET + (k + 1) * 20 * SEC, ...established(15_000_000 * (k + 1), 0),
  }));
  t.same(run(new ExfiltrationDetector(cfg.exfiltration, local), base, long), [], '45 MB in total: far above the old mean, below min_bytes');
  const alerts = run(new ExfiltrationDetector(cfg.exfiltration, local), base, long.map((f) => ({ ...f, ...established(40_000_000 * (f.recordSeq + 1), 0) })));
  t.equal(alerts.length, 1, 'growth of 40 MB per record crosses min_bytes once');
  t.equal(alerts[0].score, 80_000_000, 'raised at the record that crossed the limit (40 + 40 MB)');
});
