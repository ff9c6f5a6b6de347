// Issue 7: three collectors on one JetStream, six agents behind one address (a TCP balancer) replaying
// a capture with a port scan. Mid-stream one ingest collector and one detector worker are killed with
// SIGKILL. In the end every flow each agent exported is stored exactly once, every alert the
// single-process replay finds is raised exactly once per agent (by its deterministic key), and a
// subscriber of a collector started afterwards (a worker, which takes no agents) replays the same
// alerts with the same ids (?since= across collectors). Run twice: with one PostgreSQL store shared by
// the cluster (three collectors, one JetStream, one PostgreSQL: flows and alerts are counted in it, and
// the dashboard API and stix-export of the collectors read the cluster's alerts from it), and with one
// SQLite file per partition (cluster.partition_store_dir).
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { alertKey } from '../../collector/cluster';
import type { NewAlert } from '../../collector/model';
import { flowKey, sleep } from '../helpers/delivery';
import { clusterTokens, startBalancer, startClusterCollector, startNats, type ClusterCollector } from '../helpers/cluster';
import { startPostgres } from '../helpers/postgres';
import { ROOT, startTs, stop, tempDir, type Proc } from '../helpers/processes';

const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');
const AGENTS = ['gw1', 'gw2', 'gw3', 'gw4', 'gw5', 'gw6'];
const PARTITIONS = 4;

const OPERATOR = 'operator-token-for-the-cluster-test';

function byAgent(rows: Iterable<Record<string, unknown>>, into = new Map<string, string[]>()): Map<string, string[]> {
  for (const row of rows) {
    const list = into.get(row.agent_id as string) ?? [];
    list.push(flowKey(row));
    into.set(row.agent_id as string, list);
  }
  return into;
}

function partitionFlows(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => /^partition-\d+\.sqlite$/.test(n))) {
    const db = new Database(join(dir, f), { readonly: true });
    try {
      byAgent(db.prepare('SELECT * FROM flows').all() as Array<Record<string, unknown>>, out);
    } finally {
      db.close();
    }
  }
  return out;
}

/** Where the cluster stores: the collectors' store settings and what they stored. */
interface StoreUnderTest {
  settings: { partitionStoreDir: string } | { store: Record<string, unknown>; operatorToken: string };
  flows(): Promise<Map<string, string[]>>;
  /** the shared store's alerts as (id, key), by id; undefined without one */
  alerts?(): Promise<Array<{ id: number; key: string }>>;
  /** the alert ids the shared store's audit chain holds, in chain order */
  auditedAlerts?(): Promise<number[]>;
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

async function api(port: number, path: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Authorization: `Bearer ${OPERATOR}` } });
  return { status: r.status, body: await r.json() };
}

/** The agent endpoint's answer to an agent's upgrade: 'open' or the HTTP status of the refusal. */
function agentUpgrade(port: number, token: string): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/agent`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve('open');
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

async function scenario(t: Test, dir: string, storage: StoreUnderTest): Promise<void> {
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
  const common = { natsUrl: nats.url, tokens, partitions: PARTITIONS, ...storage.settings };
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
    stored = await storage.flows();
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

  // A worker started now takes no agents, serves the same alerts with the same ids, and ?since= resumes on it.
  const c4 = await startClusterCollector(dir, 'c4', { ...common, role: 'worker' });
  procs.push(c4.proc);
  t.equal(await agentUpgrade(c4.port, tokens.agents.gw1), 404, 'a worker refuses agents (HTTP 404 on /v1/agent)');
  t.equal(await agentUpgrade(c2.port, tokens.agents.gw1), 'open', 'a collector with role both takes them');
  const all = subscribe(c4.port, tokens.subscriber, 0);
  const rest = subscribe(c4.port, tokens.subscriber, ids[0]);
  for (const deadline = Date.now() + 10000; (all.alerts.length < ids.length || rest.alerts.length < ids.length - 1) && Date.now() < deadline;) await sleep(100);
  t.same(all.alerts.map((a) => a.id), ids, 'replay on another collector: same ids');
  t.same(all.alerts.map(alertKey), keys, 'replay on another collector: same alerts');
  t.same(rest.alerts.map((a) => a.id), ids.slice(1), '?since=<first id> on another collector gives the rest');
  all.close();
  rest.close();

  if (storage.alerts) {
    // The shared store holds every alert once, under the id the alert stream gave it.
    let inStore: Array<{ id: number; key: string }> = [];
    for (const deadline = Date.now() + 10000; inStore.length < ids.length && Date.now() < deadline; await sleep(200)) inStore = await storage.alerts();
    t.same(inStore, ids.map((id, i) => ({ id, key: keys[i] })), 'the shared store: every alert once, with its stream id and key');
    for (const [name, c] of [['c2', c2], ['c4', c4]] as const) {
      const listed = await api(c.port, '/api/alerts?limit=1000');
      t.same(listed.body.alerts.map((a: { id: number }) => a.id), [...ids].reverse(), `${name}'s dashboard: the cluster's alerts, newest first`);
      const one = await api(c.port, `/api/alerts/${ids[0]}`);
      t.equal(alertKey(one.body.alert), keys[0], 'alertById: the same alert as the stream\'s');
      t.ok(one.body.flows.length > 0, 'with its evidence flows from the shared store');
    }
    const scans = watcher.alerts.filter((a) => a.category === 'port_scan').map((a) => `alert-${a.id}`).sort();
    const sightings = (bundle: { objects: Array<{ type: string; external_references?: Array<{ external_id: string }> }> }) => bundle.objects
      .filter((o) => o.type === 'sighting').map((o) => o.external_references![0].external_id).sort();
    const viaApi = sightings((await api(c4.port, '/api/stix')).body);
    t.ok(scans.length >= AGENTS.length && scans.every((s) => viaApi.includes(s)), '/api/stix: a sighting of every port scan alert');
    const exported = execFileSync(process.execPath, ['--import', 'tsx', 'collector/main.ts', 'stix-export', '--config', c2.configPath],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    t.same(sightings(JSON.parse(exported)), viaApi, 'collector stix-export: the same sightings');
  }
  if (storage.auditedAlerts) {
    // One chain for the cluster: each alert appended once (by the worker that stored it), and it verifies.
    const audited = (await storage.auditedAlerts()).sort((a, b) => a - b);
    t.same(audited, ids, 'the shared audit chain holds every alert exactly once');
    const verify = spawnSync(process.execPath, ['--import', 'tsx', 'collector/main.ts', 'audit', 'verify', '--config', c2.configPath],
      { cwd: ROOT, encoding: 'utf8' });
    t.equal(verify.status, 0, `audit verify: the shared chain is intact (${verify.stdout.trim()})`);
  }
  await stop(c4.proc);
  await stop(c2.proc);
}

t.test('three collectors, one JetStream, one PostgreSQL; kill -9 of an ingest node and a worker: flows stored once, alerts raised and stored once', async (t) => {
  const dir = tempDir(`gk-nats-pg-${process.pid}-`);
  const pg = await startPostgres(t);
  const database = await pg.createDatabase('gk_cluster');
  const client = await pg.connect(database);
  const store = {
    kind: 'postgres',
    sqlite_path: join(dir, 'unused.sqlite'),
    postgres: { host: pg.host, port: pg.port, database, user: pg.user, password_file: pg.passwordFile, pool_size: 4 },
  };
  await scenario(t, dir, {
    settings: { store, operatorToken: OPERATOR },
    flows: async () => {
      try {
        return byAgent((await client.query('SELECT * FROM flows')).rows);
      } catch {
        return new Map(); // no flows table before the first collector migrated the database
      }
    },
    alerts: async () => (await client.query('SELECT id, alert_key AS key FROM alerts ORDER BY id')).rows,
    auditedAlerts: async () => (await client.query(`SELECT payload_json FROM audit_chain WHERE kind = 'alert' ORDER BY seq`)).rows
      .map((r: { payload_json: string }) => (JSON.parse(r.payload_json) as { id: number }).id),
  });
  t.notOk(existsSync(join(dir, 'unused.sqlite')), 'no collector wrote a SQLite store');
});

t.test('three collectors, one SQLite file per partition; kill -9 of an ingest node and a worker: flows stored once, alerts raised once', async (t) => {
  const dir = tempDir(`gk-nats-${process.pid}-`);
  const parts = join(dir, 'parts');
  await scenario(t, dir, { settings: { partitionStoreDir: parts }, flows: async () => partitionFlows(parts) });
});
