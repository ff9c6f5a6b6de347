// PostgresStore against a real, private PostgreSQL 15 server (test/helpers/postgres.ts): the shared
// Store contract, then what only a server database has: concurrent collectors, schema migrations in a
// table, time partitions with retention.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { validateConfig } from '../../../collector/config';
import { openStore, PostgresStore, SqliteStore, type PostgresStoreOptions } from '../../../collector/store';
import { MIGRATIONS, PG_SCHEMA_VERSION } from '../../../collector/store/postgres/schema';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';
import { alert, batch, row, storeContract } from './contract';

let pg: TestPostgres;
t.before(async () => {
  pg = await startPostgres(t);
});

async function openPg(t: Test, database: string, extra: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open({
    connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database },
    poolSize: 4,
    partitionDays: 1,
    retentionDays: 0,
    ...extra,
  });
  t.teardown(() => store.close());
  return store;
}

async function fresh(t: Test, extra: Partial<PostgresStoreOptions> = {}) {
  const database = await pg.createDatabase('gk');
  const store = await openPg(t, database, extra);
  const client = await pg.connect(database);
  return { store, database, client, rows: async (sql: string) => (await client.query(sql)).rows as Array<Record<string, unknown>> };
}

storeContract(t, (t) => fresh(t));

t.test('a batch given to two collectors at once is stored once', async (t) => {
  const { store, database, rows } = await fresh(t);
  const other = await openPg(t, database);
  const flows = Array.from({ length: 500 }, (_, i) => row(i + 1, 7));
  for (let round = 0; round < 5; round++) {
    const b = { ...batch(7 + round, flows.map((f) => ({ ...f, seq: 7 + round, flowId: f.flowId + round * 1000 }))) };
    const results = await Promise.all([store.putBatch(b), other.putBatch(b), store.putBatch(b), other.putBatch(b)]);
    t.same([...results].sort(), ['duplicate', 'duplicate', 'duplicate', 'stored'], `round ${round}: one stored, three duplicates`);
  }
  t.same(await rows('SELECT count(*) AS n, count(DISTINCT (flow_id, record_seq)) AS d FROM flows'), [{ n: 2500, d: 2500 }]);
  t.same(await rows('SELECT count(*) AS n FROM batches'), [{ n: 5 }]);
});

t.test('alert ids from two collectors: unique, and visible in id order', async (t) => {
  const { store, database } = await fresh(t);
  const other = await openPg(t, database);
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).putAlert(alert, i)));
  const ids = made.map((a) => a.id).sort((a, b) => a - b);
  t.equal(new Set(ids).size, 40);
  t.same((await other.alertsSince(0, 100)).map((a) => a.id), ids);
});

t.test('putParts (cluster): the parts of one batch are stored once each, a group in one transaction', async (t) => {
  const { store, rows } = await fresh(t);
  const recv = 1_700_000_002_000_000;
  const part = (seq: number, p: number, flowIds: number[], agentId = 'gw1') => ({ ...batch(seq, flowIds.map((f) => row(f, seq)), agentId), part: p });
  t.same(await store.putParts([part(1, 0, [1, 2]), part(1, 1, [3]), part(1, 3, [4]), part(2, 0, [5], 'gw2')]), ['stored', 'stored', 'stored', 'stored'],
    'parts of one batch do not collide on (agent, boot, seq)');
  t.same(await store.putParts([part(1, 1, [3]), part(1, 2, [6]), part(1, 2, [6])]), ['duplicate', 'stored', 'duplicate'],
    'a redelivered part is a duplicate, also within one call');
  t.same(await store.putParts([]), []);
  t.same(await rows('SELECT seq, part, flow_count FROM batches ORDER BY agent_id, seq, part'),
    [{ seq: 1, part: 0, flow_count: 2 }, { seq: 1, part: 1, flow_count: 1 }, { seq: 1, part: 2, flow_count: 1 }, { seq: 1, part: 3, flow_count: 1 }, { seq: 2, part: 0, flow_count: 1 }]);
  t.same((await rows('SELECT flow_id FROM flows ORDER BY flow_id')).map((r) => r.flow_id), [1, 2, 3, 4, 5, 6], 'each flow once');
  t.same(await rows('SELECT agent_id, last_seen_us FROM agents ORDER BY agent_id'), [{ agent_id: 'gw1', last_seen_us: recv }, { agent_id: 'gw2', last_seen_us: recv }]);
  const agents = await store.agents(recv + 1, 10_000_000);
  t.same(agents.map((a) => [a.agentId, a.recentFlows]), [['gw1', 5], ['gw2', 1]], 'recent flows counted once, not once per part');

  // All or nothing: one broken part rolls the whole group back.
  const broken = part(3, 1, [8]);
  (broken.flows[0] as unknown as { srcIp: null }).srcIp = null;
  await t.rejects(store.putParts([part(3, 0, [7]), broken]), { code: 'COLL_ERR_STORE_WRITE' });
  t.same(await rows('SELECT count(*) AS n FROM batches WHERE seq = 3'), [{ n: 0 }]);
  t.same(await store.putParts([part(3, 0, [7]), part(3, 1, [8])]), ['stored', 'stored'], 'and the retry stores it');
});

t.test('putClusterAlert: the stream id kept, one row per id and per key; the dashboard reads them', async (t) => {
  const { store, rows } = await fresh(t);
  const a = { ...alert, id: 41, ts: 1_700_000_003 };
  t.equal(await store.putClusterAlert(a, 'k41'), 'stored');
  t.equal(await store.putClusterAlert({ ...a, ts: 1_700_000_009 }, 'k41'), 'duplicate', 'the same alert again (takeover, redelivery)');
  t.equal(await store.putClusterAlert({ ...a, id: 97 }, 'k41'), 'duplicate', 'its key again under a newer id (published again after the duplicate window)');
  t.equal(await store.putClusterAlert({ ...a, category: 'host_scan' }, 'other'), 'id_taken', 'another alert under a stored id');
  t.equal(await store.putClusterAlert({ ...a, id: 42, category: 'host_scan' }, 'k42'), 'stored');
  t.same(await rows('SELECT id, alert_key, ts FROM alerts ORDER BY id'), [{ id: 41, alert_key: 'k41', ts: 1_700_000_003 }, { id: 42, alert_key: 'k42', ts: 1_700_000_003 }]);
  t.same(await store.alertById(41), a);
  t.same((await store.queryAlerts({ limit: 10 })).map((x) => x.id), [42, 41]);
  t.same(await store.alertCounts(), [{ category: 'host_scan', count: 1, lastTs: 1_700_000_003 }, { category: 'port_scan', count: 1, lastTs: 1_700_000_003 }]);
});

t.test('migrations: a table of applied versions, idempotent, concurrent openers, newer schema refused', async (t) => {
  const database = await pg.createDatabase('gk');
  // Three collectors starting at once against an empty database.
  await Promise.all([openPg(t, database), openPg(t, database), openPg(t, database)]);
  const client = await pg.connect(database);
  const versions = (await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
  t.same(versions, Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
  const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r) => r.tablename);
  t.same(tables, ['agent_credentials', 'agents', 'alerts', 'audit_chain', 'batches', 'enrol_tokens', 'flows', 'schema_migrations']);
  const again = await openPg(t, database);
  t.equal(await again.putBatch(batch(1, [row(1)])), 'stored', 'reopened: works, data kept');
  t.same((await client.query('SELECT count(*) AS n FROM schema_migrations')).rows, [{ n: PG_SCHEMA_VERSION }], 'nothing applied twice');

  await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [PG_SCHEMA_VERSION + 1]);
  await t.rejects(PostgresStore.open({
    connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database }, poolSize: 1, partitionDays: 1, retentionDays: 0,
  }), { code: 'COLL_ERR_STORE_SCHEMA' });
});

t.test('migration 2 on a database of version 1: stored batches stay keys (whole batches), alert ids go on', async (t) => {
  const database = await pg.createDatabase('gk');
  const client = await pg.connect(database);
  await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  await client.query(MIGRATIONS[0]);
  await client.query('INSERT INTO schema_migrations (version) VALUES (1)');
  await client.query(`INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count) VALUES ('gw1', 'b1', 1, 5, 1)`);
  await client.query(`INSERT INTO alerts (ts, category, severity, agent_id, evidence_json) VALUES (1, 'port_scan', 'medium', 'gw1', '{}')`);
  const store = await openPg(t, database);
  t.same((await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version), [1, 2]);
  t.equal(await store.putBatch(batch(1, [row(1)])), 'duplicate', 'a batch stored before the migration is still known');
  t.same(await store.putParts([{ ...batch(1, [row(1)]), part: 0 }]), ['stored'], 'a part is another key');
  t.equal((await store.putAlert(alert, 2)).id, 2, 'alert ids go on from the identity');
});

t.test('open errors are coded and name the server, not the password', async (t) => {
  const err = await PostgresStore.open({
    connection: { host: pg.host, port: pg.port, user: pg.user, password: 'wrong-secret', database: 'postgres' }, poolSize: 1, partitionDays: 1, retentionDays: 0,
  }).then(() => undefined, (e: Error & { code?: string }) => e);
  t.equal(err?.code, 'COLL_ERR_STORE_OPEN');
  t.match(err?.message, `cannot connect to PostgreSQL store ${pg.host}:${pg.port}/postgres: password authentication failed`);
  t.notMatch(err?.message, 'wrong-secret');
  await t.rejects(PostgresStore.open({
    connection: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'no_such_db' }, poolSize: 1, partitionDays: 1, retentionDays: 0,
  }), { code: 'COLL_ERR_STORE_OPEN' });
});

const DAY = 86_400;

t.test('flows land in time partitions made on demand; retention drops the expired ones', async (t) => {
  const { store, database, rows } = await fresh(t, { partitionDays: 1, retentionDays: 2 });
  const now = Math.floor(Date.now() / 1000 / DAY) * DAY + 3600; // 01:00 UTC today
  const at = (flowId: number, daysAgo: number) => ({ ...row(flowId), firstUs: (now - daysAgo * DAY) * 1e6, lastUs: (now - daysAgo * DAY + 5) * 1e6 });
  // One batch spanning three days: three partitions, made before the batch's transaction.
  t.equal(await store.putBatch(batch(1, [at(1, 0), at(2, 1), at(3, 5), at(4, 5)])), 'stored');
  const partitions = async () => (await rows(
    `SELECT c.relname AS name, (SELECT count(*) FROM flows f WHERE f.tableoid = c.oid) AS n
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'flows'::regclass ORDER BY c.relname`,
  )).map((r) => `${r.name}:${r.n}`);
  const day = (daysAgo: number) => `flows_p${new Date((now - daysAgo * DAY - 3600) * 1000).toISOString().slice(0, 10).replace(/-/g, '')}t000000`;
  t.same(await partitions(), [`${day(5)}:2`, `${day(1)}:1`, `${day(0)}:1`]);

  // A second collector with its own cache, and a sweep by the first: the 5-day-old partition goes.
  const other = await openPg(t, database, { partitionDays: 1, retentionDays: 2 });
  t.equal(await other.putBatch(batch(2, [at(5, 5)])), 'stored', 'other collector: partition known now');
  t.equal(await store.putBatch({ ...batch(9, []), receivedUs: now * 1e6 }), 'stored');
  t.same(await store.dropExpired(now), [day(5)]);
  t.same(await partitions(), [`${day(1)}:1`, `${day(0)}:1`]);
  t.same(await rows('SELECT seq FROM batches'), [{ seq: 9 }], 'batch keys received before the horizon deleted too');
  t.same(await store.dropExpired(now), [], 'nothing more to drop');
  // The other collector still believes in the dropped partition: its insert fails once, then it looks again.
  t.equal(await other.putBatch(batch(3, [at(6, 5)])), 'stored', 'a dropped partition is made again when needed');
  t.same(await partitions(), [`${day(5)}:1`, `${day(1)}:1`, `${day(0)}:1`]);
  t.same((await rows('SELECT flow_id FROM flows ORDER BY flow_id')).map((r) => r.flow_id), [1, 2, 6]);
  t.equal(await store.latestFlowTs(), now + 5);

  // A store opened with retention runs a sweep at start, and a changed partition_days never overlaps.
  const reported: string[][] = [];
  const weekly = await openPg(t, database, { partitionDays: 7, retentionDays: 3, onPartitionsDropped: (names) => reported.push(names) });
  t.same(await partitions(), [`${day(1)}:1`, `${day(0)}:1`], 'swept at open');
  t.same(reported, [[day(5)]], 'and said what it dropped');
  t.equal(await weekly.putBatch(batch(4, [at(7, 2), at(8, -3)])), 'stored', 'wider partitions fit around the existing ones');
  t.same((await rows('SELECT count(*) AS n FROM flows')), [{ n: 4 }]);
});

t.test('openStore: the store config chooses the store; url or fields; password from a file', async (t) => {
  const database = await pg.createDatabase('gk');
  const cfg = (store: Record<string, unknown>) => validateConfig({ auth: {}, store }, '/').store;
  const byFields = await openStore(cfg({ kind: 'postgres', postgres: { host: pg.host, port: pg.port, database, user: pg.user, password_file: pg.passwordFile } }));
  t.ok(byFields instanceof PostgresStore);
  const recent = { ...batch(1, [row(1)]), receivedUs: Date.now() * 1000 };
  t.equal(await byFields.putBatch(recent), 'stored');
  await byFields.close();
  const url = `postgres://${pg.user}@localhost:${pg.port}/${database}?host=${encodeURIComponent(pg.host)}`;
  const byUrl = await openStore(cfg({ kind: 'postgres', postgres: { url, password_file: pg.passwordFile } }));
  t.equal(await byUrl.putBatch(recent), 'duplicate', 'the same database');
  await byUrl.close();
  await t.rejects(openStore(cfg({ kind: 'postgres', postgres: { url, password_file: '/nonexistent/pw' } })),
    { code: 'COLL_ERR_STORE_OPEN', message: /cannot read store\.postgres\.password_file \/nonexistent\/pw/ });
  await t.rejects(openStore(cfg({ kind: 'postgres', postgres: { host: pg.host, port: pg.port, database, user: pg.user } })),
    { code: 'COLL_ERR_STORE_OPEN' }, 'no password: refused by the server');
  const dir = mkdtempSync(join(tmpdir(), 'gk-open-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sqlite = await openStore(cfg({ sqlite_path: join(dir, 'gk.sqlite') }));
  t.ok(sqlite instanceof SqliteStore, 'kind defaults to sqlite');
  await sqlite.close();
});
