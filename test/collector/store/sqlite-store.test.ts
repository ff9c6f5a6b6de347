import { statSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, SqliteStore } from '../../../collector/store';
import { CollectorError } from '../../../collector/errors';
import { tempDir } from '../helpers';
import { batch, row, storeContract } from './contract';

storeContract(t, async (t) => {
  const file = path.join(tempDir(t), 'gk.sqlite');
  const store = new SqliteStore({ path: file });
  const db = new Database(file, { readonly: true });
  t.teardown(async () => {
    db.close();
    await store.close();
  });
  return { store, rows: async (sql) => db.prepare(sql).all() as Array<Record<string, unknown>> };
});

t.test('schema: WAL, user_version, tables', async (t) => {
  const file = path.join(tempDir(t), 'sub', 'gk.sqlite');
  const s = new SqliteStore({ path: file });
  await s.close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  t.has(tables, ['agent_credentials', 'agents', 'alerts', 'audit_chain', 'batches', 'enrol_tokens', 'flow_rows', 'sqlite_sequence']);
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE type = 'view'").all(), [{ name: 'flows' }]);
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

t.test('open errors are coded', async (t) => {
  const dir = tempDir(t);
  t.throws(() => new SqliteStore({ path: dir }), CollectorError, 'a directory is not a database');
});

t.test('group commit: batches handed over together share one commit; close writes what is queued', async (t) => {
  const dir = tempDir(t);
  const walBytes = async (name: string, put: (s: SqliteStore) => Promise<unknown>): Promise<number> => {
    const file = path.join(dir, name);
    const s = new SqliteStore({ path: file });
    const before = statSync(`${file}-wal`).size; // the schema's pages
    await put(s);
    const n = statSync(`${file}-wal`).size - before;
    await s.close();
    return n;
  };
  const batches = () => [1, 2, 3, 4].map((seq) => batch(seq, [row(seq, seq)], `gw${seq}`));
  const oneByOne = await walBytes('a.sqlite', async (s) => { for (const b of batches()) t.equal(await s.putBatch(b), 'stored'); });
  const together = await walBytes('b.sqlite', async (s) => t.same(await Promise.all(batches().map((b) => s.putBatch(b))), ['stored', 'stored', 'stored', 'stored']));
  // Each commit appends the pages it changed to the WAL; four commits append the same pages four times.
  t.ok(together < oneByOne / 2, `WAL written by four batches together ${together} B, one by one ${oneByOne} B`);

  const file = path.join(dir, 'c.sqlite');
  const s = new SqliteStore({ path: file });
  const pending = s.putBatch(batch(1, [row(1)]));
  await s.close();
  t.equal(await pending, 'stored', 'a batch queued when the store closes is written first');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT count(*) AS n FROM flows').get(), { n: 1 });
  await t.rejects(s.putBatch(batch(2, [row(2)])), { code: 'COLL_ERR_STORE_WRITE' }, 'and a closed store refuses more');
});
