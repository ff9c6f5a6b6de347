// Scale-out benchmark (issue 7):
//   npm run -s bench:scale [-- --secs N --agents N --partitions N --flows N --only N --single --store sqlite|postgres]
//
// For 1, 2 and 3 collectors in cluster mode (each role `both`: takes agents and runs partitions; one
// nats-server with JetStream on a free port; per-partition SQLite stores, or with --store postgres one
// private PostgreSQL server, a fresh database per setting, shared by the collectors), the load generator
// (scripts/load/agents.ts, in this process) runs --agents simulated agents (default 1000) for --secs
// (default 30) spread over the collectors, each sending --flows flows (default 10) every second with at
// most 2 batches unacknowledged: 10,000 flows/s offered, above what this machine stores in cluster
// mode, so the figure is the capacity (agents slow down when acks lag, as real ones do). flows/s stored = flows_stored_total across the collectors over the run.
// One agent in the run sends a port scan every 2 s from a fresh address; a subscriber on the first
// collector receives the alerts, and agent→alert latency is the time from sending the scan batch to
// receiving its alert. The single-process collector (cluster off) runs the same load as a reference.
// --only N runs just the cluster of N collectors (e.g. `--only 3 --secs 120` for the two-minute load test);
// --single just the single-process collector.
//
// Last line: flows_per_s_1=… flows_per_s_2=… flows_per_s_3=… ratio_2=… ratio_3=… alert_p99_ms=…
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import WebSocket from 'ws';
import { createHash } from 'node:crypto';
import { startPostgresServer, type PostgresServer } from '../lib/postgres-server';
import { loadCredentials, runLoad, type LoadReport } from '../load/agents';
import { REPO_ROOT } from './harness';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const SECS = arg('secs', 30);
const AGENTS = arg('agents', 1000);
const PARTITIONS = arg('partitions', 6);
const ONLY = arg('only', 0);
const FLOWS = arg('flows', 10);
const STORE = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : 'sqlite';
if (STORE !== 'sqlite' && STORE !== 'postgres') throw new Error('--store must be sqlite or postgres');
let pg: PostgresServer | undefined;
let databases = 0;

/** The store section of one setting: a collector's own SQLite file, or a fresh database on the shared server. */
async function storeFor(dir: string, name: string, database: string | undefined): Promise<Record<string, unknown>> {
  if (!pg || !database) return { sqlite_path: join(dir, `${name}.sqlite`), synchronous: 'normal' };
  return { kind: 'postgres', postgres: { host: pg.host, port: pg.port, database, user: pg.user, password_file: pg.passwordFile, pool_size: 8 } };
}

async function createDatabase(): Promise<string | undefined> {
  if (!pg) return undefined;
  const client = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres' });
  await client.connect();
  const name = `gk_scale_${++databases}`;
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return name;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startNats(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (l) => { if (l.includes('Server is ready')) resolve(); });
    child.once('exit', () => reject(new Error('nats-server exited')));
  });
  return { url: `nats://127.0.0.1:${port}`, child };
}

async function startCollector(dir: string, name: string, secret: string, subToken: string, cluster: Record<string, unknown> | undefined, database: string | undefined): Promise<{ port: number; child: ChildProcess }> {
  const config = join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({
    collector_id: name,
    listen: { host: '127.0.0.1', port: 0 },
    store: await storeFor(dir, name, database),
    auth: { agents: loadCredentials(AGENTS, secret), subscribers: [{ name: 'bench', token_sha256: createHash('sha256').update(subToken).digest('hex') }] },
    limits: { max_connections_per_ip: 100_000, max_pending_connections_per_ip: 100_000 },
    web: { enabled: false },
    ...(cluster ? { cluster } : {}),
  }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', 'serve', '--config', config, '--log-level', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('"event":"listening"')) resolve(JSON.parse(l).port); });
    child.once('exit', (code) => reject(new Error(`collector ${name} exited (${code})`)));
  });
  return { port, child };
}

interface Run { report: LoadReport; alertP99Ms: number; alerts: number }

async function run(collectors: number, clustered: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `gk-scale-${process.pid}-`));
  const secret = randomBytes(8).toString('hex');
  const subToken = randomBytes(8).toString('hex');
  const children: ChildProcess[] = [];
  try {
    let cluster: Record<string, unknown> | undefined;
    const database = await createDatabase();
    if (clustered) {
      const nats = await startNats(dir);
      children.push(nats.child);
      if (!database) mkdirSync(join(dir, 'parts'));
      cluster = { enabled: true, nats_url: nats.url, stream: 'GK', partitions: PARTITIONS, role: 'both', partition_store_dir: database ? '' : join(dir, 'parts') };
    }
    const cs = [];
    for (let i = 0; i < collectors; i++) {
      const c = await startCollector(dir, `c${i + 1}`, secret, subToken, cluster, database);
      children.push(c.child);
      cs.push(c);
    }
    await new Promise((r) => setTimeout(r, 3000)); // leases settle
    const received = new Map<string, number>();
    const sub = new WebSocket(`ws://127.0.0.1:${cs[0].port}/v1/alerts?category=port_scan`, { headers: { authorization: `Bearer ${subToken}` } });
    sub.on('message', (d) => {
      const a = JSON.parse(d.toString()) as { src_ip: string };
      if (!received.has(a.src_ip)) received.set(a.src_ip, Date.now());
    });
    const report = await runLoad({
      urls: cs.map((c) => `ws://127.0.0.1:${c.port}`), secret, agents: AGENTS, durationSecs: SECS, flowsPerBatch: FLOWS, intervalMs: 1000, window: 2,
      scanEverySecs: 2, metricsUrls: cs.map((c) => `http://127.0.0.1:${c.port}`), pids: cs.map((c) => c.child.pid!),
      log: (l) => process.stderr.write(`  ${l}\n`),
    });
    await new Promise((r) => setTimeout(r, 2000));
    sub.close();
    const lat = report.scans_sent.filter((s) => received.has(s.src_ip)).map((s) => received.get(s.src_ip)! - s.sent_ms).sort((a, b) => a - b);
    return { report, alerts: lat.length, alertP99Ms: lat.length ? lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))] : NaN };
  } finally {
    for (const c of children.reverse()) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stderr.write(`bench:scale: ${AGENTS} agents, ${SECS} s per setting, ${PARTITIONS} partitions, store ${STORE}\n`);
  if (STORE === 'postgres') pg = startPostgresServer();
  if (ONLY > 0 || process.argv.includes('--single')) {
    const r = await run(ONLY || 1, ONLY > 0);
    console.log(`${ONLY > 0 ? `cluster of ${ONLY}` : 'single process'}: ${JSON.stringify({ ...r.report, scans_sent: r.report.scans_sent.length, alerts_received: r.alerts, alert_p99_ms: r.alertP99Ms })}`);
    return;
  }
  const single = await run(1, false);
  const rows: Run[] = [];
  for (const n of [1, 2, 3]) rows.push(await run(n, true));
  const line = (label: string, r: Run): string => `${label.padEnd(22)} ${String(r.report.flows_stored_per_sec).padStart(8)} flows/s stored  ack p99 ${r.report.ack_p99_ms} ms  agents connected ${r.report.connected}  alert p99 ${r.alertP99Ms} ms (${r.alerts}/${r.report.scans_sent.length} scans)  rss MB ${r.report.collector_rss_mb.join(',')}`;
  console.log(line('single process', single));
  rows.forEach((r, i) => console.log(`${line(`cluster, ${i + 1} collector(s)`, r)}  ratio ${(r.report.flows_stored_per_sec / rows[0].report.flows_stored_per_sec).toFixed(2)}`));
  // Over the scans whose alert arrived within the run (the others are counted in the rows above).
  const seen = rows.map((r) => r.alertP99Ms).filter((v) => !Number.isNaN(v));
  const p99 = seen.length ? Math.max(...seen) : 'n/a';
  console.log(`flows_per_s_single=${single.report.flows_stored_per_sec} flows_per_s_1=${rows[0].report.flows_stored_per_sec} flows_per_s_2=${rows[1].report.flows_stored_per_sec} flows_per_s_3=${rows[2].report.flows_stored_per_sec} ratio_2=${(rows[1].report.flows_stored_per_sec / rows[0].report.flows_stored_per_sec).toFixed(2)} ratio_3=${(rows[2].report.flows_stored_per_sec / rows[0].report.flows_stored_per_sec).toFixed(2)} alert_p99_ms=${p99}`);
}

void main().then(() => process.exit(0), (err) => {
  process.stderr.write(`bench:scale failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
