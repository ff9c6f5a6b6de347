// PostgreSQL schema, as an ordered list of migrations recorded in schema_migrations (one row per applied
// version). A new migration is appended here, never edited once released. Several collectors may start
// at once against one database: migrate() holds an advisory lock while it reads and applies versions.
//
// Units as in the SQLite schema: *_us columns are bigint microseconds since the Unix epoch; *_ts columns
// are double precision seconds. JSON columns are text (kept byte for byte as written).
//
// flows is range-partitioned by first_ts (partitions.ts creates one per store.postgres.partition_days
// on demand and drops the expired ones). A unique key on a partitioned table must hold the partition
// key, so the record key is (agent_id, boot_id, flow_id, record_seq, first_ts): a record's first_ts never
// changes, so this is the same key as SQLite's. Exactly-once rests on batches' primary key
// (agent_id, boot_id, seq, part).
import type { PoolClient } from 'pg';
import { CollectorError, CollectorErrorCode } from '../../errors';

export const MIGRATIONS: readonly string[] = [
  // 1: everything of SQLite migrations 1-4, at once
  `
  CREATE TABLE agents (
    agent_id         text PRIMARY KEY,
    last_seen_us     bigint NOT NULL,
    boot_id          text,
    hostname         text,
    software_version text,
    source           text,
    health_json      text,
    silent_since_us  bigint
  );

  CREATE TABLE batches (
    agent_id    text    NOT NULL,
    boot_id     text    NOT NULL,
    seq         bigint  NOT NULL,
    received_us bigint  NOT NULL,
    flow_count  integer NOT NULL,
    PRIMARY KEY (agent_id, boot_id, seq)
  );
  CREATE INDEX batches_received ON batches (received_us);

  CREATE TABLE flows (
    agent_id          text             NOT NULL,
    boot_id           text             NOT NULL,
    seq               bigint           NOT NULL,
    flow_id           bigint           NOT NULL,
    record_seq        integer          NOT NULL,
    record_type       text             NOT NULL,
    community_id      text,
    conn_state        text,
    src_ip            text             NOT NULL,
    dst_ip            text             NOT NULL,
    src_port          integer          NOT NULL,
    dst_port          integer          NOT NULL,
    proto             integer          NOT NULL,
    vlan              integer,
    first_ts          double precision NOT NULL,
    last_ts           double precision NOT NULL,
    fwd_packets       bigint           NOT NULL,
    bwd_packets       bigint           NOT NULL,
    fwd_ip_bytes      bigint           NOT NULL,
    bwd_ip_bytes      bigint           NOT NULL,
    fwd_payload_bytes bigint           NOT NULL,
    bwd_payload_bytes bigint           NOT NULL,
    tcp_flags         integer          NOT NULL,
    end_reason        text             NOT NULL,
    stats_json        text             NOT NULL,
    app_json          text,
    UNIQUE (agent_id, boot_id, flow_id, record_seq, first_ts)
  ) PARTITION BY RANGE (first_ts);
  CREATE INDEX flows_community_id ON flows (community_id);
  CREATE INDEX flows_first_ts ON flows (first_ts);
  CREATE INDEX flows_src_ip ON flows (src_ip, first_ts);
  CREATE INDEX flows_dst_ip ON flows (dst_ip, first_ts);
  CREATE INDEX flows_batch ON flows (agent_id, boot_id, seq);
  CREATE INDEX flows_last_ts ON flows (last_ts);

  -- identity: an id is never reused; putAlert assigns ids under a lock so they commit in id order.
  CREATE TABLE alerts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts            double precision NOT NULL,
    category      text             NOT NULL,
    severity      text             NOT NULL,
    attack_id     text,
    agent_id      text             NOT NULL,
    src_ip        text,
    dst_ip        text,
    dst_port      integer,
    first_ts      double precision,
    last_ts       double precision,
    score         double precision,
    threshold     double precision,
    evidence_json text             NOT NULL
  );
  CREATE INDEX alerts_ts ON alerts (ts);
  CREATE INDEX alerts_agent ON alerts (agent_id, id);

  CREATE TABLE enrol_tokens (
    token_id      text PRIMARY KEY,
    secret_sha256 text   NOT NULL,
    name          text   NOT NULL,
    created_us    bigint NOT NULL,
    expires_us    bigint NOT NULL,
    used_us       bigint,
    used_by       text
  );

  CREATE TABLE agent_credentials (
    agent_id      text PRIMARY KEY,
    secret_sha256 text   NOT NULL,
    token_id      text   NOT NULL,
    enrolled_us   bigint NOT NULL,
    hostname      text   NOT NULL,
    revoked_us    bigint
  );

  CREATE TABLE audit_chain (
    seq          bigint PRIMARY KEY,
    ts           double precision NOT NULL,
    kind         text             NOT NULL,
    payload_json text             NOT NULL,
    prev_hash    text             NOT NULL,
    hash         text             NOT NULL
  );
  CREATE INDEX audit_chain_kind ON audit_chain (kind, seq);
  `,
  // 2: cluster mode (docs/scaling.md). A batch arrives in parts, one per partition, each stored by its
  // partition's worker: the batch key gains the part (-1: a whole batch, as a single collector stores
  // it). Alerts raised by the cluster keep the alert stream's sequence as their id and their
  // deterministic key (NULL for alerts a single collector numbered itself).
  `
  ALTER TABLE batches ADD COLUMN part integer NOT NULL DEFAULT -1;
  ALTER TABLE batches DROP CONSTRAINT batches_pkey;
  ALTER TABLE batches ADD PRIMARY KEY (agent_id, boot_id, seq, part);

  ALTER TABLE alerts ADD COLUMN alert_key text;
  CREATE UNIQUE INDEX alerts_key ON alerts (alert_key);
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Any constant: the advisory lock that serialises migrations between collectors. */
const MIGRATION_LOCK = 0x676b_6d69; // 'gkmi'

/** Applies the missing migrations, each in its own transaction. Returns the versions applied. */
export async function migrate(client: PoolClient, where: string): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0].v ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new CollectorError(
        CollectorErrorCode.STORE_SCHEMA,
        `PostgreSQL store ${where} has schema version ${current}; this collector knows up to ${PG_SCHEMA_VERSION}`,
      );
    }
    const applied: number[] = [];
    for (let v = current; v < PG_SCHEMA_VERSION; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v]);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      applied.push(v + 1);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
