// SQLite schema, as an ordered list of migrations. PRAGMA user_version holds the number of migrations
// applied; a new migration is appended here, never edited in place once released.
//
// Units: *_us columns are integer microseconds since the Unix epoch; *_ts columns are REAL seconds.

export const MIGRATIONS: readonly string[] = [
  // 1: first schema (extended in place with record_seq and the flow-level names before any release)
  `
  CREATE TABLE agents (
    agent_id         TEXT PRIMARY KEY,
    last_seen_us     INTEGER NOT NULL,
    boot_id          TEXT,
    hostname         TEXT,
    software_version TEXT,
    source           TEXT,
    health_json      TEXT
  );

  CREATE TABLE batches (
    agent_id    TEXT    NOT NULL,
    boot_id     TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    flow_count  INTEGER NOT NULL,
    PRIMARY KEY (agent_id, boot_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE flows (
    id                INTEGER PRIMARY KEY,
    agent_id          TEXT    NOT NULL,
    boot_id           TEXT    NOT NULL,
    seq               INTEGER NOT NULL,
    flow_id           INTEGER NOT NULL,
    record_seq        INTEGER NOT NULL,
    record_type       TEXT    NOT NULL,
    community_id      TEXT,
    conn_state        TEXT,
    src_ip            TEXT    NOT NULL,
    dst_ip            TEXT    NOT NULL,
    src_port          INTEGER NOT NULL,
    dst_port          INTEGER NOT NULL,
    proto             INTEGER NOT NULL,
    vlan              INTEGER,
    first_ts          REAL    NOT NULL,
    last_ts           REAL    NOT NULL,
    fwd_packets       INTEGER NOT NULL,
    bwd_packets       INTEGER NOT NULL,
    fwd_ip_bytes      INTEGER NOT NULL,
    bwd_ip_bytes      INTEGER NOT NULL,
    fwd_payload_bytes INTEGER NOT NULL,
    bwd_payload_bytes INTEGER NOT NULL,
    tcp_flags         INTEGER NOT NULL,
    end_reason        TEXT    NOT NULL,
    stats_json        TEXT    NOT NULL,
    app_json          TEXT,
    UNIQUE (agent_id, boot_id, flow_id, record_seq)
  );
  CREATE INDEX flows_community_id ON flows (community_id);
  CREATE INDEX flows_first_ts ON flows (first_ts);
  CREATE INDEX flows_src_ip ON flows (src_ip, first_ts);
  CREATE INDEX flows_dst_ip ON flows (dst_ip, first_ts);

  -- AUTOINCREMENT: an id is never reused, even after deletes, because subscribers resume by id.
  CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts            REAL    NOT NULL,
    category      TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    attack_id     TEXT,
    agent_id      TEXT    NOT NULL,
    src_ip        TEXT,
    dst_ip        TEXT,
    dst_port      INTEGER,
    first_ts      REAL,
    last_ts       REAL,
    score         REAL,
    threshold     REAL,
    evidence_json TEXT    NOT NULL
  );
  CREATE INDEX alerts_ts ON alerts (ts);
  `,
  // 2: enrolment (collector/identity/): one-time tokens and the per-agent credentials issued for them.
  // Only sha256 digests of the secrets are kept. A token row stays after use (used_us, used_by) so a
  // reuse is refused as "used", not "unknown".
  `
  CREATE TABLE enrol_tokens (
    token_id      TEXT PRIMARY KEY,
    secret_sha256 TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    created_us    INTEGER NOT NULL,
    expires_us    INTEGER NOT NULL,
    used_us       INTEGER,
    used_by       TEXT
  ) WITHOUT ROWID;

  CREATE TABLE agent_credentials (
    agent_id      TEXT PRIMARY KEY,
    secret_sha256 TEXT    NOT NULL,
    token_id      TEXT    NOT NULL,
    enrolled_us   INTEGER NOT NULL,
    hostname      TEXT    NOT NULL,
    revoked_us    INTEGER
  ) WITHOUT ROWID;
  `,
  // 3: the tamper-evident audit chain (collector/audit/) and what the dashboard reads. Entries are
  // only ever appended; hash = sha256(prev_hash || canonical JSON of {seq, ts, kind, payload}).
  `
  CREATE TABLE audit_chain (
    seq          INTEGER PRIMARY KEY,
    ts           REAL    NOT NULL,
    kind         TEXT    NOT NULL,
    payload_json TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
  );
  CREATE INDEX audit_chain_kind ON audit_chain (kind, seq);
  -- capture rate per agent: flows of the batches received in the last minute
  CREATE INDEX flows_batch ON flows (agent_id, boot_id, seq);
  CREATE INDEX batches_received ON batches (received_us);
  CREATE INDEX alerts_agent ON alerts (agent_id, id);
  `,
  // 4 (issue 4): when an agent went silent (no heartbeat for a few of its intervals); NULL while it is heard.
  `
  ALTER TABLE agents ADD COLUMN silent_since_us INTEGER;
  `,
  // 5: no query reads flows by community_id, src_ip or dst_ip (evidence flows go by agent and flow id,
  // the dashboard by first_ts, the capture rate by batch); each of these indexes cost every stored
  // flow a B-tree insert at a random place, about a third of the write time on the transport benchmark.
  `
  DROP INDEX flows_community_id;
  DROP INDEX flows_src_ip;
  DROP INDEX flows_dst_ip;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
