// A private PostgreSQL server in a temp folder, for tests and benchmarks: Debian's postgresql-15
// binaries (scripts/setup.sh installs them), initdb, then pg_ctl start listening only on a Unix socket
// in that folder (no TCP port to collide with anything), password authentication (scram-sha-256) for
// the role `goalkeeper`. Run as the `postgres` system user when we are root (initdb refuses root).
// fsync is off: the server's own durability is not what these runs measure or test.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  /** the socket folder: pg's `host` */
  host: string;
  port: number;
  user: string;
  password: string;
  /** a file holding the password (for store.postgres.password_file) */
  passwordFile: string;
  /** Stops the server (immediate) and removes its folder. Safe to call twice. */
  stop(): void;
}

export function startPostgresServer(opts: { fsync?: boolean } = {}): PostgresServer {
  if (!existsSync(join(PG_BIN, 'initdb'))) throw new Error(`no ${PG_BIN}/initdb: install Debian's postgresql (scripts/setup.sh does)`);
  const dir = mkdtempSync(join(tmpdir(), `gk-pg-${process.pid}-`));
  const asRoot = userInfo().uid === 0;
  const run = (bin: string, args: string[]): void => {
    const cmd = join(PG_BIN, bin);
    if (asRoot) execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
    else execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const user = 'goalkeeper';
  const password = `pw-${process.pid}-${Date.now()}`;
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`);
  const initPw = join(dir, 'initdb-password');
  writeFileSync(initPw, password);
  if (asRoot) {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    for (const p of [dir, initPw]) chownSync(p, id('-u'), id('-g'));
    chmodSync(dir, 0o755);
  }
  const data = join(dir, 'data');
  const port = 5432;
  try {
    run('initdb', ['-D', data, '-U', user, '--pwfile', initPw, '--auth', 'scram-sha-256', '-E', 'UTF8', '--locale', 'C', '--no-sync']);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
      `-c listen_addresses='' -c unix_socket_directories='${dir}' -c port=${port} -c fsync=${opts.fsync ? 'on' : 'off'} -c max_connections=200`,
      'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A run that ends without calling stop() (a failed test, Ctrl-C handled as exit) leaves no server behind.
  process.once('exit', stop);
  return { host: dir, port, user, password, passwordFile, stop };
}
