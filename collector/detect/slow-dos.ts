// Slowloris-style connection exhaustion (MITRE ATT&CK T1499.002, Service Exhaustion Flood): one
// source holding many connections open to one service while sending almost nothing on them, so the
// server's connection slots run out.
//
// Counted: TCP flows (final or interim records) the responder accepted, open at least
// `min_duration_secs`, whose initiator sent at most `max_client_bytes_per_sec` payload bytes per
// second on average. Per (agent, source, destination, port), distinct flows within tumbling windows
// of `window_secs` of flow time (by the record's last_us): when they reach `min_connections`, one
// alert (severity high); then quiet for `suppress_secs`. A browser keeps ≤ 6 connections per server.
//
// Thresholds (detect.slow_dos): min_connections 20 connections; min_duration_secs 60 s;
// max_client_bytes_per_sec 200 bytes/s; window_secs 600 s; suppress_secs 1800 s;
// max_tracked_targets 100000 per agent (slot-table.ts; least recently used half dropped first).
// Fixed: at most 4096 flow ids remembered per key.
import type { SlowDosConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { ACCEPTED, FlowKeys } from './flow-keys';
import { TCP } from './probes';
import { SlotStates } from './slot-table';

const MAX_FLOWS = 4096;

class Target {
  startUs = 0;
  readonly flowIds = new Set<number>();
  readonly ev = new FlowEvidence();
  quietUntilUs = -Infinity;

  /** Forgets the window's connections (a new window, a new key in a reused slot, or after an alert). */
  clearWindow(): void {
    this.flowIds.clear();
    this.ev.clear();
  }
}

export class SlowDosDetector implements Detector {
  readonly name = 'slow_dos';
  /** per agent, keyed by (source id, destination id, port + 65536 × kinds): flow-keys.ts */
  private readonly targets: PerAgent<SlotStates<Target>>;

  constructor(private readonly opts: SlowDosConfig) {
    this.targets = new PerAgent(() => new SlotStates(opts.max_tracked_targets, () => new Target()));
  }

  private isSlow(k: FlowKeys, i: number): boolean {
    if (k.proto[i] !== TCP) return false;
    const durSecs = (k.lastUs[i] - k.firstUs[i]) / 1e6;
    return durSecs >= this.opts.min_duration_secs && k.fwdPayload[i] / durSecs <= this.opts.max_client_bytes_per_sec && (k.traits[i] & ACCEPTED) !== 0;
  }

  evictions(): number {
    return this.targets.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    const windowUs = this.opts.window_secs * 1e6;
    for (let i = 0; i < flows.length; i++) {
      if (!this.isSlow(keys, i)) continue;
      const f = flows[i];
      const targets = this.targets.of(f.agentId);
      const svc = f.dstPort + 65536 * keys.kinds[i];
      let t = targets.get(keys.srcId[i], keys.dstId[i], svc);
      if (!t) {
        t = targets.add(keys.srcId[i], keys.dstId[i], svc);
        t.startUs = f.lastUs;
        t.clearWindow();
        t.quietUntilUs = -Infinity;
      }
      if (f.lastUs < t.quietUntilUs) continue;
      if (f.lastUs - t.startUs > windowUs) {
        t.startUs = f.lastUs;
        t.clearWindow();
      }
      if (t.flowIds.has(f.flowId) || t.flowIds.size >= MAX_FLOWS) continue;
      t.flowIds.add(f.flowId);
      t.ev.add(f);
      if (t.flowIds.size >= this.opts.min_connections) {
        emit(alertFrom({
          category: 'slow_dos', severity: 'high', attack_id: 'T1499.002', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
          dst_port: f.dstPort, score: t.flowIds.size, threshold: this.opts.min_connections,
          evidence: { slow_connections: t.flowIds.size, min_duration_secs: this.opts.min_duration_secs, max_client_bytes_per_sec: this.opts.max_client_bytes_per_sec },
        }, t.ev));
        t.quietUntilUs = f.lastUs + this.opts.suppress_secs * 1e6;
        t.clearWindow();
      }
    }
  }
}
