// Row shapes shared by the SQLite and PostgreSQL stores (same column names in both schemas) and their
// mapping to the Store interface's types. Plain functions, no database access.
import type { Alert, DirectionStats, Severity } from '../model';
import type { AgentCredentialRow, AgentListing, AgentView, AuditEntry, EnrolTokenRow, FlowView } from './store';

/** An alerts row: the Alert's own names (its JSON contract), evidence as JSON text. */
export type AlertDbRow = Omit<Alert, 'severity' | 'evidence'> & { severity: string; evidence_json: string };

/** DirectionStats as stored in flows.stats_json: the wire's snake_case names. */
export function statsJson(s: DirectionStats): Record<string, number> {
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

export function rowToAlert(r: AlertDbRow): Alert {
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

export interface FlowDbRow {
  agent_id: string;
  boot_id: string;
  flow_id: number;
  record_seq: number;
  record_type: string;
  community_id: string | null;
  conn_state: string | null;
  src_ip: string;
  dst_ip: string;
  src_port: number;
  dst_port: number;
  proto: number;
  first_ts: number;
  last_ts: number;
  fwd_packets: number;
  bwd_packets: number;
  fwd_ip_bytes: number;
  bwd_ip_bytes: number;
  tcp_flags: number;
  end_reason: string;
  app_json: string | null;
}

export function rowToFlow(r: FlowDbRow): FlowView {
  return {
    agentId: r.agent_id, bootId: r.boot_id, flowId: r.flow_id, recordSeq: r.record_seq, recordType: r.record_type,
    communityId: r.community_id, connState: r.conn_state, srcIp: r.src_ip, dstIp: r.dst_ip, srcPort: r.src_port,
    dstPort: r.dst_port, proto: r.proto, firstTs: r.first_ts, lastTs: r.last_ts, fwdPackets: r.fwd_packets,
    bwdPackets: r.bwd_packets, fwdBytes: r.fwd_ip_bytes, bwdBytes: r.bwd_ip_bytes, tcpFlags: r.tcp_flags,
    endReason: r.end_reason, app: r.app_json ? (JSON.parse(r.app_json) as Record<string, unknown>) : null,
  };
}

export interface AuditDbRow {
  seq: number;
  ts: number;
  kind: string;
  payload_json: string;
  prev_hash: string;
  hash: string;
}

export function rowToAudit(r: AuditDbRow): AuditEntry {
  return { seq: r.seq, ts: r.ts, kind: r.kind, payloadJson: r.payload_json, prevHash: r.prev_hash, hash: r.hash };
}

export interface TokenDbRow {
  token_id: string;
  secret_sha256: string;
  name: string;
  created_us: number;
  expires_us: number;
  used_us: number | null;
  used_by: string | null;
}

export interface CredentialDbRow {
  agent_id: string;
  secret_sha256: string;
  token_id: string;
  enrolled_us: number;
  hostname: string;
  revoked_us: number | null;
}

export type ListingDbRow = { [K in keyof CredentialDbRow]: CredentialDbRow[K] | null } & {
  id: string;
  last_seen_us: number | null;
  seen_hostname: string | null;
  software_version: string | null;
};

export function tokenFromDb(r: TokenDbRow): EnrolTokenRow {
  return {
    tokenId: r.token_id, secretSha256: r.secret_sha256, name: r.name, createdUs: r.created_us,
    expiresUs: r.expires_us, usedUs: r.used_us, usedBy: r.used_by,
  };
}

export function credentialFromDb(r: CredentialDbRow): AgentCredentialRow {
  return {
    agentId: r.agent_id, secretSha256: r.secret_sha256, tokenId: r.token_id, enrolledUs: r.enrolled_us,
    hostname: r.hostname, revokedUs: r.revoked_us,
  };
}

export function listingFromDb(r: ListingDbRow): AgentListing {
  return {
    agentId: r.id,
    credential: r.agent_id === null ? null : credentialFromDb(r as CredentialDbRow),
    lastSeenUs: r.last_seen_us,
    hostname: r.seen_hostname,
    softwareVersion: r.software_version,
  };
}

/** The agents() query's row: an agents row plus the recent counts. */
export interface AgentViewDbRow {
  agent_id: string;
  last_seen_us: number;
  boot_id: string | null;
  hostname: string | null;
  software_version: string | null;
  source: string | null;
  health_json: string | null;
  recent_packets: number;
  recent_flows: number;
}

export function rowToAgentView(r: AgentViewDbRow): AgentView {
  return {
    agentId: r.agent_id,
    lastSeenUs: r.last_seen_us,
    bootId: r.boot_id,
    hostname: r.hostname,
    softwareVersion: r.software_version,
    source: r.source,
    health: r.health_json ? (JSON.parse(r.health_json) as Record<string, number>) : null,
    recentPackets: r.recent_packets,
    recentFlows: r.recent_flows,
  };
}
