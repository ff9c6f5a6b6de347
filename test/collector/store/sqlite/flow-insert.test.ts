import * as path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../../collector/store';
import { CHUNK_ROWS } from '../../../../collector/store/sqlite/flow-insert';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../../collector/store/sqlite/schema';
import type { DirectionStats, FlowRow } from '../../../../collector/model';
import { tempDir } from '../../helpers';

function stats(n: number): DirectionStats {
  return {
    packets: n, ipBytes: 1500 * n, payloadBytes: 1448 * n, headerBytes: 52 * n, tcpFlags: 0x1b, synCount: 1, finCount: 1,
    rstCount: n % 2, pshCount: 3, ackCount: n - 1, urgCount: 0, initWindow: 64240, lenMin: 52, lenMax: 1500,
    lenMean: 1500 / 7, lenM2: 1e21 + n, iatCount: n - 1, iatMinUs: 12, iatMaxUs: 2 ** 53 - 1, iatMeanUs: 0.1 + 0.2, iatM2Us: 9.1e-7,
  };
}

/** The wire's snake_case names, as JSON.stringify wrote stats_json before. */
function snake(s: DirectionStats): Record<string, number> {
  return {
    packets: s.packets, ip_bytes: s.ipBytes, payload_bytes: s.payloadBytes, header_bytes: s.headerBytes, tcp_flags: s.tcpFlags,
    syn_count: s.synCount, fin_count: s.finCount, rst_count: s.rstCount, psh_count: s.pshCount, ack_count: s.ackCount,
    urg_count: s.urgCount, init_window: s.initWindow, len_min: s.lenMin, len_max: s.lenMax, len_mean: s.lenMean,
    len_m2: s.lenM2, iat_count: s.iatCount, iat_min_us: s.iatMinUs, iat_max_us: s.iatMaxUs, iat_mean_us: s.iatMeanUs,
    iat_m2_us: s.iatM2Us,
  };
}

function flow(i: number): FlowRow {
  return {
    agentId: 'gw1', bootId: 'b1', seq: 1, flowId: i + 1, recordSeq: i % 3, recordType: i % 3 ? 'interim' : 'final',
    communityId: i % 5 ? `1:c${i}=` : '', connState: i % 4 ? 'SF' : '', app: i % 2 ? { tls_sni: `h${i}.example`, tls_alpn: ['h2'] } : null,
    srcIp: `10.0.${i >> 8}.${i & 255}`, dstIp: '2001:db8::1', srcPort: 1000 + i, dstPort: 443, proto: 6, vlan: i % 7 ? null : i,
    firstUs: 1_700_000_000_000_000 + i, lastUs: 1_700_000_001_000_000 + i, endReason: 'idle', fwd: stats(i + 2), bwd: stats(i + 1),
  };
}

t.test('a batch spanning several multi-row chunks and a remainder is stored row for row', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const s = new SqliteStore({ path: file });
  t.teardown(() => s.close());
  const n = 2 * CHUNK_ROWS + 7;
  const flows = Array.from({ length: n }, (_, i) => flow(i));
  t.equal(await s.putBatch({ agentId: 'gw1', bootId: 'b1', seq: 1, receivedUs: 1_700_000_002_000_000, flows }), 'stored');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const rows = db.prepare('SELECT * FROM flows ORDER BY flow_id').all() as Array<Record<string, unknown>>;
  t.equal(rows.length, n);
  for (let i = 0; i < n; i++) {
    const f = flows[i];
    const r = rows[i];
    const want = {
      agent_id: 'gw1', boot_id: 'b1', seq: 1, flow_id: f.flowId, record_seq: f.recordSeq, record_type: f.recordType,
      community_id: f.communityId || null, conn_state: f.connState || null, src_ip: f.srcIp, dst_ip: f.dstIp, src_port: f.srcPort,
      dst_port: 443, proto: 6, vlan: f.vlan, first_ts: f.firstUs / 1e6, last_ts: f.lastUs / 1e6, fwd_packets: f.fwd.packets,
      bwd_packets: f.bwd.packets, fwd_ip_bytes: f.fwd.ipBytes, bwd_ip_bytes: f.bwd.ipBytes, fwd_payload_bytes: f.fwd.payloadBytes,
      bwd_payload_bytes: f.bwd.payloadBytes, tcp_flags: 0x1b, end_reason: 'idle',
      app_json: f.app ? JSON.stringify(f.app) : null,
    };
    const { id: _id, stats_json: stats, ...got } = r;
    if (!t.has(got, want, `row ${i}`)) break;
    // stats_json, computed by SQLite: SQLite may spell a number differently (153.0, 1.0e+21), never another value
    if (!t.same(JSON.parse(stats as string), { fwd: snake(f.fwd), bwd: snake(f.bwd) }, `row ${i} stats_json`)) break;
  }
  // The same batch again (a resend) is recognised by its key and stores nothing.
  t.equal(await s.putBatch({ agentId: 'gw1', bootId: 'b1', seq: 1, receivedUs: 1_700_000_003_000_000, flows }), 'duplicate');
  t.equal((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, n);
  const packets = flows.reduce((a, f) => a + f.fwd.packets + f.bwd.packets, 0);
  t.match(db.prepare('SELECT flow_count, packet_count FROM batches').get(), { flow_count: n, packet_count: packets });
});

t.test('migration 5 keeps stored flows, their stats as columns, stats_json computed from them', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const old = new Database(file);
  for (let v = 0; v < 4; v++) old.exec(MIGRATIONS[v]);
  old.pragma('user_version = 4');
  const insert = old.prepare(`INSERT INTO flows (agent_id, boot_id, seq, flow_id, record_seq, record_type, community_id, src_ip, dst_ip,
    src_port, dst_port, proto, first_ts, last_ts, fwd_packets, bwd_packets, fwd_ip_bytes, bwd_ip_bytes, fwd_payload_bytes,
    bwd_payload_bytes, tcp_flags, end_reason, stats_json, app_json)
    VALUES ('gw1', 'b1', 1, ?, 0, 'final', '1:x=', '10.0.0.1', '10.0.0.2', 1, 2, 6, 1.5, 2.5, 3, 2, 180, 120, 0, 0, 0x1b, 'idle', ?, ?)`);
  const f = flow(4);
  const before = { fwd: snake({ ...f.fwd, packets: 3, ipBytes: 180, payloadBytes: 0 }), bwd: snake({ ...f.bwd, packets: 2, ipBytes: 120, payloadBytes: 0 }) };
  insert.run(1, JSON.stringify(before), '{"dns_query":"example.org"}');
  insert.run(2, '{}', null); // a stats_json missing its members reads as zeros
  old.prepare(`INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count) VALUES ('gw1', 'b1', 1, 3, 2)`).run();
  old.close();
  const v5 = new Database(file);
  v5.exec(MIGRATIONS[4]);
  v5.pragma('user_version = 5');
  const indexes = (v5.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flows' AND sql IS NOT NULL ORDER BY name`)
    .all() as Array<{ name: string }>).map((r) => r.name);
  t.same(indexes, ['flows_batch', 'flows_first_ts'], 'no index on community_id, src_ip, dst_ip');
  v5.close();
  await new SqliteStore({ path: file }).close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const rows = db.prepare('SELECT * FROM flows ORDER BY flow_id').all() as Array<Record<string, unknown>>;
  t.match(rows[0], { id: 1, flow_id: 1, community_id: '1:x=', fwd_packets: 3, tcp_flags: 0x1b, app_json: '{"dns_query":"example.org"}' });
  t.same(JSON.parse(rows[0].stats_json as string), before);
  const zeros = JSON.parse(rows[1].stats_json as string) as { fwd: Record<string, number> };
  t.equal(zeros.fwd.packets, 3);
  t.equal(zeros.fwd.syn_count, 0);
  t.match(db.prepare('SELECT fwd_len_mean, bwd_iat_max_us FROM flows WHERE flow_id = 1').get(), { fwd_len_mean: 1500 / 7, bwd_iat_max_us: 2 ** 53 - 1 });
});

t.test('migration 6: flows become flow_rows naming their batch by id, the view `flows` reads as before', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const old = new Database(file);
  for (let v = 0; v < 5; v++) old.exec(MIGRATIONS[v]);
  old.pragma('user_version = 5');
  const batch = old.prepare('INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count) VALUES (?, ?, ?, ?, ?)');
  batch.run('gw1', 'b1', 1, 1_700_000_002_000_000, 2);
  batch.run('gw2', 'b9', 4, 1_700_000_001_000_000, 1);
  batch.run('gw3', 'b3', 1, 1_700_000_003_000_000, 0);
  const dir = ['header_bytes', 'tcp_flags', 'syn_count', 'fin_count', 'rst_count', 'psh_count', 'ack_count', 'urg_count', 'init_window',
    'len_min', 'len_max', 'len_mean', 'len_m2', 'iat_count', 'iat_min_us', 'iat_max_us', 'iat_mean_us', 'iat_m2_us'];
  const cols = ['agent_id', 'boot_id', 'seq', 'flow_id', 'record_seq', 'record_type', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'proto',
    'first_ts', 'last_ts', 'fwd_packets', 'bwd_packets', 'fwd_ip_bytes', 'bwd_ip_bytes', 'fwd_payload_bytes', 'bwd_payload_bytes',
    'tcp_flags', 'end_reason', ...dir.map((c) => `fwd_${c}`), ...dir.map((c) => `bwd_${c}`)];
  const insert = old.prepare(`INSERT INTO flows (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const row = (agent: string, boot: string, seq: number, flowId: number, fwdPackets: number): unknown[] =>
    [agent, boot, seq, flowId, 0, 'final', '10.0.0.1', '10.0.0.2', 1, 2, 6, 1.5, 2.5, fwdPackets, 2, 180, 120, 0, 0, 0x1b, 'idle',
      ...dir.map((_, i) => i + 1), ...dir.map((_, i) => 100 + i)];
  insert.run(...row('gw1', 'b1', 1, 7, 3));
  insert.run(...row('gw1', 'b1', 1, 8, 5));
  insert.run(...row('gw2', 'b9', 4, 7, 1));
  const before = old.prepare('SELECT * FROM flows ORDER BY id').all();
  old.close();
  await new SqliteStore({ path: file }).close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.same(db.prepare('SELECT * FROM flows ORDER BY id').all(), before, 'the view reads every column as the table held it');
  t.same(db.prepare('SELECT agent_id, boot_id, seq, flow_count, packet_count FROM batches ORDER BY agent_id').all(), [
    { agent_id: 'gw1', boot_id: 'b1', seq: 1, flow_count: 2, packet_count: 3 + 2 + 5 + 2 },
    { agent_id: 'gw2', boot_id: 'b9', seq: 4, flow_count: 1, packet_count: 1 + 2 },
    { agent_id: 'gw3', boot_id: 'b3', seq: 1, flow_count: 0, packet_count: 0 },
  ], 'packet counts per batch computed from their flows');
  const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flow_rows' ORDER BY name`)
    .all() as Array<{ name: string }>).map((r) => r.name);
  t.same(indexes, ['flow_rows_first_ts', 'flow_rows_flow_id'], 'no per-flow unique key, no batch index');
  const s = new SqliteStore({ path: file });
  t.teardown(() => s.close());
  t.equal(await s.putBatch({ agentId: 'gw1', bootId: 'b1', seq: 1, receivedUs: 1_700_000_009_000_000, flows: [flow(1)] }), 'duplicate', 'batch keys kept');
});

t.test('migration 7: flow_rows loses its generated stats_json, the view `flows` reads exactly as before', async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const old = new Database(file);
  for (let v = 0; v < 6; v++) old.exec(MIGRATIONS[v]);
  old.pragma('user_version = 6');
  old.close();
  // rows as version 6 stored them (its generated column in place), read back through its view
  const v6 = new Database(file);
  v6.exec(`INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count, packet_count) VALUES ('gw1', 'b1', 1, 5, 3, 0)`);
  const dir = ['header_bytes', 'tcp_flags', 'syn_count', 'fin_count', 'rst_count', 'psh_count', 'ack_count', 'urg_count', 'init_window',
    'len_min', 'len_max', 'len_mean', 'len_m2', 'iat_count', 'iat_min_us', 'iat_max_us', 'iat_mean_us', 'iat_m2_us'];
  const cols = ['batch_id', 'flow_id', 'record_seq', 'record_type', 'community_id', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'proto',
    'first_ts', 'last_ts', 'fwd_packets', 'bwd_packets', 'fwd_ip_bytes', 'bwd_ip_bytes', 'fwd_payload_bytes', 'bwd_payload_bytes',
    'tcp_flags', 'end_reason', 'app_json', ...dir.map((c) => `fwd_${c}`), ...dir.map((c) => `bwd_${c}`)];
  const insert = v6.prepare(`INSERT INTO flow_rows (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  for (let i = 0; i < 3; i++) {
    const f = flow(i);
    insert.run(1, f.flowId, 0, 'final', i ? '1:x=' : null, f.srcIp, f.dstIp, f.srcPort, 443, 6, 1.5, 2.5, f.fwd.packets, f.bwd.packets,
      f.fwd.ipBytes, f.bwd.ipBytes, f.fwd.payloadBytes, f.bwd.payloadBytes, 0x1b, 'idle', i ? '{"tls_sni":"a.example"}' : null,
      ...dir.map((_, k) => (k === 11 ? f.fwd.lenMean : k === 12 ? f.fwd.lenM2 : k + i)), ...dir.map((_, k) => (k === 16 ? 0.1 + 0.2 : 100 + k)));
  }
  const before = v6.prepare('SELECT * FROM flows ORDER BY id').all();
  v6.close();
  await new SqliteStore({ path: file }).close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), 7);
  t.same(db.prepare('SELECT * FROM flows ORDER BY id').all(), before, 'every column of the view, stats_json included, as before');
  const columns = (db.prepare('SELECT name FROM pragma_table_xinfo(\'flow_rows\')').all() as Array<{ name: string }>).map((r) => r.name);
  t.notOk(columns.includes('stats_json'), 'flow_rows computes no JSON on insert');
  t.equal(columns.length, 60, 'every stored column kept');
});
