// Port scan (MITRE ATT&CK T1046, Network Service Discovery).
//
// What counts: TCP flows that are connection ATTEMPTS by their initiator (src):
//   - the initiator sent a SYN (fwd.syn_count > 0, or SYN 0x02 in fwd.tcp_flags), and
//   - the initiator sent no transport payload (fwd.payload_bytes == 0), and
//   - not SYN-ACK backscatter: when every packet the initiator sent was a SYN that also carried ACK
//     (fwd.syn_count >= fwd.packets and fwd.ack_count >= fwd.syn_count; or, without counts, a single
//     packet flagged SYN|ACK), the "initiator" is answering a SYN we never saw (a spoofed-source flood
//     elsewhere), not probing. Flows that start with RST or a bare ACK have no SYN and never count.
//
// Per (agent, source ip, destination ip) the detector counts DISTINCT destination ports of such
// attempts within a sliding window of `window_secs` of FLOW time (flow first_us, not the wall clock:
// captures are replayed at any speed). When the count reaches `min_ports` it raises one alert
// (severity medium). The alert also takes in the same (src, dst) pair's further attempts from the rest
// of that batch, up to one window after the crossing, so `score` (distinct ports) can exceed the
// threshold for a fast scan. After an alert the pair is suppressed for `suppress_secs` of flow time
// (probes in that period are neither counted nor alerted); counting then starts from zero.
//
// The pair is keyed by agent too: two gateways may see different private networks that use the same
// addresses.
//
// Thresholds (config detect.port_scan, defaults):
//   min_ports          5        distinct destination ports (count)
//   window_secs        300      seconds of flow time
//   suppress_secs      3600     seconds of flow time
//   max_tracked_pairs  100000   (agent, src, dst) pairs per agent (slot-table.ts); the least
//                               recently probed half is forgotten first
// Fixed bounds: at most 4096 attempts remembered per pair (oldest dropped first); evidence lists at
// most 100 ports and 100 flow ids, and the first 20 flows with their 5-tuples (`flows`, as every
// detector's evidence).
import type { FlowRow, NewAlert } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { EVIDENCE_FLOWS, type FlowRef } from './evidence';
import { ATTEMPT, FlowKeys } from './flow-keys';
import { SlotStates } from './slot-table';
import { indexesByStart } from './start-order';

export interface PortScanOptions {
  min_ports: number;
  window_secs: number;
  suppress_secs: number;
  max_tracked_pairs: number;
}

export const MAX_ATTEMPTS_PER_PAIR = 4096;
export const EVIDENCE_CAP = 100;
/** What counts as an attempt lives with the other probe definitions. */
export { isConnectionAttempt } from './probes';

interface Attempt {
  srcPort: number;
  port: number;
  firstUs: number;
  lastUs: number;
  flowId: number;
}

class PairState {
  /** sorted by firstUs */
  attempts: Attempt[] = [];
  /** distinct ports among `attempts` → how many attempts hit each */
  readonly portHits = new Map<number, number>();
  newestUs = 0;
  suppressUntilUs = -Infinity;
}

/** An alert being built during one batch. */
interface Pending {
  agentId: string;
  srcIp: string;
  dstIp: string;
  triggerUs: number;
  ports: Set<number>;
  flowIds: number[];
  flows: FlowRef[];
  flowCount: number;
  firstUs: number;
  lastUs: number;
}

export class PortScanDetector implements Detector {
  readonly name = 'port_scan';
  /** per agent, keyed by (source id, destination id, kinds): flow-keys.ts */
  private readonly pairs: PerAgent<SlotStates<PairState>>;
  private readonly tables: SlotStates<PairState>[] = [];
  private readonly windowUs: number;
  private readonly suppressUs: number;
  private order = new Int32Array(0);

  constructor(private readonly opts: PortScanOptions) {
    this.pairs = new PerAgent(() => {
      const t = new SlotStates(opts.max_tracked_pairs, () => new PairState());
      this.tables.push(t);
      return t;
    });
    this.windowUs = opts.window_secs * 1e6;
    this.suppressUs = opts.suppress_secs * 1e6;
  }

  /** Number of (agent, src, dst) pairs currently tracked. */
  get trackedPairs(): number {
    return this.tables.reduce((n, t) => n + t.table.size, 0);
  }

  evictions(): number {
    return this.pairs.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    const { traits, srcId, dstId, kinds } = keys;
    if (this.order.length < flows.length) this.order = new Int32Array(flows.length);
    let n = 0;
    for (let i = 0; i < flows.length; i++) if ((traits[i] & ATTEMPT) !== 0) this.order[n++] = i;
    if (n === 0) return;
    // Time order within the batch, so the window slides the same way however the agent ordered it.
    const order = indexesByStart(this.order, n, keys.firstUs);
    let pending: Map<PairState, Pending> | undefined;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const f = flows[i];
      const pairs = this.pairs.of(f.agentId);
      let st = pairs.get(srcId[i], dstId[i], kinds[i]);
      if (!st) {
        st = pairs.add(srcId[i], dstId[i], kinds[i]);
        st.attempts = [];
        st.portHits.clear();
        st.newestUs = 0;
        st.suppressUntilUs = -Infinity;
      }
      const attempt: Attempt = { srcPort: f.srcPort, port: f.dstPort, firstUs: f.firstUs, lastUs: f.lastUs, flowId: f.flowId };
      if (f.firstUs < st.suppressUntilUs) {
        const p = pending?.get(st);
        if (p && f.firstUs <= p.triggerUs + this.windowUs) addToPending(p, attempt);
        continue;
      }
      if (f.firstUs < st.newestUs - this.windowUs) continue; // older than the window we already slid past
      this.add(st, attempt);
      if (st.portHits.size >= this.opts.min_ports) {
        const p: Pending = {
          agentId: f.agentId, srcIp: f.srcIp, dstIp: f.dstIp, triggerUs: f.firstUs,
          ports: new Set(), flowIds: [], flows: [], flowCount: 0, firstUs: Infinity, lastUs: -Infinity,
        };
        for (const a of st.attempts) addToPending(p, a);
        pending ??= new Map();
        // the slot's earlier pair, evicted during this batch, keeps its alert
        const earlier = pending.get(st);
        if (earlier) emit(this.toAlert(earlier));
        pending.set(st, p);
        st.suppressUntilUs = f.firstUs + this.suppressUs;
        st.attempts = [];
        st.portHits.clear();
      }
    }
    if (pending) for (const p of pending.values()) emit(this.toAlert(p));
  }

  private add(st: PairState, a: Attempt): void {
    // Sorted insert (batches may arrive slightly out of time order); usually appends.
    let i = st.attempts.length;
    while (i > 0 && st.attempts[i - 1].firstUs > a.firstUs) i--;
    st.attempts.splice(i, 0, a);
    st.portHits.set(a.port, (st.portHits.get(a.port) ?? 0) + 1);
    if (a.firstUs > st.newestUs) st.newestUs = a.firstUs;
    const cutoff = st.newestUs - this.windowUs;
    let drop = 0;
    while (drop < st.attempts.length && (st.attempts[drop].firstUs < cutoff || st.attempts.length - drop > MAX_ATTEMPTS_PER_PAIR)) {
      const old = st.attempts[drop++];
      const n = (st.portHits.get(old.port) ?? 1) - 1;
      if (n === 0) st.portHits.delete(old.port);
      else st.portHits.set(old.port, n);
    }
    if (drop > 0) st.attempts.splice(0, drop);
  }

  private toAlert(p: Pending): NewAlert {
    const ports = [...p.ports].sort((a, b) => a - b);
    return {
      category: 'port_scan',
      severity: 'medium',
      attack_id: 'T1046',
      agent_id: p.agentId,
      src_ip: p.srcIp,
      dst_ip: p.dstIp,
      dst_port: null,
      first_ts: p.firstUs / 1e6,
      last_ts: p.lastUs / 1e6,
      score: ports.length,
      threshold: this.opts.min_ports,
      evidence: {
        ports: ports.slice(0, EVIDENCE_CAP),
        flow_count: p.flowCount,
        flow_ids: p.flowIds,
        flows: p.flows,
      },
    };
  }
}

function addToPending(p: Pending, a: Attempt): void {
  p.ports.add(a.port);
  p.flowCount++;
  if (p.flowIds.length < EVIDENCE_CAP) p.flowIds.push(a.flowId);
  if (p.flows.length < EVIDENCE_FLOWS) {
    p.flows.push({ flow_id: a.flowId, src_ip: p.srcIp, src_port: a.srcPort, dst_ip: p.dstIp, dst_port: a.port, proto: 6, first_ts: a.firstUs / 1e6 });
  }
  if (a.firstUs < p.firstUs) p.firstUs = a.firstUs;
  if (a.lastUs > p.lastUs) p.lastUs = a.lastUs;
}
