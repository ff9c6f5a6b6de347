// Store on one SQLite file (better-sqlite3): WAL journal, prepared statements, each batch in a transaction
// of its own (a savepoint) inside one group commit.
//
// Group commit: putBatch queues the batch; on the next turn of the event loop every batch queued since
// (one per agent connection at most, as a session handles one frame at a time) is written in one
// transaction, each in its own savepoint so that one batch's failure fails it alone, and every caller
// learns its result after the one commit. With many agents this turns one WAL fsync per batch into one per
// turn: each fsync blocks the event loop (0.65 ms on the build VM, milliseconds on real disks), and at
// 1,000 agents sending a batch a second one per batch would cap what a slow disk lets the collector take.
//
// Durability: journal_mode=WAL with synchronous=FULL by default. In WAL mode NORMAL survives a process
// crash but may lose the last commits on power loss or an OS crash; since an Ack tells the agent it may
// delete the batch from its spool, a lost commit after an ack would be silent data loss. FULL costs one
// fsync of the WAL per batch (a batch holds up to thousands of flows), which we accept.
// `store.synchronous: "normal"` trades that guarantee for speed where the operator wants it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { CollectorError, CollectorErrorCode, errorMessage } from '../../errors';
import type { AgentUpdate, Alert, BatchRecord, NewAlert, PutBatchResult } from '../../model';
import type {
  AgentCredentialRow, AgentListing, AgentView, AlertFilter, AlertQuery, AuditEntry, EnrolTokenRow, FlowView, RedeemResult, Store,
  TalkerRow, TrafficBucket,
} from '../store';
import {
  rowToAgentView, rowToAlert, rowToAudit, rowToFlow, type AgentViewDbRow, type AlertDbRow, type AuditDbRow, type FlowDbRow,
} from '../rows';
import { FlowInserter } from './flow-insert';
import { IdentityStatements } from './identity-statements';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

export interface SqliteStoreOptions {
  /** file path or ':memory:' */
  path: string;
  synchronous?: 'full' | 'normal';
  busyTimeoutMs?: number;
}

/** SQL condition + parameters for an AlertFilter (always a valid expression, '1' when unfiltered). */
function filterSql(f: AlertFilter | undefined): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: readonly string[]): void => {
    parts.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  if (f?.severities) inList('severity', f.severities);
  if (f?.categories) inList('category', f.categories);
  if (f?.agents) inList('agent_id', f.agents);
  if (f?.hosts) {
    if (f.hosts.length === 0) parts.push('0');
    else {
      const q = f.hosts.map(() => '?').join(', ');
      parts.push(`(src_ip IN (${q}) OR dst_ip IN (${q}))`);
      params.push(...f.hosts, ...f.hosts);
    }
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

function openDatabase(opts: SqliteStoreOptions): Database.Database {
  try {
    if (opts.path !== ':memory:') fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    const db = new Database(opts.path);
    db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    // Checkpoint (copy the WAL into the database file, then fsync it) every 64 MiB of WAL instead of
    // SQLite's 4 MiB: a page changed by many batches in between is copied once. Commits still fsync
    // the WAL (synchronous above), so durability is the same; the WAL file grows to about that size.
    db.pragma('wal_autocheckpoint = 16384');
    return db;
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.STORE_OPEN, `cannot open SQLite store ${opts.path}: ${errorMessage(err)}`, { cause: err });
  }
}

function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new CollectorError(
      CollectorErrorCode.STORE_SCHEMA,
      `SQLite store ${file} has schema version ${current}; this collector knows up to ${SCHEMA_VERSION}`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

interface QueuedBatch {
  readonly batch: BatchRecord;
  readonly resolve: (r: PutBatchResult) => void;
  readonly reject: (err: unknown) => void;
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly insertBatch: Database.Statement;
  private readonly flows: FlowInserter;
  private readonly insertAlert: Database.Statement;
  private readonly selectAlerts: Database.Statement;
  private readonly upsertAgent: Database.Statement;
  private readonly agentSeen: Database.Statement;
  private readonly writeBatch: (batch: BatchRecord) => PutBatchResult;
  private readonly writeGroup: (group: readonly QueuedBatch[], results: Array<PutBatchResult | Error>) => void;
  private queued: QueuedBatch[] = [];
  private flushScheduled = false;
  private readonly identity: IdentityStatements;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    this.db = openDatabase(opts);
    try {
      migrate(this.db, opts.path);
    } catch (err) {
      this.db.close();
      if (err instanceof CollectorError) throw err;
      throw new CollectorError(CollectorErrorCode.STORE_SCHEMA, `cannot migrate SQLite store ${opts.path}: ${errorMessage(err)}`, { cause: err });
    }
    const db = this.db;
    this.insertBatch = db.prepare(
      `INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count, packet_count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent_id, boot_id, seq) DO NOTHING`,
    );
    this.flows = new FlowInserter(db);
    this.insertAlert = db.prepare(
      `INSERT INTO alerts (ts, category, severity, attack_id, agent_id, src_ip, dst_ip, dst_port, first_ts, last_ts,
         score, threshold, evidence_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectAlerts = db.prepare(`SELECT * FROM alerts WHERE id > ? ORDER BY id LIMIT ?`);
    this.upsertAgent = db.prepare(
      `INSERT INTO agents (agent_id, last_seen_us, boot_id, hostname, software_version, source, health_json, silent_since_us)
       VALUES (@agent_id, @last_seen_us, @boot_id, @hostname, @software_version, @source, @health_json, @silent_since_us)
       ON CONFLICT (agent_id) DO UPDATE SET
         last_seen_us = max(last_seen_us, excluded.last_seen_us),
         silent_since_us = excluded.silent_since_us,
         boot_id = coalesce(excluded.boot_id, boot_id),
         hostname = coalesce(excluded.hostname, hostname),
         software_version = coalesce(excluded.software_version, software_version),
         source = coalesce(excluded.source, source),
         health_json = coalesce(excluded.health_json, health_json)`,
    );
    this.agentSeen = db.prepare(
      `INSERT INTO agents (agent_id, last_seen_us) VALUES (?, ?)
       ON CONFLICT (agent_id) DO UPDATE SET last_seen_us = max(last_seen_us, excluded.last_seen_us), silent_since_us = NULL`,
    );
    this.identity = new IdentityStatements(db);
    this.writeBatch = db.transaction((b: BatchRecord): PutBatchResult => {
      let packets = 0;
      for (const f of b.flows) packets += f.fwd.packets + f.bwd.packets;
      const r = this.insertBatch.run(b.agentId, b.bootId, b.seq, b.receivedUs, b.flows.length, packets);
      if (r.changes === 0) return 'duplicate';
      this.agentSeen.run(b.agentId, b.receivedUs);
      this.flows.insert(Number(r.lastInsertRowid), b.flows);
      return 'stored';
    });
    // writeBatch called inside this transaction runs as a savepoint: a batch that fails is rolled back
    // alone and the others still commit.
    this.writeGroup = db.transaction((group: readonly QueuedBatch[], results: Array<PutBatchResult | Error>) => {
      for (const q of group) {
        try {
          results.push(this.writeBatch(q.batch));
        } catch (err) {
          results.push(this.writeError(`cannot store batch ${q.batch.agentId}/${q.batch.bootId}/${q.batch.seq}`, err));
        }
      }
    });
  }

  private writeError(what: string, err: unknown): CollectorError {
    return new CollectorError(CollectorErrorCode.STORE_WRITE, `${what}: ${errorMessage(err)}`, { cause: err });
  }

  putBatch(batch: BatchRecord): Promise<PutBatchResult> {
    if (this.closed) return Promise.reject(this.writeError(`cannot store batch ${batch.agentId}/${batch.bootId}/${batch.seq}`, 'store closed'));
    return new Promise((resolve, reject) => {
      this.queued.push({ batch, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes every queued batch in one transaction, then settles each caller with its own result. */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.queued;
    if (group.length === 0) return;
    this.queued = [];
    const results: Array<PutBatchResult | Error> = [];
    try {
      this.writeGroup(group, results);
    } catch (err) { // the commit itself failed: nothing of the group is stored
      for (const q of group) q.reject(this.writeError(`cannot store batch ${q.batch.agentId}/${q.batch.bootId}/${q.batch.seq}`, err));
      return;
    }
    for (let i = 0; i < group.length; i++) {
      const r = results[i];
      if (r instanceof Error) group[i].reject(r);
      else group[i].resolve(r);
    }
  }

  async putAlert(a: NewAlert, tsSecs: number): Promise<Alert> {
    try {
      const r = this.insertAlert.run(
        tsSecs, a.category, a.severity, a.attack_id, a.agent_id, a.src_ip, a.dst_ip, a.dst_port,
        a.first_ts, a.last_ts, a.score, a.threshold, JSON.stringify(a.evidence),
      );
      return { ...a, id: Number(r.lastInsertRowid), ts: tsSecs };
    } catch (err) {
      throw this.writeError(`cannot store alert ${a.category}`, err);
    }
  }

  async alertsSince(afterId: number, limit: number, filter?: AlertFilter): Promise<Alert[]> {
    if (!filter) return (this.selectAlerts.all(afterId, limit) as AlertDbRow[]).map(rowToAlert);
    const f = filterSql(filter);
    const rows = this.db.prepare(`SELECT * FROM alerts WHERE id > ? AND ${f.where} ORDER BY id LIMIT ?`).all(afterId, ...f.params, limit);
    return (rows as AlertDbRow[]).map(rowToAlert);
  }

  async queryAlerts(q: AlertQuery): Promise<Alert[]> {
    const f = filterSql(q.filter);
    const rows = this.db
      .prepare(`SELECT * FROM alerts WHERE id < ? AND ts >= ? AND ${f.where} ORDER BY id DESC LIMIT ?`)
      .all(q.beforeId ?? Number.MAX_SAFE_INTEGER, q.sinceTs ?? -Infinity, ...f.params, q.limit);
    return (rows as AlertDbRow[]).map(rowToAlert);
  }

  async alertById(id: number): Promise<Alert | undefined> {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertDbRow | undefined;
    return row ? rowToAlert(row) : undefined;
  }

  async alertCounts(): Promise<Array<{ category: string; count: number; lastTs: number }>> {
    return this.db
      .prepare('SELECT category, count(*) AS count, max(ts) AS lastTs FROM alerts GROUP BY category ORDER BY category')
      .all() as Array<{ category: string; count: number; lastTs: number }>;
  }

  async evidenceFlows(alert: Alert, limit: number): Promise<FlowView[]> {
    const ids = Array.isArray(alert.evidence.flow_ids)
      ? (alert.evidence.flow_ids as unknown[]).filter((x): x is number => Number.isSafeInteger(x)).slice(0, limit)
      : [];
    if (ids.length === 0) return [];
    // flow ids are per agent boot; the alert's time window (with a minute of slack) picks the right boot.
    const rows = this.db
      .prepare(
        `SELECT * FROM flows WHERE agent_id = ? AND flow_id IN (${ids.map(() => '?').join(', ')})
           AND last_ts >= ? AND first_ts <= ? ORDER BY first_ts, flow_id, record_seq LIMIT ?`,
      )
      .all(alert.agent_id, ...ids, alert.first_ts - 60, alert.last_ts + 60, limit);
    return (rows as FlowDbRow[]).map(rowToFlow);
  }

  async agents(nowUs: number, rateWindowUs: number): Promise<AgentView[]> {
    const rows = this.db
      .prepare(
        `SELECT a.*, coalesce(r.packets, 0) AS recent_packets, coalesce(r.flows, 0) AS recent_flows
         FROM agents a LEFT JOIN (
           SELECT agent_id, sum(packet_count) AS packets, sum(flow_count) AS flows
           FROM batches WHERE received_us >= ? GROUP BY agent_id
         ) r ON r.agent_id = a.agent_id ORDER BY a.agent_id`,
      )
      .all(nowUs - rateWindowUs) as AgentViewDbRow[];
    return rows.map(rowToAgentView);
  }

  async latestFlowTs(): Promise<number | undefined> {
    const row = this.db.prepare('SELECT max(last_ts) AS ts FROM flow_rows').get() as { ts: number | null };
    return row.ts ?? undefined;
  }

  async topTalkers(fromTs: number, toTs: number, limit: number): Promise<TalkerRow[]> {
    return this.db
      .prepare(
        `SELECT ip, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows FROM (
           SELECT src_ip AS ip, fwd_ip_bytes + bwd_ip_bytes AS bytes, fwd_packets + bwd_packets AS packets
             FROM flow_rows WHERE first_ts >= ? AND first_ts < ?
           UNION ALL
           SELECT dst_ip, fwd_ip_bytes + bwd_ip_bytes, fwd_packets + bwd_packets
             FROM flow_rows WHERE first_ts >= ? AND first_ts < ?
         ) GROUP BY ip ORDER BY bytes DESC, ip LIMIT ?`,
      )
      .all(fromTs, toTs, fromTs, toTs, limit) as TalkerRow[];
  }

  async traffic(fromTs: number, toTs: number, bucketSecs: number): Promise<TrafficBucket[]> {
    return this.db
      .prepare(
        `SELECT CAST((first_ts - ?) / ? AS INTEGER) * ? + ? AS ts, sum(fwd_ip_bytes + bwd_ip_bytes) AS bytes,
           sum(fwd_packets + bwd_packets) AS packets, count(*) AS flows
         FROM flow_rows WHERE first_ts >= ? AND first_ts < ? GROUP BY 1 ORDER BY 1`,
      )
      .all(fromTs, bucketSecs, bucketSecs, fromTs, fromTs, toTs) as TrafficBucket[];
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO audit_chain (seq, ts, kind, payload_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
        .run(e.seq, e.ts, e.kind, e.payloadJson, e.prevHash, e.hash);
    } catch (err) {
      throw this.writeError(`cannot append audit entry ${e.seq}`, err);
    }
  }

  async auditEntries(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = this.db.prepare('SELECT * FROM audit_chain WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit);
    return (rows as AuditDbRow[]).map(rowToAudit);
  }

  async lastAudit(kind?: string): Promise<AuditEntry | undefined> {
    const row = kind === undefined
      ? this.db.prepare('SELECT * FROM audit_chain ORDER BY seq DESC LIMIT 1').get()
      : this.db.prepare('SELECT * FROM audit_chain WHERE kind = ? ORDER BY seq DESC LIMIT 1').get(kind);
    return row ? rowToAudit(row as AuditDbRow) : undefined;
  }

  async touchAgent(u: AgentUpdate): Promise<void> {
    try {
      this.upsertAgent.run({
        agent_id: u.agentId,
        last_seen_us: u.lastSeenUs,
        boot_id: u.bootId ?? null,
        hostname: u.hostname ?? null,
        software_version: u.softwareVersion ?? null,
        source: u.source ?? null,
        health_json: u.health ? JSON.stringify(u.health) : null,
        silent_since_us: u.silentSinceUs ?? null,
      });
    } catch (err) {
      throw this.writeError(`cannot update agent ${u.agentId}`, err);
    }
  }

  /** Runs a write, wrapping any failure as COLL_ERR_STORE_WRITE naming `what`. */
  private written<T>(what: string, write: () => T): T {
    try {
      return write();
    } catch (err) {
      throw this.writeError(what, err);
    }
  }

  async putEnrolToken(token: EnrolTokenRow): Promise<void> {
    this.written('cannot store enrolment token', () => this.identity.putToken(token));
  }

  async enrolToken(tokenId: string): Promise<EnrolTokenRow | undefined> {
    return this.identity.token(tokenId);
  }

  async redeemEnrolToken(tokenId: string, credential: AgentCredentialRow): Promise<RedeemResult> {
    return this.written(`cannot store the credential of agent ${credential.agentId}`, () => this.identity.redeem(tokenId, credential));
  }

  async agentCredential(agentId: string): Promise<AgentCredentialRow | undefined> {
    return this.identity.credential(agentId);
  }

  async revokeAgentCredential(agentId: string, nowUs: number): Promise<boolean> {
    return this.written(`cannot revoke agent ${agentId}`, () => this.identity.revoke(agentId, nowUs));
  }

  async listAgents(): Promise<AgentListing[]> {
    return this.identity.list();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(); // batches already handed over are written, not lost with the connection
    this.closed = true;
    this.db.close();
  }
}
