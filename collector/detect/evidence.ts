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

/** Numbers kept per evidence flow: flow id, source port, destination port, protocol, first µs. */
const FIELDS = 5;

/**
 * Flows a kept list has room for when first used; at the next flow it makes room for EVIDENCE_FLOWS.
 * Most keys see a flow or two, and a collector holds one list per key per detector for every agent:
 * made for EVIDENCE_FLOWS at once they held 262 of the 712 MB sampled live in a 1,000-agent collector's
 * heap. Doubling instead of one step to EVIDENCE_FLOWS cost a busy key four copies and a list far from
 * its state in memory: exfiltration and dns_tunnel took 25–35 % longer per flow in bench:detect.
 */
const FIRST_KEPT = 2;

/** The arrays a kept flow list writes into, with room for `flows`: numbers (FIELDS per flow) and addresses (2 per flow). */
function keptArrays(flows: number): [number[], string[]] {
  return [new Array<number>(FIELDS * flows).fill(0.5), new Array<string>(2 * flows).fill('')];
}

/** Writes `f`'s fields as kept flow `n`. */
function keep(nums: number[], ips: string[], n: number, f: FlowRow): void {
  const k = FIELDS * n;
  nums[k] = f.flowId;
  nums[k + 1] = f.srcPort;
  nums[k + 2] = f.dstPort;
  nums[k + 3] = f.proto;
  nums[k + 4] = f.firstUs;
  ips[2 * n] = f.srcIp;
  ips[2 * n + 1] = f.dstIp;
}

/** Kept flow `i` as a new FlowRef. */
function keptRef(nums: number[], ips: string[], i: number): FlowRef {
  const k = FIELDS * i;
  return { flow_id: nums[k], src_ip: ips[2 * i], src_port: nums[k + 1], dst_ip: ips[2 * i + 1], dst_port: nums[k + 2], proto: nums[k + 3], first_ts: nums[k + 4] / 1e6 };
}

/** The arrays a list of kept flows writes into, made small on first use and then for EVIDENCE_FLOWS. */
abstract class KeptFlows {
  protected nums: number[] | undefined;
  protected ips: string[] | undefined;

  /** Makes room for kept flow `n` (the flows before it are kept). */
  protected room(n: number): void {
    const nums = this.nums;
    const ips = this.ips;
    if (nums !== undefined && ips !== undefined) {
      if (FIELDS * n < nums.length) return;
      const [moreNums, moreIps] = keptArrays(EVIDENCE_FLOWS);
      for (let i = 0; i < FIELDS * n; i++) moreNums[i] = nums[i];
      for (let i = 0; i < 2 * n; i++) moreIps[i] = ips[i];
      this.nums = moreNums;
      this.ips = moreIps;
    } else [this.nums, this.ips] = keptArrays(FIRST_KEPT);
  }
}

/**
 * The flows behind an alert: the first EVIDENCE_FLOWS kept, all counted, time span tracked. The kept
 * flows' fields are written into arrays made on first use, grown once, reused after `clear`, and only turned
 * into FlowRefs when an alert reads `flows`: a detector whose state (and so its FlowEvidence) is
 * reused allocates nothing per flow here.
 */
export class FlowEvidence extends KeptFlows {
  count = 0;
  firstUs = Infinity;
  lastUs = -Infinity;
  private n = 0;

  add(f: FlowRow): void {
    this.count++;
    const n = this.n;
    if (n < EVIDENCE_FLOWS) {
      this.room(n);
      keep(this.nums!, this.ips!, n, f);
      this.n = n + 1;
    }
    if (f.firstUs < this.firstUs) this.firstUs = f.firstUs;
    if (f.lastUs > this.lastUs) this.lastUs = f.lastUs;
  }

  /** The kept flows, as new FlowRefs. */
  get flows(): FlowRef[] {
    const out: FlowRef[] = [];
    const nums = this.nums;
    const ips = this.ips;
    if (nums === undefined || ips === undefined) return out;
    for (let i = 0; i < this.n; i++) out.push(keptRef(nums, ips, i));
    return out;
  }

  clear(): void {
    this.n = 0;
    this.count = 0;
    this.firstUs = Infinity;
    this.lastUs = -Infinity;
  }
}

/**
 * The last EVIDENCE_FLOWS flows added (a ring), their fields kept as FlowEvidence keeps them: made
 * on first use and reused after `clear`, so adding a flow allocates nothing; `flows` turns them into
 * FlowRefs, oldest first, when an alert reads them.
 */
export class LastFlows extends KeptFlows {
  /** flows added since `clear` */
  private added = 0;

  add(f: FlowRow): void {
    const at = this.added % EVIDENCE_FLOWS;
    this.room(at); // grows only until the ring first wraps
    keep(this.nums!, this.ips!, at, f);
    this.added++;
  }

  /** The kept flows, oldest first, as new FlowRefs. */
  get flows(): FlowRef[] {
    const out: FlowRef[] = [];
    const nums = this.nums;
    const ips = this.ips;
    if (nums === undefined || ips === undefined) return out;
    const kept = Math.min(this.added, EVIDENCE_FLOWS);
    for (let j = this.added - kept; j < this.added; j++) out.push(keptRef(nums, ips, j % EVIDENCE_FLOWS));
    return out;
  }

  clear(): void {
    this.added = 0;
  }
}

/** What a detector says about an alert; the time window and the flow list come from its evidence. */
export type AlertParts = Omit<NewAlert, 'first_ts' | 'last_ts' | 'dst_port'> & { dst_port?: number | null };

/** The flows and time span an alert covers (a FlowEvidence, or built by hand). */
export interface EvidenceWindow {
  readonly flows: FlowRef[];
  readonly count: number;
  readonly firstUs: number;
  readonly lastUs: number;
}

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
    evidence: { ...p.evidence, flow_count: ev.count, flows: ev instanceof FlowEvidence ? ev.flows : ev.flows.slice() },
  };
}

export function round(x: number, digits = 4): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
