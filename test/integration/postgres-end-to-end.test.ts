// Issue 7 part A, end to end: collector processes with store.kind = "postgres" (a private PostgreSQL
// server, password from a file) receive real agents' replays of the bundled demo capture. Every flow an
// agent exported is stored once, the port scan raises its one alert per agent (stored, and printed by
// the collector that raised it), and the offline commands (audit verify, agents list) work on the same
// database. Then two collectors started at once on one empty database share it.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PG_SCHEMA_VERSION } from '../../collector/store/postgres/schema';
import { exportedFlows, flowKey } from '../helpers/delivery';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { ROOT, sha256, startTs, stop, tempDir, type Proc } from '../helpers/processes';

const AGENTS = ['gw1', 'gw2'];
const TOKENS = Object.fromEntries(AGENTS.map((a) => [a, randomBytes(16).toString('hex')]));
const SCANNER = { category: 'port_scan', src_ip: '203.0.113.66', dst_ip: '192.0.2.10' };

let pg: TestPostgres;
t.before(async () => {
  pg = await startPostgres(t);
});

function workDir(t: Test): string {
  const dir = tempDir('gk-pg-e2e-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startPgCollector(t: Test, dir: string, name: string, database: string): Promise<{ proc: Proc; port: number; config: string }> {
  const config = join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({
    collector_id: name,
    listen: { host: '127.0.0.1', port: 0 },
    store: {
      kind: 'postgres',
      sqlite_path: join(dir, 'must-not-exist.sqlite'),
      postgres: { host: pg.host, port: pg.port, database, user: pg.user, password_file: pg.passwordFile, pool_size: 4 },
    },
    auth: { agents: AGENTS.map((a) => ({ agent_id: a, token_sha256: sha256(TOKENS[a]) })) },
  }));
  const proc = startTs(['collector/main.ts', 'serve', '--config', config]);
  t.teardown(() => stop(proc));
  const port = JSON.parse(await proc.waitFor(/"event":"listening"/)).port as number;
  return { proc, port, config };
}

/** Replays the demo capture as `agentId` into the collector on `port`; returns its JSON-lines file. */
async function replay(t: Test, dir: string, agentId: string, port: number): Promise<string> {
  const jsonl = join(dir, `${agentId}.jsonl`);
  const config = join(dir, `agent-${agentId}.json`);
  writeFileSync(config, JSON.stringify({
    agent_id: agentId,
    source: { file: join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap') },
    export: { max_flows_per_batch: 10, flush_interval_ms: 50 },
    collector: { url: `ws://127.0.0.1:${port}`, token: TOKENS[agentId] },
    output: { jsonl },
  }));
  const agent = startTs(['agent/main.ts', '--config', config]);
  t.equal(await agent.exited, 0, `${agentId} delivered everything: ${agent.stderr.slice(-2).join('\n')}`);
  return jsonl;
}

function printedAlerts(p: Proc): Array<Record<string, unknown>> {
  return p.stdout.filter((l) => l.includes('"event":"alert"')).map((l) => JSON.parse(l).alert);
}

t.test('demo capture through a PostgreSQL-backed collector: every flow once, one port-scan alert', async (t) => {
  const dir = workDir(t);
  const database = await pg.createDatabase('gk_e2e');
  const collector = await startPgCollector(t, dir, 'c1', database);
  const jsonl = await replay(t, dir, 'gw1', collector.port);
  await collector.proc.waitFor(/"event":"alert"/);

  const client = await pg.connect(database);
  const q = async (sql: string) => (await client.query(sql)).rows as Array<Record<string, unknown>>;
  const exported = exportedFlows(jsonl);
  const stored = (await q('SELECT * FROM flows')).map(flowKey).sort();
  t.ok(exported.count > 50, `${exported.count} flows exported`);
  t.equal(stored.length, exported.count, 'as many stored as exported');
  t.same(stored, exported.keys, 'the same records, each once');
  const batches = await q('SELECT count(*) AS n, sum(flow_count) AS flows FROM batches');
  t.same(batches, [{ n: Math.ceil(exported.count / 10), flows: exported.count }], 'one batches row per batch');

  t.same(await q('SELECT id, category, src_ip, dst_ip FROM alerts'), [{ id: 1, ...SCANNER }], 'one port-scan alert stored');
  t.match(printedAlerts(collector.proc), [{ id: 1, ...SCANNER }], 'and raised once');
  t.notOk(existsSync(join(dir, 'must-not-exist.sqlite')), 'no SQLite file made');
  t.same(await q(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'flows'::regclass`), [{ n: 1 }], 'the capture is one day: one partition');

  // The offline commands open the same store through the config.
  const verify = startTs(['collector/main.ts', 'audit', 'verify', '--config', collector.config]);
  t.equal(await verify.exited, 0, verify.stderr.join('\n'));
  t.match(JSON.parse(verify.stdout[0]), { ok: true, entries: 2 }, 'config_loaded + the alert, chained');
  const list = startTs(['collector/main.ts', 'agents', 'list', '--config', collector.config]);
  t.equal(await list.exited, 0, list.stderr.join('\n'));
  t.match(JSON.parse(list.stdout[0]), { agent_id: 'gw1', credential: 'config' });
});

t.test('two collectors started at once on one empty database, one agent each at the same time', async (t) => {
  const dir = workDir(t);
  const database = await pg.createDatabase('gk_two');
  const collectors = await Promise.all([startPgCollector(t, dir, 'c1', database), startPgCollector(t, dir, 'c2', database)]);
  const files = await Promise.all(AGENTS.map((a, i) => replay(t, dir, a, collectors[i].port)));
  await Promise.all(collectors.map((c) => c.proc.waitFor(/"event":"alert"/)));

  const client = await pg.connect(database);
  const q = async (sql: string) => (await client.query(sql)).rows as Array<Record<string, unknown>>;
  for (const [i, agentId] of AGENTS.entries()) {
    const exported = exportedFlows(files[i]);
    const stored = (await q(`SELECT * FROM flows WHERE agent_id = '${agentId}'`)).map(flowKey).sort();
    t.same(stored, exported.keys, `${agentId}: the ${exported.count} exported records stored, each once`);
  }
  const alerts = await q('SELECT id, agent_id, category, src_ip, dst_ip FROM alerts ORDER BY id');
  t.same(alerts.map((a) => a.id), [1, 2], 'alert ids from both collectors: 1 and 2');
  t.same(alerts.map((a) => a.agent_id).sort(), AGENTS, 'one alert per agent');
  t.match(alerts, [SCANNER, SCANNER]);
  for (const [i, c] of collectors.entries()) t.match(printedAlerts(c.proc), [{ agent_id: AGENTS[i], ...SCANNER }], `c${i + 1} raised its agent's alert`);
  t.same(await q('SELECT count(*) AS n FROM schema_migrations'), [{ n: PG_SCHEMA_VERSION }], 'each migration applied once');
  const verify = startTs(['collector/main.ts', 'audit', 'verify', '--config', collectors[0].config]);
  t.equal(await verify.exited, 0, verify.stderr.join('\n'));
  t.match(JSON.parse(verify.stdout[0]), { ok: true, entries: 4 }, 'one intact chain: both configs (they differ by collector_id) and both alerts');
});
