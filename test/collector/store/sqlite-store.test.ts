import * as path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, SqliteStore } from '../../../collector/store';
import { CollectorError } from '../../../collector/errors';
import type { BatchRecord, FlowRow, NewAlert } from '../../../collector/model';
import { tempDir } from '../helpers';

const zero = {
  packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
  pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
  iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0,
};

function row(flowId: number, seq = 1): FlowRow {
  return {
    agentId: 'gw1', bootId: 'b1', seq, flowId, recordSeq: 0, recordType: 'final', communityId: '1:abc=', connState: 'S1',
    app: { dns_query: 'example.org' }, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, proto: 6,
    vlan: null, firstUs: 1_700_000_000_500_000, lastUs: 1_700_000_001_000_000, endReason: 'idle',
    fwd: { ...zero, packets: 2, tcpFlags: 0x02 }, bwd: { ...zero, packets: 1, tcpFlags: 0x12 },
  };
}

function batch(seq: number, flows: FlowRow[]): BatchRecord {
  return { agentId: 'gw1', bootId: 'b1', seq, receivedUs: 1_700_000_002_000_000, flows };
}

const alert: NewAlert = {
  category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: '10.0.0.1', dst_ip: '10.0.0.2',
  dst_port: null, first_ts: 1.5, last_ts: 2.5, score: 5, threshold: 5, evidence: { ports: [1, 2] },
};

t.test('schema: WAL, user_version, tables', async (t) => {
  const file = path.join(tempDir(t), 'sub', 'gk.sqlite');
  const s = new SqliteStore({ path: file });
  await s.close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  t.has(tables, ['agent_credentials', 'agents', 'alerts', 'audit_chain', 'batches', 'enrol_tokens', 'flows']);
  // Re-opening an up-to-date file is a no-op.
  await new SqliteStore({ path: file }).close();
});

t.test('a file from a newer collector is refused', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const db = new Database(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  t.throws(() => new SqliteStore({ path: file }), { code: 'COLL_ERR_STORE_SCHEMA' });
});

t.test('putBatch: stored once, duplicate after; all-or-nothing', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const s = new SqliteStore({ path: file });
  t.teardown(() => s.close());
  t.equal(await s.putBatch(batch(1, [row(1), row(2)])), 'stored');
  t.equal(await s.putBatch(batch(1, [row(3)])), 'duplicate');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, 2);
  const f = db.prepare('SELECT * FROM flows WHERE flow_id = 1').get() as Record<string, unknown>;
  t.match(f, { first_ts: 1_700_000_000.5, last_ts: 1_700_000_001, tcp_flags: 0x12, end_reason: 'idle', fwd_packets: 2, bwd_packets: 1 });
  t.equal((db.prepare('SELECT last_seen_us FROM agents').get() as { last_seen_us: number }).last_seen_us, 1_700_000_002_000_000);

  // A batch that fails half-way leaves nothing behind (flow with a NOT NULL column missing).
  const broken = row(10);
  (broken as unknown as { srcIp: null }).srcIp = null;
  await t.rejects(s.putBatch(batch(2, [row(9), broken])), { code: 'COLL_ERR_STORE_WRITE' });
  t.equal((db.prepare('SELECT count(*) AS n FROM batches WHERE seq = 2').get() as { n: number }).n, 0);
  t.equal((db.prepare('SELECT count(*) AS n FROM flows WHERE flow_id = 9').get() as { n: number }).n, 0);
  t.equal(await s.putBatch(batch(2, [row(9)])), 'stored', 'and the retry stores it');

  // A long flow's next record (interim, then final) is a row of its own; the same record again is ignored.
  t.equal(await s.putBatch(batch(3, [{ ...row(1, 3), recordSeq: 1, lastUs: 1_700_000_009_000_000 }])), 'stored');
  t.same(db.prepare('SELECT record_seq, seq, last_ts FROM flows WHERE flow_id = 1 ORDER BY record_seq').all(),
    [{ record_seq: 0, seq: 1, last_ts: 1_700_000_001 }, { record_seq: 1, seq: 3, last_ts: 1_700_000_009 }]);
  t.equal(await s.putBatch(batch(4, [row(1, 4)])), 'stored');
  t.equal((db.prepare('SELECT count(*) AS n FROM flows WHERE flow_id = 1').get() as { n: number }).n, 2);
  t.match(db.prepare('SELECT community_id, conn_state, app_json, record_type FROM flows WHERE flow_id = 2').get(),
    { community_id: '1:abc=', conn_state: 'S1', app_json: '{"dns_query":"example.org"}', record_type: 'final' });
});

t.test('alerts: ids grow, alertsSince pages in id order, JSON evidence round-trips', async (t) => {
  const s = new SqliteStore({ path: path.join(tempDir(t), 'gk.sqlite') });
  t.teardown(() => s.close());
  const a1 = await s.putAlert(alert, 100.25);
  const a2 = await s.putAlert({ ...alert, dst_ip: '10.0.0.3' }, 101);
  const a3 = await s.putAlert(alert, 102);
  t.ok(a1.id < a2.id && a2.id < a3.id);
  t.equal(a1.ts, 100.25);
  t.same(await s.alertsSince(0, 10), [a1, a2, a3]);
  t.same((await s.alertsSince(a1.id, 1)).map((a) => a.id), [a2.id]);
  t.same(await s.alertsSince(a3.id, 10), []);
});

t.test('touchAgent keeps identity fields and the latest last_seen', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const s = new SqliteStore({ path: file });
  t.teardown(() => s.close());
  await s.touchAgent({ agentId: 'gw1', lastSeenUs: 10, bootId: 'b1', hostname: 'h', softwareVersion: 'v', source: 'eth0' });
  await s.touchAgent({ agentId: 'gw1', lastSeenUs: 20, health: { flows_active: 3 } });
  await s.touchAgent({ agentId: 'gw1', lastSeenUs: 15 });
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT * FROM agents').get(), {
    agent_id: 'gw1', last_seen_us: 20, boot_id: 'b1', hostname: 'h', software_version: 'v', source: 'eth0', health_json: '{"flows_active":3}',
    silent_since_us: null,
  });
  // Marked silent (agent-health.ts), then heard again: the mark is set, then cleared; nothing else moves.
  await s.touchAgent({ agentId: 'gw1', lastSeenUs: 5, silentSinceUs: 30 });
  t.match(db.prepare('SELECT last_seen_us, silent_since_us, hostname FROM agents').get(), { last_seen_us: 20, silent_since_us: 30, hostname: 'h' });
  await s.touchAgent({ agentId: 'gw1', lastSeenUs: 40 });
  t.match(db.prepare('SELECT last_seen_us, silent_since_us FROM agents').get(), { last_seen_us: 40, silent_since_us: null });
});

t.test('open errors are coded', async (t) => {
  const dir = tempDir(t);
  t.throws(() => new SqliteStore({ path: dir }), CollectorError, 'a directory is not a database');
});
