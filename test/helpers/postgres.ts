// A private PostgreSQL server per test file: Debian's postgresql-15 binaries (scripts/setup.sh installs
// them), initdb into a temp folder, listening on a Unix socket in that folder only (no TCP port to
// collide on), password authentication (scram-sha-256) for the `goalkeeper` role. The server runs as
// the `postgres` system user when the tests run as root (initdb refuses root). Stopped at teardown.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PG_TYPES } from '../../collector/store/postgres/types';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** the socket folder: pg's `host` */
  host: string;
  port: number;
  user: string;
  password: string;
  /** a file holding the password (for store.postgres.password_file) */
  passwordFile: string;
  /** Creates a fresh database and returns its name. */
  createDatabase(name: string): Promise<string>;
  /** A connected client on `database` (closed by stop()). */
  connect(database: string): Promise<Client>;
  stop(): void;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function startPostgres(t: Teardown): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), `gk-pg-${process.pid}-`));
  const asRoot = userInfo().uid === 0;
  const run = (bin: string, args: string[]): void => {
    const cmd = join(PG_BIN, bin);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
    else execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const user = 'goalkeeper';
  const password = `pw-${process.pid}-${Date.now()}`;
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`);
  writeFileSync(join(dir, 'pwfile'), password);
  const data = join(dir, 'data');
  if (asRoot) {
    for (const p of [dir, join(dir, 'pwfile')]) chownSync(p, uidOf('postgres'), gidOf('postgres'));
    chmodSync(dir, 0o755);
  }
  run('initdb', ['-D', data, '-U', user, '--pwfile', join(dir, 'pwfile'), '--auth', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C', '--no-sync']);
  const port = 5432;
  // fsync off: a test server's durability is not under test, and it saves much of the run time.
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
    `-c listen_addresses='' -c unix_socket_directories='${dir}' -c port=${port} -c fsync=off -c synchronous_commit=on -c max_connections=200`, 'start']);
  const clients: Client[] = [];
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    for (const c of clients) void c.end().catch(() => undefined);
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  t.teardown(stop);
  const connect = async (database: string): Promise<Client> => {
    const c = new Client({ host: dir, port, user, password, database, types: PG_TYPES });
    await c.connect();
    clients.push(c);
    return c;
  };
  let n = 0;
  const admin = await connect('postgres');
  return {
    host: dir, port, user, password, passwordFile, connect, stop,
    async createDatabase(name: string): Promise<string> {
      const db = `${name}_${++n}`;
      await admin.query(`CREATE DATABASE ${db}`);
      return db;
    },
  };
}

function uidOf(name: string): number {
  return Number(execFileSync('id', ['-u', name]).toString().trim());
}

function gidOf(name: string): number {
  return Number(execFileSync('id', ['-g', name]).toString().trim());
}
