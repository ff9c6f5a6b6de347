// What every alert carries about the flows that triggered it: a bounded list of flow references
// (id + 5-tuple), so an analyst can find them in the store, and the common NewAlert fields.
import type { FlowRow, NewAlert } from '../model';

/** At most this many flows are listed in an alert's evidence (counts are always complete). */
export const EVIDENCE_FLOWS = 20;

export interface FlowRef {
  flow_id: number;
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  proto: number;
  first_ts: number;
}

export function flowRef(f: FlowRow): FlowRef {
  return { flow_id: f.flowId, src_ip: f.srcIp, src_port: f.srcPort, dst_ip: f.dstIp, dst_port: f.dstPort, proto: f.proto, first_ts: f.firstUs / 1e6 };
}

/** The flows behind an alert: the first EVIDENCE_FLOWS kept, all counted, time span tracked. */
export class FlowEvidence {
  readonly flows: FlowRef[] = [];
  count = 0;
  firstUs = Infinity;
  lastUs = -Infinity;

  add(f: FlowRow): void {
    this.count++;
    if (this.flows.length < EVIDENCE_FLOWS) this.flows.push(flowRef(f));
    if (f.firstUs < this.firstUs) this.firstUs = f.firstUs;
    if (f.lastUs > this.lastUs) this.lastUs = f.lastUs;
  }

  clear(): void {
    this.flows.length = 0;
    this.count = 0;
    this.firstUs = Infinity;
    this.lastUs = -Infinity;
  }
}

/** What a detector says about an alert; the time window and the flow list come from its evidence. */
export type AlertParts = Omit<NewAlert, 'first_ts' | 'last_ts' | 'dst_port'> & { dst_port?: number | null };

/** The flows and time span an alert covers (a FlowEvidence, or built by hand). */
export type EvidenceWindow = Pick<FlowEvidence, 'flows' | 'count' | 'firstUs' | 'lastUs'>;

/** A NewAlert whose time window and flow list come from `ev`. */
export function alertFrom(p: AlertParts, ev: EvidenceWindow): NewAlert {
  return {
    category: p.category,
    severity: p.severity,
    attack_id: p.attack_id,
    agent_id: p.agent_id,
    src_ip: p.src_ip,
    dst_ip: p.dst_ip,
    dst_port: p.dst_port ?? null,
    first_ts: ev.firstUs / 1e6,
    last_ts: ev.lastUs / 1e6,
    score: round(p.score),
    threshold: round(p.threshold),
    evidence: { ...p.evidence, flow_count: ev.count, flows: ev.flows.slice() },
  };
}

export function round(x: number, digits = 4): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
