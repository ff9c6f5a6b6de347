// The one place that turns `store` config into a Store: serve and the offline commands (enrol, agents,
// stix-export, audit verify) all open the store through here, so they all work on either kind.
import * as fs from 'node:fs';
import { parseIntoClientConfig } from 'pg-connection-string';
import type { StoreConfig } from '../config';
import { CollectorError, CollectorErrorCode, errorMessage } from '../errors';
import { PostgresStore } from './postgres/postgres-store';
import { SqliteStore } from './sqlite/sqlite-store';
import type { Store } from './store';

export interface OpenStoreOptions {
  /** failures of a store's background work (PostgreSQL: retention sweep, dropped idle connections) */
  onBackgroundError?: (err: CollectorError) => void;
  /** PostgreSQL retention dropped these flows partitions */
  onPartitionsDropped?: (names: string[]) => void;
}

function readPassword(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.STORE_OPEN, `cannot read store.postgres.password_file ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

export async function openStore(cfg: StoreConfig, opts: OpenStoreOptions = {}): Promise<Store> {
  if (cfg.kind === 'sqlite') return new SqliteStore({ path: cfg.sqlite_path, synchronous: cfg.synchronous });
  const pg = cfg.postgres;
  const password = pg.password_file ? readPassword(pg.password_file) : undefined;
  return PostgresStore.open({
    // The URL is parsed here, not handed to pg as connectionString: pg would let the URL's (empty)
    // password override the one from password_file.
    connection: pg.url
      ? { ...parseIntoClientConfig(pg.url), ...(password !== undefined && { password }) }
      : { host: pg.host, port: pg.port, database: pg.database, user: pg.user, password },
    poolSize: pg.pool_size,
    partitionDays: pg.partition_days,
    retentionDays: pg.retention_days,
    onBackgroundError: opts.onBackgroundError,
    onPartitionsDropped: opts.onPartitionsDropped,
  });
}
