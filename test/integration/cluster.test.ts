// Issue 7: three collectors on one JetStream, six agents behind one address (a TCP balancer) replaying
// a capture with a port scan. Mid-stream one ingest collector and one detector worker are killed with
// SIGKILL. In the end every flow each agent exported is stored exactly once (across the partition
// stores), every alert the single-process replay finds is raised exactly once per agent (by its
// deterministic key), and a subscriber of a collector started afterwards replays the same alerts with
// the same ids (?since= across collectors).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { alertKey } from '../../collector/cluster';
import type { NewAlert } from '../../collector/model';
import { flowKey, sleep } from '../helpers/delivery';
import { clusterTokens, startBalancer, startClusterCollector, startNats, type ClusterCollector } from '../helpers/cluster';
import { ROOT, startTs, stop, tempDir, type Proc } from '../helpers/processes';

const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');
const AGENTS = ['gw1', 'gw2', 'gw3', 'gw4', 'gw5', 'gw6'];
const PARTITIONS = 4;

function storedByAgent(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of readdirSync(dir).filter((n) => /^partition-\d+\.sqlite$/.test(n))) {
    const db = new Database(join(dir, f), { readonly: true });
    try {
      for (const row of db.prepare('SELECT * FROM flows').all() as Array<Record<string, unknown>>) {
        const list = out.get(row.agent_id as string) ?? [];
        list.push(flowKey(row));
        out.set(row.agent_id as string, list);
      }
    } finally {
      db.close();
    }
  }
  return out;
}

function identity(a: NewAlert): string {
  return [a.agent_id, a.category, a.src_ip, a.dst_ip, a.first_ts].join('|');
}

function subscribe(port: number, token: string, since?: number): { alerts: Array<NewAlert & { id: number }>; close(): void } {
  const alerts: Array<NewAlert & { id: number }> = [];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/alerts${since === undefined ? '' : `?since=${since}`}`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (d) => alerts.push(JSON.parse(d.toString())));
  ws.on('error', () => undefined);
  return { alerts, close: () => ws.close() };
}

t.test('three collectors, kill -9 of an ingest node and a worker: flows stored once, alerts raised once', async (t) => {
  const dir = tempDir(`gk-nats-${process.pid}-`);
  const parts = join(dir, 'parts');
  const procs: Proc[] = [];
  const nats = await startNats(dir);
  t.teardown(() => {
    for (const p of procs) p.child.kill('SIGKILL');
    nats.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const expected = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', CAPTURE], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().split('\n').map((l) => JSON.parse(l) as NewAlert);
  t.ok(expected.some((a) => a.category === 'port_scan'), 'the single-process replay finds the port scan');

  const tokens = clusterTokens(AGENTS);
  const common = { natsUrl: nats.url, tokens, partitions: PARTITIONS, partitionStoreDir: parts };
  const c1 = await startClusterCollector(dir, 'c1', { ...common, role: 'both' });
  const c2 = await startClusterCollector(dir, 'c2', { ...common, role: 'both' });
  const c3 = await startClusterCollector(dir, 'c3', { ...common, role: 'ingest' });
  procs.push(c1.proc, c2.proc, c3.proc);
  const live = new Set<ClusterCollector>([c1, c2, c3]);
  const balancer = await startBalancer(() => [...live].map((c) => c.port));
  t.teardown(() => balancer.close());
  await c2.proc.waitFor(/partition taken/);
  await c1.proc.waitFor(/partition taken/);
  const watcher = subscribe(c2.port, tokens.subscriber, 0);
  t.teardown(() => watcher.close());

  const agents = AGENTS.map((id) => {
    const config = join(dir, `${id}.json`);
    writeFileSync(config, JSON.stringify({
      agent_id: id,
      source: { file: CAPTURE, replay_pps: 150 },
      flow: { idle_timeout_secs: 1 },
      export: { max_flows_per_batch: 20, flush_interval_ms: 100 },
      collector: { url: `ws://127.0.0.1:${balancer.port}`, token: tokens.agents[id], backoff_initial_ms: 100, backoff_max_ms: 400, drain_timeout_ms: 60000 },
      spool: { dir: join(dir, `spool-${id}`) },
      output: { jsonl: join(dir, `${id}.jsonl`) },
    }));
    const p = startTs(['agent/main.ts', '--config', config]);
    procs.push(p);
    return p;
  });

  await c3.proc.waitFor(/agent connected/);
  await c1.proc.waitFor(/agent connected/);
  await sleep(2500);
  live.delete(c3);
  c3.proc.child.kill('SIGKILL');
  await sleep(2000);
  live.delete(c1);
  c1.proc.child.kill('SIGKILL');
  t.pass('killed ingest collector c3 and worker c1 mid-stream');

  let disconnects = 0;
  for (const [i, a] of agents.entries()) {
    t.equal(await a.exited, 0, `${AGENTS[i]} delivered everything`);
    const stopped = JSON.parse(a.stderr.find((l) => l.includes('"event":"stopped"'))!);
    t.equal(stopped.spool.flowsDropped, 0, `${AGENTS[i]} dropped nothing`);
    disconnects += stopped.transport.disconnects;
  }
  t.ok(disconnects >= 2, `the agents of both killed collectors reconnected through the balancer (${disconnects} disconnects)`);

  const taken = c2.proc.stderr.filter((l) => l.includes('partition taken')).length;
  t.equal(taken, PARTITIONS, `the surviving worker took the dead worker's partitions (${taken} of ${PARTITIONS} taken in all)`);
  // The survivor owns every partition within the lease time and stores what the agents sent.
  const exported = new Map(AGENTS.map((id) => [id, readFileSync(join(dir, `${id}.jsonl`), 'utf8').trim().split('\n').map((l) => flowKey(JSON.parse(l)))]));
  const total = [...exported.values()].reduce((n, l) => n + l.length, 0);
  let stored = new Map<string, string[]>();
  for (const deadline = Date.now() + 30000; Date.now() < deadline; await sleep(250)) {
    stored = existsSync(parts) ? storedByAgent(parts) : new Map();
    if ([...stored.values()].reduce((n, l) => n + l.length, 0) >= total) break;
  }
  for (const id of AGENTS) {
    const want = [...exported.get(id)!].sort();
    const got = [...(stored.get(id) ?? [])].sort();
    t.ok(want.length > 50, `${id} exported ${want.length} flows`);
    t.equal(got.length, want.length, `${id}: stored count equals exported count`);
    t.same(got, want, `${id}: every exported flow stored exactly once`);
  }

  const want = AGENTS.flatMap((id) => expected.map((a) => identity({ ...a, agent_id: id }))).sort();
  for (const deadline = Date.now() + 20000; watcher.alerts.length < want.length && Date.now() < deadline;) await sleep(200);
  await sleep(1000);
  const keys = watcher.alerts.map((a) => alertKey(a));
  t.equal(new Set(keys).size, keys.length, 'no alert raised twice (deterministic keys unique)');
  t.same(watcher.alerts.map(identity).sort(), want, 'every expected alert, once per agent');
  const ids = watcher.alerts.map((a) => a.id);
  t.same(ids, [...ids].sort((a, b) => a - b), 'alert ids grow');

  // A collector started now serves the same alerts with the same ids, and ?since= resumes on it.
  const c4 = await startClusterCollector(dir, 'c4', { ...common, role: 'ingest' });
  procs.push(c4.proc);
  const all = subscribe(c4.port, tokens.subscriber, 0);
  const rest = subscribe(c4.port, tokens.subscriber, ids[0]);
  for (const deadline = Date.now() + 10000; (all.alerts.length < ids.length || rest.alerts.length < ids.length - 1) && Date.now() < deadline;) await sleep(100);
  t.same(all.alerts.map((a) => a.id), ids, 'replay on another collector: same ids');
  t.same(all.alerts.map(alertKey), keys, 'replay on another collector: same alerts');
  t.same(rest.alerts.map((a) => a.id), ids.slice(1), '?since=<first id> on another collector gives the rest');
  all.close();
  rest.close();
  await stop(c4.proc);
  await stop(c2.proc);
});
