import t from 'tap';
import { LogLimiter, Registry } from '../../../collector/obs';
import { AckStatus } from '../../../proto';
import { TestAgent, batchFrame, fetchText, flow, metricValue, scanFlows, startTestCollector, upgradeStatus } from '../helpers';

t.test('/healthz and /metrics; counters move', async (t) => {
  const c = await startTestCollector(t);
  const base = `http://127.0.0.1:${c.port}`;
  const h = await fetchText(`${base}/healthz`);
  t.equal(h.status, 200);
  t.match(JSON.parse(h.body), { status: 'ok', agents_connected: 0 });
  t.equal((await fetchText(`${base}/nope`)).status, 404);
  t.equal((await fetchText(`${base}/v1/agent`)).status, 426, 'plain GET on a WebSocket path');

  const before = await fetchText(`${base}/metrics`);
  t.equal(before.status, 200);
  t.match(before.type, /^text\/plain; version=0\.0\.4/);
  t.match(before.body, /# TYPE batches_stored_total counter/);
  for (const s of ['batches_stored_total', 'flows_stored_total', 'frames_total', 'subscriber_drops_total', 'connections_total{endpoint="agent"}']) {
    t.equal(metricValue(before.body, s), 0, `${s} starts at 0`);
  }

  await upgradeStatus(`ws://127.0.0.1:${c.port}/v1/agent`);
  const a = await TestAgent.ready(c.port, 'gw1');
  a.send(batchFrame(1, [...scanFlows(5), flow({ dstPort: 9999, src: '10.3.3.3' })]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  a.send(Buffer.from([0xff]));
  await a.next();

  const after = await fetchText(`${base}/metrics`);
  const v = (s: string): number | undefined => metricValue(after.body, s);
  t.equal(v('connections_total{endpoint="agent"}'), 1);
  t.equal(v('connections_open{endpoint="agent"}'), 1);
  t.equal(v('frames_total'), 3, 'hello, batch, garbage');
  t.equal(v('batches_stored_total'), 1);
  t.equal(v('flows_stored_total'), 6);
  t.equal(v('bad_frames_total{code="BAD_FRAME"}'), 1);
  t.equal(v('auth_failures_total{endpoint="agent"}'), 1);
  t.equal(v('alerts_raised_total{category="port_scan"}'), 1);
  t.equal(v('detector_failures_total{detector="port_scan"}'), 0);
  t.match(JSON.parse((await fetchText(`${base}/healthz`)).body), { agents_connected: 1 });
  a.close();
});

t.test('registry renders labels escaped; log limiter', async (t) => {
  const r = new Registry();
  const c = r.counter('x_total', 'help "text"\nline');
  c.inc({ code: 'a"b\\c' }, 2);
  t.match(r.render(), /x_total\{code="a\\"b\\\\c"\} 2/);
  t.match(r.render(), /# HELP x_total help "text"\\nline/);
  t.equal(r.counter('x_total', 'again'), c, 'same name → same counter');
  const l = new LogLimiter(1000);
  t.equal(l.admit('k', 0), 0);
  t.equal(l.admit('k', 10), undefined);
  t.equal(l.admit('k', 20), undefined);
  t.equal(l.admit('k', 2000), 2, 'reports what it held back');
});
