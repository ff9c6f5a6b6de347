// The audit chain on a real SQLite file: alerts and admin actions are chained; tampering with a row
// (edit, delete, edit of the alert itself) is found by `collector audit verify`, naming the first broken link.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { canonicalJson, GENESIS_HASH, verifyChain } from '../../../collector/audit';
import { validateConfig } from '../../../collector/config';
import { startCollector } from '../../../collector/main';
import type { NewAlert } from '../../../collector/model';
import { silentLogger } from '../../../collector/obs';
import { SqliteStore } from '../../../collector/store';
import { startTs } from '../../helpers/processes';
import { rawConfig, tempDir } from '../helpers';

function alert(i: number): NewAlert {
  return {
    category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: `10.9.0.${i}`, dst_ip: '10.0.0.1',
    dst_port: null, first_ts: 1_700_000_000 + i, last_ts: 1_700_000_010 + i, score: 5 + i, threshold: 5, evidence: { flow_ids: [i], note: 'a|b=c' },
  };
}

async function populated(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; cfgPath: string; dbPath: string }> {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'gk.sqlite');
  const raw = rawConfig(dbPath);
  const cfgPath = path.join(dir, 'collector.json');
  fs.writeFileSync(cfgPath, JSON.stringify(raw));
  const c = await startCollector(validateConfig(raw, dir), { log: silentLogger });
  for (let i = 1; i <= 3; i++) await c.hub.raise(alert(i));
  await c.audit.recordAdminAction('agent_enrolled', { agent_id: 'gw3', by: 'admin' });
  await c.hub.raise(alert(4));
  await c.close();
  return { dir, cfgPath, dbPath };
}

function runVerify(cfgPath: string): Promise<{ code: number; out: Record<string, unknown> }> {
  const p = startTs(['collector/main.ts', 'audit', 'verify', '--config', cfgPath]);
  return p.exited.then((code) => ({ code, out: JSON.parse(p.stdout.join('\n') || '{}') }));
}

t.test('canonical JSON sorts keys at every depth and refuses non-finite numbers', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }], e: undefined }), '{"a":[{"c":"x","d":2}],"b":1}');
  t.throws(() => canonicalJson({ x: NaN }));
});

t.test('alerts, the config and admin actions form one chain; verify accepts it', async (t) => {
  const { cfgPath, dbPath } = await populated(t);
  const store = new SqliteStore({ path: dbPath });
  const entries = await store.auditEntries(0, 100);
  await store.close();
  t.same(entries.map((e) => e.kind), ['config_loaded', 'alert', 'alert', 'alert', 'admin.agent_enrolled', 'alert']);
  t.same(entries.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  t.equal(entries[0].prevHash, GENESIS_HASH);
  for (let i = 1; i < entries.length; i++) t.equal(entries[i].prevHash, entries[i - 1].hash, `link ${i + 1}`);
  t.match(JSON.parse(entries[1].payloadJson), { id: 1, category: 'port_scan', src_ip: '10.9.0.1' });
  const r = await runVerify(cfgPath);
  t.equal(r.code, 0);
  t.same(r.out, { ok: true, entries: 6, last_hash: entries[5].hash });
});

t.test('restarting with the same config adds no entry; a changed config is recorded', async (t) => {
  const dir = tempDir(t);
  const raw = rawConfig(path.join(dir, 'gk.sqlite'));
  for (const r of [raw, raw, { ...raw, collector_id: 'renamed' }]) {
    const c = await startCollector(validateConfig(r, dir), { log: silentLogger });
    await c.close();
  }
  const store = new SqliteStore({ path: path.join(dir, 'gk.sqlite') });
  const entries = await store.auditEntries(0, 100);
  await store.close();
  t.same(entries.map((e) => e.kind), ['config_loaded', 'config_loaded']);
  const [first, second] = entries.map((e) => JSON.parse(e.payloadJson));
  t.equal(second.previous_sha256, first.sha256);
  t.not(second.sha256, first.sha256);
});

t.test('an edited audit row is named as the first broken link', async (t) => {
  const { cfgPath, dbPath } = await populated(t);
  const db = new Database(dbPath);
  const row = db.prepare('SELECT payload_json FROM audit_chain WHERE seq = 3').get() as { payload_json: string };
  db.prepare('UPDATE audit_chain SET payload_json = ? WHERE seq = 3').run(row.payload_json.replace('10.9.0.2', '10.9.0.99'));
  db.close();
  const r = await runVerify(cfgPath);
  t.equal(r.code, 3);
  t.match(r.out, { ok: false, entries: 2, broken: { seq: 3, reason: /hash does not match/ } });
});

t.test('a row rewritten with a fresh hash breaks the next link', async (t) => {
  const { dbPath } = await populated(t);
  const db = new Database(dbPath);
  db.prepare("UPDATE audit_chain SET hash = ? WHERE seq = 2").run('f'.repeat(64));
  db.close();
  const store = new SqliteStore({ path: dbPath });
  const r = await verifyChain(store);
  await store.close();
  t.match(r, { ok: false, broken: { seq: 2 } }, 'its own hash no longer matches');
});

t.test('a deleted audit row and an edited alert row are found', async (t) => {
  const { dbPath } = await populated(t);
  const db = new Database(dbPath);
  db.prepare('DELETE FROM audit_chain WHERE seq = 4').run();
  db.close();
  let store = new SqliteStore({ path: dbPath });
  t.match(await verifyChain(store), { ok: false, broken: { seq: 4, reason: /entry 4 is missing/ } });
  await store.close();

  const other = await populated(t);
  const db2 = new Database(other.dbPath);
  db2.prepare("UPDATE alerts SET severity = 'low' WHERE id = 2").run();
  db2.close();
  store = new SqliteStore({ path: other.dbPath });
  t.match(await verifyChain(store), { ok: false, broken: { seq: 3, reason: /alert 2 in the alerts table differs/ } });
  await store.close();
});

t.test('concurrent appends get consecutive seqs and a valid chain', async (t) => {
  const dir = tempDir(t);
  const raw = rawConfig(path.join(dir, 'gk.sqlite'));
  const c = await startCollector(validateConfig(raw, dir), { log: silentLogger });
  await Promise.all(Array.from({ length: 20 }, (_, i) => c.audit.recordAdminAction('token_rotated', { i })));
  await c.close();
  const store = new SqliteStore({ path: path.join(dir, 'gk.sqlite') });
  t.match(await verifyChain(store), { ok: true, entries: 21, lastHash: (await store.lastAudit())!.hash });
  await store.close();
});
