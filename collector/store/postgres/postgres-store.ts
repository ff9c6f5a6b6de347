// Store on a PostgreSQL server (the `pg` client, a connection pool), for deployments where several
// collectors share one database. Same contract as SqliteStore (store.ts): putBatch writes the batch row
// and all its flows in one transaction and resolves 'stored' only after COMMIT (synchronous_commit is
// the server's; its default `on` waits for the WAL flush), so the ack that follows is safe.
//
// Exactly-once across collectors: batches' primary key (agent_id, boot_id, seq, part); a whole batch
// has part -1, cluster workers store a batch's parts (putParts, docs/scaling.md). Two collectors given
// the same batch both INSERT ... ON CONFLICT DO NOTHING; the second blocks on the key until the first
// commits, then inserts nothing and answers 'duplicate' (or stores it, if the first rolled back).
// Batches and flows go in as INSERT ... SELECT FROM unnest($1::text[], ...): one statement each, for
// one batch or many parts. The agents' last_seen rows are updated last and in agent id order, so two
// workers' transactions touching the same agents lock them in the same order (no deadlock).
//
// Alert ids: an identity column, assigned under a transaction-level advisory lock, so ids become
// visible in id order on every collector and a subscriber resuming "after id N" never skips one that
// was still uncommitted when it read. In cluster mode the id is the alert stream's sequence instead
// (putClusterAlert) and subscribers resume from the stream, not from this table.
import { Pool, type ClientConfig, type PoolClient } from 'pg';
import { CollectorError, CollectorErrorCode, errorMessage } from '../../errors';
import type { AgentUpdate, Alert, BatchRecord, FlowRow, NewAlert, PutBatchResult } from '../../model';
import {
  rowToAgentView, rowToAlert, rowToAudit, rowToFlow, statsJson, type AgentViewDbRow, type AlertDbRow, type AuditDbRow, type FlowDbRow,
} from '../rows';
import type {
  AgentCredentialRow, AgentListing, AgentView, AlertFilter, AlertQuery, AuditEntry, BatchPartRecord, ClusterAlertResult, EnrolTokenRow,
  FlowView, RedeemResult, Store, TalkerRow, TrafficBucket,
} from '../store';
import { IdentityQueries } from './identity-queries';
import { FlowPartitions } from './partitions';
import { migrate } from './schema';
import { inTransaction } from './transaction';
import { PG_TYPES } from './types';

export interface PostgresStoreOptions {
  /** how to reach the server: host (a name, an address or a socket folder), port, database, user, password, ssl… */
  connection: ClientConfig;
  poolSize: number;
  /** width of one flows partition */
  partitionDays: number;
  /** partitions that end more than this many days ago are dropped; 0 keeps everything */
  retentionDays: number;
  /** how often the retention sweep runs (default one hour) */
  retentionCheckMs?: number;
  /** failures of background work (retention sweep, an idle connection dropped by the server) */
  onBackgroundError?: (err: CollectorError) => void;
  /** the retention sweep dropped these flows partitions (not called when it dropped none) */
  onPartitionsDropped?: (names: string[]) => void;
}

/** Advisory lock key under which alert ids are assigned. */
const ALERT_LOCK = 0x676b_616c; // 'gkal'
/** SQLSTATE 23514 with this text: a row whose partition does not exist (dropped by another collector). */
const NO_PARTITION = /no partition of relation/;

/** Where the store is, for messages: never the password. */
function describe(c: ClientConfig): string {
  return `${c.host ?? 'localhost'}${c.port ? `:${c.port}` : ''}/${c.database ?? ''}`;
}

/** SQL condition for an AlertFilter, its values appended to `params` (always valid; 'true' when unfiltered). */
function filterSql(f: AlertFilter | undefined, params: unknown[]): string {
  const parts: string[] = [];
  const param = (v: readonly string[]): string => {
    params.push([...v]);
    return `$${params.length}::text[]`;
  };
  if (f?.severities) parts.push(`severity = ANY(${param(f.severities)})`);
  if (f?.categories) parts.push(`category = ANY(${param(f.categories)})`);
  if (f?.agents) parts.push(`agent_id = ANY(${param(f.agents)})`);
  if (f?.hosts) {
    const p = param(f.hosts);
    parts.push(`(src_ip = ANY(${p}) OR dst_ip = ANY(${p}))`);
  }
  return parts.length ? parts.join(' AND ') : 'true';
}

const FLOW_COLUMNS = [
  ['agent_id', 'text'], ['boot_id', 'text'], ['seq', 'bigint'], ['flow_id', 'bigint'], ['record_seq', 'integer'],
  ['record_type', 'text'], ['community_id', 'text'], ['conn_state', 'text'], ['src_ip', 'text'], ['dst_ip', 'text'],
  ['src_port', 'integer'], ['dst_port', 'integer'], ['proto', 'integer'], ['vlan', 'integer'], ['first_ts', 'float8'],
  ['last_ts', 'float8'], ['fwd_packets', 'bigint'], ['bwd_packets', 'bigint'], ['fwd_ip_bytes', 'bigint'],
  ['bwd_ip_bytes', 'bigint'], ['fwd_payload_bytes', 'bigint'], ['bwd_payload_bytes', 'bigint'], ['tcp_flags', 'integer'],
  ['end_reason', 'text'], ['stats_json', 'text'], ['app_json', 'text'],
] as const;

const INSERT_FLOWS = `INSERT INTO flows (${FLOW_COLUMNS.map((c) => c[0]).join(', ')})
  SELECT * FROM unnest(${FLOW_COLUMNS.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ')})
  ON CONFLICT (agent_id, boot_id, flow_id, record_seq, first_ts) DO NOTHING`;

/** One array per flows column, in FLOW_COLUMNS order. */
function flowArrays(flows: readonly FlowRow[]): unknown[][] {
  const cols: unknown[][] = FLOW_COLUMNS.map(() => new Array<unknown>(flows.length));
  flows.forEach((f, i) => {
    const values = [
      f.agentId, f.bootId, f.seq, f.flowId, f.recordSeq, f.recordType, f.communityId || null, f.connState || null,
      f.srcIp, f.dstIp, f.srcPort, f.dstPort, f.proto, f.vlan,
      f.firstUs / 1e6, f.lastUs / 1e6, f.fwd.packets, f.bwd.packets, f.fwd.ipBytes, f.bwd.ipBytes,
      f.fwd.payloadBytes, f.bwd.payloadBytes, (f.fwd.tcpFlags | f.bwd.tcpFlags) >>> 0, f.endReason,
      JSON.stringify({ fwd: statsJson(f.fwd), bwd: statsJson(f.bwd) }), f.app ? JSON.stringify(f.app) : null,
    ];
    for (let c = 0; c < values.length; c++) cols[c][i] = values[c];
  });
  return cols;
}

const INSERT_BATCHES = `INSERT INTO batches (agent_id, boot_id, seq, part, received_us, flow_count)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::bigint[], $6::integer[])
  ON CONFLICT (agent_id, boot_id, seq, part) DO NOTHING RETURNING agent_id, boot_id, seq, part`;

const TOUCH_AGENTS = `INSERT INTO agents (agent_id, last_seen_us) SELECT * FROM unnest($1::text[], $2::bigint[])
  ON CONFLICT (agent_id) DO UPDATE SET last_seen_us = greatest(agents.last_seen_us, excluded.last_seen_us), silent_since_us = NULL`;

function partKey(p: { agent_id: string; boot_id: string; seq: number; part: number }): string {
  return `${p.agent_id}\u0000${p.boot_id}\u0000${p.seq}\u0000${p.part}`;
}

const ALERT_COLUMNS = 'ts, category, severity, attack_id, agent_id, src_ip, dst_ip, dst_port, first_ts, last_ts, score, threshold, evidence_json';

/** The values of ALERT_COLUMNS, in order ($1..$13). */
function alertValues(a: NewAlert, tsSecs: number): unknown[] {
  return [tsSecs, a.category, a.severity, a.attack_id, a.agent_id, a.src_ip, a.dst_ip, a.dst_port,
    a.first_ts, a.last_ts, a.score, a.threshold, JSON.stringify(a.evidence)];
}

export class PostgresStore implements Store {
  private readonly partitions: FlowPartitions;
  private readonly identity: IdentityQueries;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly pool: Pool, private readonly opts: PostgresStoreOptions) {
    this.partitions = new FlowPartitions(opts.partitionDays);
    this.identity = new IdentityQueries(pool);
  }

  /** Connects, applies missing migrations, runs a first retention sweep and starts the periodic one. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const where = describe(opts.connection);
    const pool = new Pool({ ...opts.connection, max: opts.poolSize, types: PG_TYPES, connectionTimeoutMillis: 10_000 });
    const store = new PostgresStore(pool, opts);
    pool.on('error', (err) => store.background(`PostgreSQL connection to ${where} failed`, err));
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new CollectorError(CollectorErrorCode.STORE_OPEN, `cannot connect to PostgreSQL store ${where}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await migrate(client, where);
      if (opts.retentionDays > 0) store.reportDropped(await store.sweep(client, Date.now() / 1000));
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (err instanceof CollectorError) throw err;
      throw new CollectorError(CollectorErrorCode.STORE_SCHEMA, `cannot migrate PostgreSQL store ${where}: ${errorMessage(err)}`, { cause: err });
    }
    client.release();
    if (opts.retentionDays > 0) {
      store.sweepTimer = setInterval(() => {
        store.dropExpired(Date.now() / 1000).then((names) => store.reportDropped(names), (err) => store.background('retention sweep failed', err));
      }, opts.retentionCheckMs ?? 3_600_000);
      store.sweepTimer.unref();
    }
    return store;
  }

  private background(what: string, err: unknown): void {
    this.opts.onBackgroundError?.(new CollectorError(CollectorErrorCode.STORE_WRITE, `${what}: ${errorMessage(err)}`, { cause: err }));
  }

  private reportDropped(names: string[]): void {
    if (names.length > 0) this.opts.onPartitionsDropped?.(names);
  }

  private writeError(what: string, err: unknown): CollectorError {
    return new CollectorError(CollectorErrorCode.STORE_WRITE, `${what}: ${errorMessage(err)}`, { cause: err });
  }

  /**
   * Retention: drops the flows partitions that end before now − retention_days, and the batch keys
   * received before then (a batch that old is past any agent's resend). Returns the partitions dropped.
   */
  async dropExpired(nowSecs: number): Promise<string[]> {
    if (this.opts.retentionDays <= 0) return [];
    const client = await this.pool.connect();
    try {
      return await this.sweep(client, nowSecs);
    } finally {
      client.release();
    }
  }

  private async sweep(client: PoolClient, nowSecs: number): Promise<string[]> {
    const horizon = nowSecs - this.opts.retentionDays * 86_400;
    const dropped = await this.partitions.dropBefore(client, horizon);
    await client.query('DELETE FROM batches WHERE received_us < $1', [Math.floor(horizon * 1e6)]);
    return dropped;
  }

  async putBatch(batch: BatchRecord): Promise<PutBatchResult> {
    const what = `batch ${batch.agentId}/${batch.bootId}/${batch.seq}`;
    return (await this.writeRetried(what, [{ ...batch, part: -1 }]))[0];
  }

  async putParts(parts: readonly BatchPartRecord[]): Promise<PutBatchResult[]> {
    if (parts.length === 0) return [];
    const p = parts[0];
    return this.writeRetried(`${parts.length} batch part(s) from ${p.agentId}/${p.bootId}/${p.seq}/${p.part}`, parts);
  }

  private async writeRetried(what: string, parts: readonly BatchPartRecord[]): Promise<PutBatchResult[]> {
    try {
      return await this.writeParts(parts);
    } catch (err) {
      if (!NO_PARTITION.test(errorMessage(err))) throw this.writeError(`cannot store ${what}`, err);
    }
    // Another collector dropped a partition this one had cached: look again, once.
    this.partitions.forget();
    try {
      return await this.writeParts(parts);
    } catch (err) {
      throw this.writeError(`cannot store ${what}`, err);
    }
  }

  /** The batch rows first (the new ones come back), then the flows of the new ones, then their agents. */
  private async writeParts(parts: readonly BatchPartRecord[]): Promise<PutBatchResult[]> {
    const allFlows = parts.length === 1 ? parts[0].flows : parts.flatMap((p) => p.flows);
    if (allFlows.length > 0) {
      const client = await this.pool.connect();
      try {
        await this.partitions.ensure(client, allFlows);
      } finally {
        client.release();
      }
    }
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ agent_id: string; boot_id: string; seq: number; part: number }>(INSERT_BATCHES, [
        parts.map((p) => p.agentId), parts.map((p) => p.bootId), parts.map((p) => p.seq), parts.map((p) => p.part),
        parts.map((p) => p.receivedUs), parts.map((p) => p.flows.length),
      ]);
      const inserted = new Set(rows.map(partKey));
      const flows: FlowRow[] = [];
      const lastSeen = new Map<string, number>();
      // A key given twice in one call is inserted once: the first of them is 'stored'.
      const results = parts.map((p): PutBatchResult => {
        if (!inserted.delete(partKey({ agent_id: p.agentId, boot_id: p.bootId, seq: p.seq, part: p.part }))) return 'duplicate';
        for (const f of p.flows) flows.push(f);
        lastSeen.set(p.agentId, Math.max(lastSeen.get(p.agentId) ?? 0, p.receivedUs));
        return 'stored';
      });
      if (flows.length > 0) await client.query(INSERT_FLOWS, flowArrays(flows));
      if (lastSeen.size > 0) {
        const agents = [...lastSeen.keys()].sort();
        await client.query(TOUCH_AGENTS, [agents, agents.map((a) => lastSeen.get(a))]);
      }
      return results;
    });
  }

  async putAlert(a: NewAlert, tsSecs: number): Promise<Alert> {
    try {
      const id = await inTransaction(this.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [ALERT_LOCK]);
        const r = await client.query<{ id: number }>(
          `INSERT INTO alerts (${ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
          alertValues(a, tsSecs),
        );
        return r.rows[0].id;
      });
      return { ...a, id, ts: tsSecs };
    } catch (err) {
      throw this.writeError(`cannot store alert ${a.category}`, err);
    }
  }

  async putClusterAlert(a: Alert, key: string): Promise<ClusterAlertResult> {
    try {
      const r = await this.pool.query(
        `INSERT INTO alerts (id, ${ALERT_COLUMNS}, alert_key) OVERRIDING SYSTEM VALUE
         VALUES ($14, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15) ON CONFLICT DO NOTHING`,
        [...alertValues(a, a.ts), a.id, key],
      );
      if (r.rowCount === 1) return 'stored';
      // The key known under another id: the same alert published again after the stream's duplicate window.
      const { rows } = await this.pool.query<{ alert_key: string | null }>('SELECT alert_key FROM alerts WHERE id = $1', [a.id]);
      return rows.length === 0 || rows[0].alert_key === key ? 'duplicate' : 'id_taken';
    } catch (err) {
      throw this.writeError(`cannot store cluster alert ${a.id} (${a.category})`, err);
    }
  }

  private async alerts(sql: string, params: unknown[]): Promise<Alert[]> {
    return (await this.pool.query<AlertDbRow>(sql, params)).rows.map(rowToAlert);
  }

  async alertsSince(afterId: number, limit: number, filter?: AlertFilter): Promise<Alert[]> {
    const params: unknown[] = [afterId, limit];
    return this.alerts(`SELECT * FROM alerts WHERE id > $1 AND ${filterSql(filter, params)} ORDER BY id LIMIT $2`, params);
  }

  async queryAlerts(q: AlertQuery): Promise<Alert[]> {
    const params: unknown[] = [q.beforeId ?? Number.MAX_SAFE_INTEGER, q.sinceTs ?? -1e308, q.limit];
    return this.alerts(`SELECT * FROM alerts WHERE id < $1 AND ts >= $2 AND ${filterSql(q.filter, params)} ORDER BY id DESC LIMIT $3`, params);
  }

  async alertById(id: number): Promise<Alert | undefined> {
    return (await this.alerts('SELECT * FROM alerts WHERE id = $1', [id]))[0];
  }

  async alertCounts(): Promise<Array<{ category: string; count: number; lastTs: number }>> {
    const { rows } = await this.pool.query<{ category: string; count: number; lastTs: number }>(
      'SELECT category, count(*) AS count, max(ts) AS "lastTs" FROM alerts GROUP BY category ORDER BY category COLLATE "C"',
    );
    return rows;
  }

  async evidenceFlows(alert: Alert, limit: number): Promise<FlowView[]> {
    const ids = Array.isArray(alert.evidence.flow_ids)
      ? (alert.evidence.flow_ids as unknown[]).filter((x): x is number => Number.isSafeInteger(x)).slice(0, limit)
      : [];
    if (ids.length === 0) return [];
    // flow ids are per agent boot; the alert's time window (with a minute of slack) picks the right boot.
    const { rows } = await this.pool.query<FlowDbRow>(
      `SELECT * FROM flows WHERE agent_id = $1 AND flow_id = ANY($2::bigint[])
         AND last_ts >= $3 AND first_ts <= $4 ORDER BY first_ts, flow_id, record_seq LIMIT $5`,
      [alert.agent_id, ids, alert.first_ts - 60, alert.last_ts + 60, limit],
    );
    return rows.map(rowToFlow);
  }

  /** Recent flows through the recent batch keys (DISTINCT: a batch stored in parts has a row per part). */
  async agents(nowUs: number, rateWindowUs: number): Promise<AgentView[]> {
    const { rows } = await this.pool.query<AgentViewDbRow>(
      `SELECT a.*, coalesce(r.packets, 0) AS recent_packets, coalesce(r.flows, 0) AS recent_flows
       FROM agents a LEFT JOIN (
         SELECT f.agent_id, sum(f.fwd_packets + f.bwd_packets) AS packets, count(*) AS flows
         FROM (SELECT DISTINCT agent_id, boot_id, seq FROM batches WHERE received_us >= $1) b
         JOIN flows f ON f.agent_id = b.agent_id AND f.boot_id = b.boot_id AND f.seq = b.seq
         GROUP BY f.agent_id
       ) r ON r.agent_id = a.agent_id ORDER BY a.agent_id COLLATE "C"`,
      [nowUs - rateWindowUs],
    );
    return rows.map(rowToAgentView);
  }

  async latestFlowTs(): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ ts: number | null }>('SELECT max(last_ts) AS ts FROM flows');
    return rows[0].ts ?? undefined;
  }

  async topTalkers(fromTs: number, toTs: number, limit: number): Promise<TalkerRow[]> {
    const { rows } = await this.pool.query<TalkerRow>(
      `SELECT ip, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows FROM (
         SELECT src_ip AS ip, fwd_ip_bytes + bwd_ip_bytes AS bytes, fwd_packets + bwd_packets AS packets
           FROM flows WHERE first_ts >= $1 AND first_ts < $2
         UNION ALL
         SELECT dst_ip, fwd_ip_bytes + bwd_ip_bytes, fwd_packets + bwd_packets
           FROM flows WHERE first_ts >= $1 AND first_ts < $2
       ) t GROUP BY ip ORDER BY bytes DESC, ip COLLATE "C" LIMIT $3`,
      [fromTs, toTs, limit],
    );
    return rows;
  }

  async traffic(fromTs: number, toTs: number, bucketSecs: number): Promise<TrafficBucket[]> {
    const { rows } = await this.pool.query<TrafficBucket>(
      `SELECT floor((first_ts - $1::float8) / $3::float8) * $3::float8 + $1::float8 AS ts, sum(fwd_ip_bytes + bwd_ip_bytes) AS bytes,
         sum(fwd_packets + bwd_packets) AS packets, count(*) AS flows
       FROM flows WHERE first_ts >= $1::float8 AND first_ts < $2::float8 GROUP BY 1 ORDER BY 1`,
      [fromTs, toTs, bucketSecs],
    );
    return rows;
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO audit_chain (seq, ts, kind, payload_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)',
        [e.seq, e.ts, e.kind, e.payloadJson, e.prevHash, e.hash],
      );
    } catch (err) {
      throw this.writeError(`cannot append audit entry ${e.seq}`, err);
    }
  }

  async auditEntries(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditDbRow>('SELECT * FROM audit_chain WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit]);
    return rows.map(rowToAudit);
  }

  async lastAudit(kind?: string): Promise<AuditEntry | undefined> {
    const { rows } = kind === undefined
      ? await this.pool.query<AuditDbRow>('SELECT * FROM audit_chain ORDER BY seq DESC LIMIT 1')
      : await this.pool.query<AuditDbRow>('SELECT * FROM audit_chain WHERE kind = $1 ORDER BY seq DESC LIMIT 1', [kind]);
    return rows[0] && rowToAudit(rows[0]);
  }

  async touchAgent(u: AgentUpdate): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO agents (agent_id, last_seen_us, boot_id, hostname, software_version, source, health_json, silent_since_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (agent_id) DO UPDATE SET
           last_seen_us = greatest(agents.last_seen_us, excluded.last_seen_us),
           silent_since_us = excluded.silent_since_us,
           boot_id = coalesce(excluded.boot_id, agents.boot_id),
           hostname = coalesce(excluded.hostname, agents.hostname),
           software_version = coalesce(excluded.software_version, agents.software_version),
           source = coalesce(excluded.source, agents.source),
           health_json = coalesce(excluded.health_json, agents.health_json)`,
        [u.agentId, u.lastSeenUs, u.bootId ?? null, u.hostname ?? null, u.softwareVersion ?? null, u.source ?? null,
          u.health ? JSON.stringify(u.health) : null, u.silentSinceUs ?? null],
      );
    } catch (err) {
      throw this.writeError(`cannot update agent ${u.agentId}`, err);
    }
  }

  /** Runs a write, wrapping any failure as COLL_ERR_STORE_WRITE naming `what`. */
  private async written<T>(what: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      throw this.writeError(what, err);
    }
  }

  putEnrolToken(token: EnrolTokenRow): Promise<void> {
    return this.written('cannot store enrolment token', () => this.identity.putToken(token));
  }

  enrolToken(tokenId: string): Promise<EnrolTokenRow | undefined> {
    return this.identity.token(tokenId);
  }

  redeemEnrolToken(tokenId: string, credential: AgentCredentialRow): Promise<RedeemResult> {
    return this.written(`cannot store the credential of agent ${credential.agentId}`, () => this.identity.redeem(tokenId, credential));
  }

  agentCredential(agentId: string): Promise<AgentCredentialRow | undefined> {
    return this.identity.credential(agentId);
  }

  revokeAgentCredential(agentId: string, nowUs: number): Promise<boolean> {
    return this.written(`cannot revoke agent ${agentId}`, () => this.identity.revoke(agentId, nowUs));
  }

  listAgents(): Promise<AgentListing[]> {
    return this.identity.list();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    await this.pool.end();
  }
}
