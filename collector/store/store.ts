// The Store interface. Every method returns a Promise so that a server database (PostgreSQL) can
// implement it later without changing callers; the SQLite implementation answers synchronously inside.
//
// Contract for putBatch: the batch row and all its flows are written in ONE transaction. When the
// promise resolves with 'stored' the transaction has committed (durably, per the implementation's
// sync setting) and the caller may acknowledge the batch. 'duplicate' means (agentId, bootId, seq) was
// already stored; nothing was written. A rejected promise means nothing was written. A stored batch
// also advances the agent's last_seen_us, in the same transaction.
//
// The read-only queries below the writes serve the dashboard, the STIX export and the audit check.
import type { Alert, AgentUpdate, BatchRecord, NewAlert, PutBatchResult, Severity } from '../model';

/** Which alerts to return; every present field must match (an empty list matches nothing). */
export interface AlertFilter {
  readonly severities?: readonly Severity[];
  readonly categories?: readonly string[];
  readonly agents?: readonly string[];
  /** the alert's src_ip or dst_ip is one of these */
  readonly hosts?: readonly string[];
}

export interface AlertQuery {
  /** newest first, ids below this (paging backwards); absent: from the newest */
  readonly beforeId?: number;
  /** alerts raised at or after this wall-clock time (seconds) */
  readonly sinceTs?: number;
  readonly limit: number;
  readonly filter?: AlertFilter;
}

/** An agent as the store knows it (Hello, heartbeats, stored batches). */
export interface AgentView {
  agentId: string;
  lastSeenUs: number;
  bootId: string | null;
  hostname: string | null;
  softwareVersion: string | null;
  source: string | null;
  /** the last heartbeat's counters (packets_received, packets_dropped, ...), null before the first */
  health: Record<string, number> | null;
  /** packets of the flows in batches received within the rate window */
  recentPackets: number;
  recentFlows: number;
}

export interface TalkerRow {
  ip: string;
  bytes: number;
  packets: number;
  flows: number;
}

export interface TrafficBucket {
  /** bucket start, seconds (flow time) */
  ts: number;
  bytes: number;
  packets: number;
  flows: number;
}

/** A stored flow record as the dashboard and the evidence view show it. */
export interface FlowView {
  agentId: string;
  bootId: string;
  flowId: number;
  recordSeq: number;
  recordType: string;
  communityId: string | null;
  connState: string | null;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  firstTs: number;
  lastTs: number;
  fwdPackets: number;
  bwdPackets: number;
  fwdBytes: number;
  bwdBytes: number;
  tcpFlags: number;
  endReason: string;
  app: Record<string, unknown> | null;
}

/** One link of the audit chain (collector/audit/). */
export interface AuditEntry {
  seq: number;
  ts: number;
  kind: string;
  /** the payload exactly as stored (canonical JSON) */
  payloadJson: string;
  prevHash: string;
  hash: string;
}

/** A one-time enrolment token as stored: only the digest of its secret. */
export interface EnrolTokenRow {
  tokenId: string;
  secretSha256: string;
  /** the agent id the token is for; '' lets the agent choose (or be given a generated one) */
  name: string;
  createdUs: number;
  expiresUs: number;
  usedUs: number | null;
  usedBy: string | null;
}

/** A credential issued by enrolment. */
export interface AgentCredentialRow {
  agentId: string;
  secretSha256: string;
  tokenId: string;
  enrolledUs: number;
  hostname: string;
  revokedUs: number | null;
}

/** An agent the store knows of: enrolled, seen, or both. */
export interface AgentListing {
  agentId: string;
  credential: AgentCredentialRow | null;
  lastSeenUs: number | null;
  hostname: string | null;
  softwareVersion: string | null;
}

/**
 * What redeeming a token did. 'ok': the token is now used and the credential stored, in one
 * transaction. 'used' / 'expired': the token cannot be used (nothing written). 'agent_exists': the agent
 * id already holds a credential that is not revoked (nothing written).
 */
export type RedeemResult = 'ok' | 'used' | 'expired' | 'agent_exists';

/**
 * One partition's share of an agent batch in cluster mode (docs/scaling.md): the flows of the batch
 * whose source address hashes to partition `part`. Stored under (agentId, bootId, seq, part).
 */
export interface BatchPartRecord extends BatchRecord {
  part: number;
}

/** What storing a cluster alert did; 'id_taken': another alert (another key) holds that id. */
export type ClusterAlertResult = 'stored' | 'duplicate' | 'id_taken';

export interface Store {
  putBatch(batch: BatchRecord): Promise<PutBatchResult>;
  /** Stores the alert, assigning its id (monotonic, never reused) and `ts` (wall clock, seconds). */
  putAlert(alert: NewAlert, tsSecs: number): Promise<Alert>;
  /** Stored alerts with id > afterId, oldest first, at most `limit` (matching `filter` when given). */
  alertsSince(afterId: number, limit: number, filter?: AlertFilter): Promise<Alert[]>;
  touchAgent(update: AgentUpdate): Promise<void>;
  putEnrolToken(token: EnrolTokenRow): Promise<void>;
  enrolToken(tokenId: string): Promise<EnrolTokenRow | undefined>;
  /** Marks the token used by credential.agentId and stores the credential (replacing a revoked one). */
  redeemEnrolToken(tokenId: string, credential: AgentCredentialRow): Promise<RedeemResult>;
  agentCredential(agentId: string): Promise<AgentCredentialRow | undefined>;
  /** false when the agent has no credential or it is revoked already */
  revokeAgentCredential(agentId: string, nowUs: number): Promise<boolean>;
  /** Every enrolled or seen agent, by id. */
  listAgents(): Promise<AgentListing[]>;

  /** Newest first. */
  queryAlerts(q: AlertQuery): Promise<Alert[]>;
  alertById(id: number): Promise<Alert | undefined>;
  /** Alerts stored per category. */
  alertCounts(): Promise<Array<{ category: string; count: number; lastTs: number }>>;
  /** The flows an alert names in evidence.flow_ids (same agent, overlapping the alert's time window). */
  evidenceFlows(alert: Alert, limit: number): Promise<FlowView[]>;
  /** `rateWindowUs`: how far back recentPackets/recentFlows look (by batch receive time). */
  agents(nowUs: number, rateWindowUs: number): Promise<AgentView[]>;
  /** Latest flow end time stored (seconds), undefined when there are no flows. */
  latestFlowTs(): Promise<number | undefined>;
  /** Addresses by bytes sent + received in flows starting within [fromTs, toTs). */
  topTalkers(fromTs: number, toTs: number, limit: number): Promise<TalkerRow[]>;
  /** Flows starting within [fromTs, toTs), summed per bucket of `bucketSecs` (empty buckets left out). */
  traffic(fromTs: number, toTs: number, bucketSecs: number): Promise<TrafficBucket[]>;

  /** Appends one audit entry; fails (nothing written) when `entry.seq` is taken. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Entries with seq > afterSeq, in order, at most `limit`. */
  auditEntries(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  /** The newest entry, optionally of one kind. */
  lastAudit(kind?: string): Promise<AuditEntry | undefined>;

  close(): Promise<void>;

  // ---- a store shared by a cluster (PostgreSQL); absent on stores one process owns (SQLite) ----

  /**
   * Stores several batch parts in ONE transaction, each deduplicated by (agentId, bootId, seq, part)
   * as putBatch dedupes a batch; one result per part, in order. Rejected: nothing was written.
   */
  putParts?(parts: readonly BatchPartRecord[]): Promise<PutBatchResult[]>;
  /**
   * Stores an alert under the id the cluster gave it (its sequence in the alert stream) and its
   * deterministic key; nothing is written when that id or key is stored already.
   */
  putClusterAlert?(alert: Alert, key: string): Promise<ClusterAlertResult>;
}
