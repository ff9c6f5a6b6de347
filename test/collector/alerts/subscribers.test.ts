import t from 'tap';
import type { NewAlert } from '../../../collector/model';
import { AckStatus } from '../../../proto';
import {
  TOKENS,
  TestAgent,
  batchFrame,
  delay,
  fetchText,
  metricValue,
  scanFlows,
  startTestCollector,
  subscribe,
  upgradeStatus,
} from '../helpers';

const auth = { Authorization: `Bearer ${TOKENS.soc}` };

function fakeAlert(i: number, evidence: Record<string, unknown> = {}): NewAlert {
  return {
    category: 'test', severity: 'low', attack_id: null, agent_id: 'gw1', src_ip: `10.0.0.${i % 250}`, dst_ip: null,
    dst_port: null, first_ts: i, last_ts: i, score: i, threshold: 1, evidence,
  };
}

t.test('subscriber auth: header or ?token=; bad since → 400', async (t) => {
  const c = await startTestCollector(t);
  t.equal(await upgradeStatus(c.url('/v1/alerts')), 401);
  t.equal(await upgradeStatus(c.url('/v1/alerts'), { Authorization: `Bearer ${TOKENS.gw1}` }), 401, 'agent token is not a subscriber token');
  t.equal(await upgradeStatus(c.url('/v1/alerts'), auth), 101);
  t.equal(await upgradeStatus(c.url(`/v1/alerts?token=${TOKENS.soc}`)), 101);
  t.equal(await upgradeStatus(c.url('/v1/alerts?since=abc'), auth), 400);
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'auth_failures_total{endpoint="subscriber"}'), 2);
});

t.test('a port scan sent by an agent reaches a WebSocket subscriber as the contract JSON', async (t) => {
  const c = await startTestCollector(t);
  const sub = await subscribe(c.url('/v1/alerts'), auth);
  const a = await TestAgent.ready(c.port, 'gw1');
  a.send(batchFrame(1, scanFlows(6, { src: '172.16.0.9', dst: '10.0.0.20', basePort: 20 })));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  const [got] = await sub.waitFor(1);
  t.same(Object.keys(got), ['id', 'ts', 'category', 'severity', 'attack_id', 'agent_id', 'src_ip', 'dst_ip', 'dst_port', 'first_ts', 'last_ts', 'score', 'threshold', 'evidence']);
  t.match(got, {
    id: 1, category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: '172.16.0.9',
    dst_ip: '10.0.0.20', dst_port: null, first_ts: 1_700_000_000, score: 6, threshold: 5,
    evidence: { ports: [20, 21, 22, 23, 24, 25], flow_count: 6 },
  });
  t.equal(typeof got.ts, 'number');
  t.same(c.alerts.map((x) => x.id), [1], 'also handed to the stdout sink');
  // The duplicate of that batch raises nothing new.
  a.send(batchFrame(1, scanFlows(6, { src: '172.16.0.9', dst: '10.0.0.20', basePort: 20 })));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_DUPLICATE);
  await delay(100);
  t.equal(sub.messages.length, 1);
  sub.ws.close();
  a.close();
});

t.test('?since replays stored alerts with a larger id, then follows live in order', async (t) => {
  const c = await startTestCollector(t);
  for (let i = 1; i <= 5; i++) await c.collector.hub.raise(fakeAlert(i));
  const all = await subscribe(c.url('/v1/alerts?since=0'), auth);
  t.same((await all.waitFor(5)).map((a) => a.id), [1, 2, 3, 4, 5]);
  const later = await subscribe(c.url('/v1/alerts?since=3'), auth);
  t.same((await later.waitFor(2)).map((a) => a.id), [4, 5]);
  const live = await subscribe(c.url('/v1/alerts'), auth);
  await c.collector.hub.raise(fakeAlert(6));
  t.same((await later.waitFor(3)).map((a) => a.id), [4, 5, 6]);
  t.same((await live.waitFor(1)).map((a) => a.id), [6], 'no since: live only');
  t.same((await all.waitFor(6)).map((a) => a.score), [1, 2, 3, 4, 5, 6]);
  for (const s of [all, later, live]) s.ws.close();
});

t.test('a slow subscriber loses alerts (counted); ingest is never blocked', async (t) => {
  const c = await startTestCollector(t, {
    extra: { store: { synchronous: 'normal' }, alerts: { max_buffered_bytes_per_subscriber: 1024 } },
  });
  const slow = await subscribe(c.url('/v1/alerts'), auth);
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const evidence = { blob: 'x'.repeat(16 * 1024) };
  const total = 1500; // ~24 MB: far more than the loopback socket buffers hold
  for (let i = 1; i <= total; i++) await c.collector.hub.raise(fakeAlert(i, evidence));
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  const drops = metricValue(m.body, 'subscriber_drops_total') ?? 0;
  t.ok(drops > 0, `drops counted (${drops})`);
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await slow.waitFor(total - drops, 20_000);
  await delay(100);
  t.equal(slow.messages.length, total - drops, 'every alert was either delivered or counted as dropped');
  const ids = slow.messages.map((a) => a.id);
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'delivered in id order');
  slow.ws.close();
});
