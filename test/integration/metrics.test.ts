// /metrics and /healthz on a real agent process (replaying the demo capture, paced so it is still
// running when scraped) and on the collector it sends to: packets, bytes, flows, batches, queue, and
// on the collector alerts by category, ingest lag, the audit chain and subscriber counters.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { metricValue, startTestCollector, TOKENS } from '../collector/helpers';
import { freePort, ROOT, startTs, stop, tempDir } from '../helpers/processes';

const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');

async function get(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('agent and collector expose Prometheus metrics and health while flows stream', async (t) => {
  const c = await startTestCollector(t);
  const dir = tempDir('gk-op-metrics-');
  t.teardown(() => import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true })));
  const port = await freePort();
  const cfg = join(dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({
    agent_id: 'gw1',
    // ~4 s of replay; short timeouts so flows (and batches) leave during it, not only at the end
    source: { file: CAPTURE, replay_pps: 300 },
    flow: { idle_timeout_secs: 1, tcp_idle_timeout_secs: 1, tcp_half_open_timeout_secs: 1, icmp_idle_timeout_secs: 1, active_timeout_secs: 2 },
    collector: { url: `ws://127.0.0.1:${c.port}`, token: TOKENS.gw1, heartbeat_interval_ms: 200 },
    export: { flush_interval_ms: 100 },
    metrics: { listen: `127.0.0.1:${port}` },
  }));
  const agent = startTs(['agent/main.ts', '--config', cfg]);
  t.teardown(() => stop(agent));
  const base = `http://127.0.0.1:${port}`;
  const m = await poll('agent batches acked', async () => {
    const r = await get(`${base}/metrics`);
    return (metricValue(r.body, 'batches_acked_total{status="stored"}') ?? 0) > 0 ? r : undefined;
  });
  t.equal(m.status, 200);
  t.match(m.type, /^text\/plain; version=0\.0\.4/);
  t.ok(metricValue(m.body, 'packets_received_total')! > 0, 'packets');
  t.ok(metricValue(m.body, 'bytes_received_total')! > metricValue(m.body, 'packets_received_total')!, 'bytes');
  t.ok(metricValue(m.body, 'decode_events_total{event="ok"}')! > 0, 'decode outcomes by event');
  t.ok(metricValue(m.body, 'flows_created_total')! > 0, 'flows');
  t.ok(metricValue(m.body, 'batches_sent_total')! > 0, 'batches');
  t.equal(metricValue(m.body, 'collector_connected'), 1);
  t.not(metricValue(m.body, 'spool_bytes'), undefined, 'spool bytes');
  t.equal(metricValue(m.body, 'flows_dropped_total'), 0, 'nothing dropped by the spool');
  t.match(m.body, /# TYPE packets_received_total counter/);
  const h = await get(`${base}/healthz`);
  t.equal(h.status, 200);
  t.match(JSON.parse(h.body), { status: 'ok', agent_id: 'gw1', source: CAPTURE, collector_connected: true });
  t.equal((await get(`${base}/nope`)).status, 404);

  // The collector's side once the scan in the capture has been detected.
  const cm = await poll('collector port_scan alert', async () => {
    const r = await get(`http://127.0.0.1:${c.port}/metrics`);
    return (metricValue(r.body, 'alerts_raised_total{category="port_scan"}') ?? 0) >= 1 ? r.body : undefined;
  }, 60_000);
  const lagCount = metricValue(cm, 'ingest_lag_seconds_count')!;
  t.ok(lagCount > 0, 'ingest lag observed per stored flow');
  t.equal(metricValue(cm, 'ingest_lag_seconds_bucket{le="+Inf"}'), lagCount);
  t.ok(metricValue(cm, 'ingest_lag_seconds_sum')! / lagCount > 86400, 'a 2023 capture replayed now lags by years');
  t.ok(metricValue(cm, 'audit_entries_total{kind="alert"}')! >= 1, 'alerts chained');
  t.equal(metricValue(cm, 'subscriber_alerts_sent_total{phase="live"}'), 0);
});

t.test('agent: a malformed metrics.listen is a config error (exit 2); a taken port is AGENT_ERR_METRICS_LISTEN (exit 3)', async (t) => {
  const dir = tempDir('gk-op-metrics-');
  t.teardown(() => import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true })));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ source: { file: CAPTURE }, output: { jsonl: join(dir, 'o.jsonl') }, metrics: { listen: 'everywhere' } }));
  const p1 = startTs(['agent/main.ts', '--config', bad]);
  t.equal(await p1.exited, 2);
  t.match(p1.stderr.join('\n'), /metrics\.listen/);
  const c = await startTestCollector(t);
  const taken = join(dir, 'taken.json');
  writeFileSync(taken, JSON.stringify({ source: { file: CAPTURE }, output: { jsonl: join(dir, 'o.jsonl') }, metrics: { listen: `127.0.0.1:${c.port}` } }));
  const p2 = startTs(['agent/main.ts', '--config', taken]);
  t.equal(await p2.exited, 3);
  t.match(p2.stderr.join('\n'), /AGENT_ERR_METRICS_LISTEN/);
});
