// Store on one SQLite file (better-sqlite3): WAL journal, prepared statements, one transaction per batch.
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
import type { AgentUpdate, Alert, BatchRecord, DirectionStats, NewAlert, PutBatchResult, Severity } from '../../model';
import type { Store } from '../store';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

export interface SqliteStoreOptions {
  /** file path or ':memory:' */
  path: string;
  synchronous?: 'full' | 'normal';
  busyTimeoutMs?: number;
}

interface AlertDbRow {
  id: number;
  ts: number;
  category: string;
  severity: string;
  attack_id: string | null;
  agent_id: string;
  src_ip: string | null;
  dst_ip: string | null;
  dst_port: number | null;
  first_ts: number;
  last_ts: number;
  score: number;
  threshold: number;
  evidence_json: string;
}

/** DirectionStats as stored in flows.stats_json: the wire's snake_case names. */
function statsJson(s: DirectionStats): Record<string, number> {
  return {
    packets: s.packets,
    ip_bytes: s.ipBytes,
    payload_bytes: s.payloadBytes,
    header_bytes: s.headerBytes,
    tcp_flags: s.tcpFlags,
    syn_count: s.synCount,
    fin_count: s.finCount,
    rst_count: s.rstCount,
    psh_count: s.pshCount,
    ack_count: s.ackCount,
    urg_count: s.urgCount,
    init_window: s.initWindow,
    len_min: s.lenMin,
    len_max: s.lenMax,
    len_mean: s.lenMean,
    len_m2: s.lenM2,
    iat_count: s.iatCount,
    iat_min_us: s.iatMinUs,
    iat_max_us: s.iatMaxUs,
    iat_mean_us: s.iatMeanUs,
    iat_m2_us: s.iatM2Us,
  };
}

function rowToAlert(r: AlertDbRow): Alert {
  return {
    id: r.id,
    ts: r.ts,
    category: r.category,
    severity: r.severity as Severity,
    attack_id: r.attack_id,
    agent_id: r.agent_id,
    src_ip: r.src_ip,
    dst_ip: r.dst_ip,
    dst_port: r.dst_port,
    first_ts: r.first_ts,
    last_ts: r.last_ts,
    score: r.score,
    threshold: r.threshold,
    evidence: JSON.parse(r.evidence_json) as Record<string, unknown>,
  };
}

function openDatabase(opts: SqliteStoreOptions): Database.Database {
  try {
    if (opts.path !== ':memory:') fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    const db = new Database(opts.path);
    db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
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

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly insertBatch: Database.Statement;
  private readonly upsertFlow: Database.Statement;
  private readonly insertAlert: Database.Statement;
  private readonly selectAlerts: Database.Statement;
  private readonly upsertAgent: Database.Statement;
  private readonly agentSeen: Database.Statement;
  private readonly writeBatch: (batch: BatchRecord) => PutBatchResult;
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
      `INSERT INTO batches (agent_id, boot_id, seq, received_us, flow_count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (agent_id, boot_id, seq) DO NOTHING`,
    );
    // A long flow arrives as several records (interim ones, then the final one), each stored as its own
    // row. The same (flow_id, record_seq) again can only be a resent batch, already caught by the batch
    // key; ignoring it keeps the store idempotent even so.
    this.upsertFlow = db.prepare(
      `INSERT INTO flows (agent_id, boot_id, seq, flow_id, record_seq, record_type, community_id, conn_state,
         src_ip, dst_ip, src_port, dst_port, proto, vlan,
         first_ts, last_ts, fwd_packets, bwd_packets, fwd_ip_bytes, bwd_ip_bytes, fwd_payload_bytes,
         bwd_payload_bytes, tcp_flags, end_reason, stats_json, app_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent_id, boot_id, flow_id, record_seq) DO NOTHING`,
    );
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
    this.writeBatch = db.transaction((b: BatchRecord): PutBatchResult => {
      const r = this.insertBatch.run(b.agentId, b.bootId, b.seq, b.receivedUs, b.flows.length);
      if (r.changes === 0) return 'duplicate';
      this.agentSeen.run(b.agentId, b.receivedUs);
      for (const f of b.flows) {
        this.upsertFlow.run(
          f.agentId, f.bootId, f.seq, f.flowId, f.recordSeq, f.recordType, f.communityId || null, f.connState || null,
          f.srcIp, f.dstIp, f.srcPort, f.dstPort, f.proto, f.vlan,
          f.firstUs / 1e6, f.lastUs / 1e6, f.fwd.packets, f.bwd.packets, f.fwd.ipBytes, f.bwd.ipBytes,
          f.fwd.payloadBytes, f.bwd.payloadBytes, (f.fwd.tcpFlags | f.bwd.tcpFlags) >>> 0, f.endReason,
          JSON.stringify({ fwd: statsJson(f.fwd), bwd: statsJson(f.bwd) }),
          f.app ? JSON.stringify(f.app) : null,
        );
      }
      return 'stored';
    });
  }

  private writeError(what: string, err: unknown): CollectorError {
    return new CollectorError(CollectorErrorCode.STORE_WRITE, `${what}: ${errorMessage(err)}`, { cause: err });
  }

  async putBatch(batch: BatchRecord): Promise<PutBatchResult> {
    try {
      return this.writeBatch(batch);
    } catch (err) {
      throw this.writeError(`cannot store batch ${batch.agentId}/${batch.bootId}/${batch.seq}`, err);
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

  async alertsSince(afterId: number, limit: number): Promise<Alert[]> {
    return (this.selectAlerts.all(afterId, limit) as AlertDbRow[]).map(rowToAlert);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
