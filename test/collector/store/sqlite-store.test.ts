import * as path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, SqliteStore } from '../../../collector/store';
import { CollectorError } from '../../../collector/errors';
import { tempDir } from '../helpers';
import { storeContract } from './contract';

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
