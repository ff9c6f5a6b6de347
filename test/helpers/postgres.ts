// A private PostgreSQL server per test file (scripts/lib/postgres-server.ts), stopped at teardown, with
// a fresh database per test and plain clients to look at what the store wrote.
import { Client } from 'pg';
import { PG_TYPES } from '../../collector/store/postgres/types';
import { startPostgresServer, type PostgresServer } from '../../scripts/lib/postgres-server';

export interface TestPostgres extends PostgresServer {
  /** Creates a fresh database and returns its name (`name` plus a counter). */
  createDatabase(name: string): Promise<string>;
  /** A connected client on `database`, numbers read as numbers (closed at teardown). */
  connect(database: string): Promise<Client>;
}

export async function startPostgres(t: { teardown(fn: () => unknown): void }): Promise<TestPostgres> {
  const server = startPostgresServer();
  const clients: Client[] = [];
  t.teardown(async () => {
    await Promise.allSettled(clients.map((c) => c.end()));
    server.stop();
  });
  const connect = async (database: string): Promise<Client> => {
    const c = new Client({ host: server.host, port: server.port, user: server.user, password: server.password, database, types: PG_TYPES });
    clients.push(c);
    await c.connect();
    return c;
  };
  const admin = await connect('postgres');
  let n = 0;
  return {
    ...server,
    connect,
    async createDatabase(name: string): Promise<string> {
      const db = `${name}_${++n}`;
      await admin.query(`CREATE DATABASE ${db}`);
      return db;
    },
  };
}
