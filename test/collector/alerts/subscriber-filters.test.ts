// WebSocket subscribers with filters, and a filtered follower that reconnects across a collector
// restart: it resumes from the last id it saw and misses none of the alerts it asked for.
import * as path from 'node:path';
import t from 'tap';
import { followAlerts } from '../../../collector/alerts';
import { validateConfig } from '../../../collector/config';
import { startCollector } from '../../../collector/main';
import type { Alert, NewAlert, Severity } from '../../../collector/model';
import { silentLogger } from '../../../collector/obs';
import { TOKENS, delay, rawConfig, startTestCollector, subscribe, tempDir, upgradeStatus } from '../helpers';

const auth = { Authorization: `Bearer ${TOKENS.soc}` };

function alert(severity: Severity, category: string, agent: string, src: string): NewAlert {
  return {
    category, severity, attack_id: null, agent_id: agent, src_ip: src, dst_ip: '10.0.0.1', dst_port: null,
    first_ts: 1, last_ts: 2, score: 1, threshold: 1, evidence: {},
  };
}

const MIX: NewAlert[] = [
  alert('low', 'port_scan', 'gw1', '172.16.0.1'),
  alert('high', 'port_scan', 'gw1', '172.16.0.2'),
  alert('critical', 'brute_force', 'gw2', '172.16.0.3'),
  alert('medium', 'port_scan', 'gw2', '172.16.0.2'),
  alert('high', 'beaconing', 'gw1', '10.0.0.9'),
];

t.test('filters select the same alerts in the replay and live; bad values → 400', async (t) => {
  const cases: Array<[string, number[]]> = [
    ['min_severity=high', [2, 3, 5]],
    ['category=port_scan,beaconing', [1, 2, 4, 5]],
    ['category=port_scan&category=brute_force&agent=gw2', [3, 4]],
    ['host=172.16.0.2', [2, 4]],
    ['host=10.0.0.1&min_severity=critical', [3]],
  ];
  for (const [q, ids] of cases) {
    const c = await startTestCollector(t);
    for (const a of MIX) await c.collector.hub.raise(a);
    const s = await subscribe(c.url(`/v1/alerts?since=0&${q}`), auth);
    await s.waitFor(ids.length);
    await delay(50);
    t.same(s.messages.map((a) => a.id), ids, `replay ${q}`);
    for (const a of MIX) await c.collector.hub.raise(a);
    await s.waitFor(ids.length * 2);
    await delay(50);
    t.same(s.messages.slice(ids.length).map((a) => a.id - MIX.length), ids, `live ${q}`);
    s.ws.close();
  }
  const c = await startTestCollector(t);
  t.equal(await upgradeStatus(c.url('/v1/alerts?min_severity=urgent'), auth), 400);
  t.equal(await upgradeStatus(c.url(`/v1/alerts?host=${'x,'.repeat(101)}`), auth), 400);
});

t.test('a filtered follower misses nothing across a collector restart', async (t) => {
  const dir = tempDir(t);
  const raw = rawConfig(path.join(dir, 'gk.sqlite'));
  let c = await startCollector(validateConfig(raw, dir), { log: silentLogger });
  const port = c.port;
  const seen: Alert[] = [];
  const follower = followAlerts({
    url: `ws://127.0.0.1:${port}/v1/alerts?min_severity=high&agent=gw1`,
    token: TOKENS.soc,
    since: 0,
    out: (line) => void seen.push(JSON.parse(line) as Alert),
    log: silentLogger,
    initialBackoffMs: 50,
    maxBackoffMs: 200,
  });
  t.teardown(() => follower.stop());
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && seen.length < n; i++) await delay(20);
  };
  for (const a of MIX) await c.hub.raise(a);
  await waitFor(2);
  t.same(seen.map((a) => a.id), [2, 5]);

  await c.close();
  // While the collector is down, alerts are stored by its successor before the follower is back.
  c = await startCollector(validateConfig({ ...raw, listen: { host: '127.0.0.1', port } }, dir), { log: silentLogger });
  t.teardown(() => c.close());
  for (const a of MIX) await c.hub.raise(a); // ids 6..10; matching: 7, 10
  await waitFor(4);
  for (const a of MIX) await c.hub.raise(a); // ids 11..15; matching: 12, 15
  await waitFor(6);
  await delay(100);
  t.same(seen.map((a) => a.id), [2, 5, 7, 10, 12, 15], 'in order, no gap, no repeat');
  follower.stop();
  await follower.done;
});
