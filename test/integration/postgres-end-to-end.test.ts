// Issue 7 part A, end to end: a collector process with store.kind = "postgres" (a private PostgreSQL
// server, password from a file) receives a real agent's replay of the bundled demo capture. Every flow
// the agent exported is stored once, the port scan raises its one alert (stored, and printed by the
// collector), and the offline commands (audit verify, agents list) work on the same database.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedFlows, flowKey } from '../helpers/delivery';
import { startPostgres } from '../helpers/postgres';
import { ROOT, sha256, startTs, stop, tempDir } from '../helpers/processes';

t.test('demo capture through a PostgreSQL-backed collector: every flow once, one port-scan alert', async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.createDatabase('gk_e2e');
  const dir = tempDir('gk-pg-e2e-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const agentToken = randomBytes(16).toString('hex');
  const configPath = join(dir, 'collector.json');
  writeFileSync(configPath, JSON.stringify({
    listen: { host: '127.0.0.1', port: 0 },
    store: {
      kind: 'postgres',
      sqlite_path: join(dir, 'must-not-exist.sqlite'),
      postgres: { host: pg.host, port: pg.port, database, user: pg.user, password_file: pg.passwordFile, pool_size: 4 },
    },
    auth: { agents: [{ agent_id: 'gw1', token_sha256: sha256(agentToken) }] },
  }));
  const collector = startTs(['collector/main.ts', 'serve', '--config', configPath]);
  t.teardown(() => stop(collector));
  const port = JSON.parse(await collector.waitFor(/"event":"listening"/)).port as number;

  const jsonl = join(dir, 'flows.jsonl');
  const agentConfig = join(dir, 'agent.json');
  writeFileSync(agentConfig, JSON.stringify({
    agent_id: 'gw1',
    source: { file: join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap') },
    export: { max_flows_per_batch: 10, flush_interval_ms: 50 },
    collector: { url: `ws://127.0.0.1:${port}`, token: agentToken },
    output: { jsonl },
  }));
  const agent = startTs(['agent/main.ts', '--config', agentConfig]);
  t.equal(await agent.exited, 0, `the agent delivered everything: ${agent.stderr.slice(-2).join('\n')}`);
  await collector.waitFor(/"event":"alert"/);

  const client = await pg.connect(database);
  const q = async (sql: string) => (await client.query(sql)).rows as Array<Record<string, unknown>>;
  const exported = exportedFlows(jsonl);
  const stored = (await q('SELECT * FROM flows')).map(flowKey).sort();
  t.ok(exported.count > 50, `${exported.count} flows exported`);
  t.equal(stored.length, exported.count, 'as many stored as exported');
  t.same(stored, exported.keys, 'the same records, each once');
  const batches = await q('SELECT count(*) AS n, sum(flow_count) AS flows FROM batches');
  t.same(batches, [{ n: Math.ceil(exported.count / 10), flows: exported.count }], 'one batches row per batch');

  const alerts = await q('SELECT id, category, src_ip, dst_ip FROM alerts');
  t.same(alerts, [{ id: 1, category: 'port_scan', src_ip: '203.0.113.66', dst_ip: '192.0.2.10' }], 'one port-scan alert stored');
  const printed = collector.stdout.filter((l) => l.includes('"event":"alert"')).map((l) => JSON.parse(l).alert);
  t.match(printed, [{ id: 1, category: 'port_scan', src_ip: '203.0.113.66' }], 'and raised once');
  t.notOk(existsSync(join(dir, 'must-not-exist.sqlite')), 'no SQLite file made');
  t.same(await q(`SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'flows'::regclass`), [{ n: 1 }], 'the capture is one day: one partition');

  // The offline commands open the same store through the config.
  const verify = startTs(['collector/main.ts', 'audit', 'verify', '--config', configPath]);
  t.equal(await verify.exited, 0, verify.stderr.join('\n'));
  t.match(JSON.parse(verify.stdout[0]), { ok: true, entries: 2 }, 'config_loaded + the alert, chained');
  const list = startTs(['collector/main.ts', 'agents', 'list', '--config', configPath]);
  t.equal(await list.exited, 0, list.stderr.join('\n'));
  t.match(JSON.parse(list.stdout[0]), { agent_id: 'gw1', credential: 'config' });
});
