// Plain data shared by the collector's modules. No behaviour, no imports: ingest fills these from the
// wire, store persists them, detect reads them, alerts publishes them.

/** The identity a credential maps to (config auth.agents[]). */
export interface AgentIdentity {
  readonly agentId: string;
  /** for an enrolled credential: the enrolment token it was issued for (a re-enrolment changes it) */
  readonly credentialId?: string;
}

/** One direction of a flow, numbers as on the wire (DirectionStats in proto/goalkeeper.proto). */
export interface DirectionStats {
  packets: number;
  ipBytes: number;
  payloadBytes: number;
  headerBytes: number;
  tcpFlags: number;
  synCount: number;
  finCount: number;
  rstCount: number;
  pshCount: number;
  ackCount: number;
  urgCount: number;
  initWindow: number;
  lenMin: number;
  lenMax: number;
  lenMean: number;
  lenM2: number;
  iatCount: number;
  iatMinUs: number;
  iatMaxUs: number;
  iatMeanUs: number;
  iatM2Us: number;
}

/** A validated flow as the collector keeps it. `src` is the initiator. */
export interface FlowRow {
  agentId: string;
  bootId: string;
  seq: number;
  flowId: number;
  /** 0, 1, 2… per flow: a long flow arrives as interim records, then a final one. */
  recordSeq: number;
  recordType: 'final' | 'interim';
  /** Community ID v1, empty when the agent did not send one. */
  communityId: string;
  /** Zeek conn_state for TCP, empty otherwise. */
  connState: string;
  /** Application names the agent saw (DNS query, TLS SNI, HTTP host…), null when none. */
  app: Record<string, unknown> | null;
  srcIp: string;
  dstIp: string;
  /**
   * The addresses as int32s when IPv4 (the 4 bytes big-endian, the value detect/flow-keys.ts's ipv4Key
   * reads from the text), NaN when IPv6. Set by the ingest decoder, which has the bytes at hand, so that
   * the detection pre-pass parses no address text; absent (or null after a JSON round trip) on rows
   * built elsewhere, which are parsed.
   */
  srcV4?: number;
  dstV4?: number;
  srcPort: number;
  dstPort: number;
  proto: number;
  /** null when the flow was not 802.1Q tagged */
  vlan: number | null;
  firstUs: number;
  lastUs: number;
  /** END_REASON_NAMES spelling: 'idle', 'end_of_flow', ... */
  endReason: string;
  fwd: DirectionStats;
  bwd: DirectionStats;
}

/** One validated batch: stored as a unit (all or nothing), named by (agentId, bootId, seq). */
export interface BatchRecord {
  agentId: string;
  bootId: string;
  seq: number;
  receivedUs: number;
  flows: FlowRow[];
}

export type PutBatchResult = 'stored' | 'duplicate';

/** What the store learns about an agent from Hello (identity fields) or Heartbeat (health). */
export interface AgentUpdate {
  agentId: string;
  lastSeenUs: number;
  bootId?: string;
  hostname?: string;
  softwareVersion?: string;
  source?: string;
  health?: Record<string, number>;
  /** Set: the agent went silent at this time (µs). Absent: the agent was heard from, so it is not silent. */
  silentSinceUs?: number;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * An alert as a detector raises it (no id yet). Field names are the JSON contract's, 1:1
 * (stdout, subscribers, alertsSince), so no mapping layer can drift from it.
 */
export interface NewAlert {
  category: string;
  severity: Severity;
  /** MITRE ATT&CK technique id, e.g. 'T1046' */
  attack_id: string | null;
  agent_id: string;
  src_ip: string | null;
  dst_ip: string | null;
  dst_port: number | null;
  /** seconds since the Unix epoch (float), flow time */
  first_ts: number;
  last_ts: number;
  score: number;
  threshold: number;
  evidence: Record<string, unknown>;
}

/** A stored alert: `id` grows monotonically, `ts` is wall-clock seconds when it was raised. */
export interface Alert extends NewAlert {
  id: number;
  ts: number;
}

/** The key order of the JSON contract: {id, ts, category, ..., evidence}. */
export function alertToJson(a: Alert): Alert {
  return {
    id: a.id,
    ts: a.ts,
    category: a.category,
    severity: a.severity,
    attack_id: a.attack_id,
    agent_id: a.agent_id,
    src_ip: a.src_ip,
    dst_ip: a.dst_ip,
    dst_port: a.dst_port,
    first_ts: a.first_ts,
    last_ts: a.last_ts,
    score: a.score,
    threshold: a.threshold,
    evidence: a.evidence,
  };
}
