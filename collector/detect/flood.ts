// The shared machinery of the flood detectors (syn-flood.ts, udp-flood.ts, icmp-flood.ts): packets
// of one kind sent towards one target (agent, destination address), counted in tumbling windows of
// `window_secs` of flow time (a window starts at the first counted flow). A flow longer than the
// window adds its packets pro rata (packets × window / duration), so a slow long flow never looks
// like a burst. When a window's count reaches max(min_packets, min_packets_per_sec × window_secs),
// one alert names the target, the top source (null when no source sent half the packets, i.e.
// distributed or spoofed), the packet count and rate. The target is then quiet for `suppress_secs`.
// At most 16 sources are tallied per target and window; `max_tracked_targets` targets per agent
// (slot-table.ts; least recently used half dropped first).
import type { FloodConfig } from '../config';
import type { FlowRow, Severity } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { DST_INTERNED, FlowKeys } from './flow-keys';
import { SlotStates } from './slot-table';
import { indexesByStart } from './start-order';

const MAX_SOURCES = 16;

export interface FloodKind {
  readonly name: string;
  readonly attackId: string;
  readonly severity: Severity;
  /** Packets flow `i` (`f`) adds to its target's count (0: the flow is not part of this kind of
   * flood); `k` is the batch's pre-pass, read first so that most flows' rows are never touched. */
  packets(k: FlowKeys, i: number, f: FlowRow, opts: FloodConfig): number;
}

/** Up to MAX_SOURCES keys with a running total each, in first-seen order (a Map would allocate on
 * every clear; these are cleared for every window). */
class Tally<K> {
  readonly keys: K[] = [];
  readonly counts: number[] = [];

  add(k: K, n: number): void {
    const i = this.keys.indexOf(k);
    if (i >= 0) this.counts[i] += n;
    else if (this.keys.length < MAX_SOURCES) {
      this.keys.push(k);
      this.counts.push(n);
    }
  }

  /** The key with the highest total (the first such), and that total; -1 when empty. */
  top(): [K, number] {
    let best = 0;
    for (let i = 1; i < this.counts.length; i++) if (this.counts[i] > this.counts[best]) best = i;
    return [this.keys[best], this.counts.length === 0 ? -1 : this.counts[best]];
  }

  clear(): void {
    this.keys.length = 0;
    this.counts.length = 0;
  }
}

class Target {
  startUs = 0;
  count = 0;
  readonly sources = new Tally<string>();
  readonly ports = new Tally<number>();
  readonly ev = new FlowEvidence();
  quietUntilUs = -Infinity;

  reset(startUs: number): void {
    this.startUs = startUs;
    this.count = 0;
    this.sources.clear();
    this.ports.clear();
    this.ev.clear();
  }
}

export class FloodDetector implements Detector {
  readonly name: string;
  /** per agent, keyed by (destination id, destination kind, 0) */
  private readonly targets: PerAgent<SlotStates<Target>>;
  private readonly windowUs: number;
  private readonly threshold: number;
  private counted = new Int32Array(0);
  private packetsOf = new Float64Array(0);

  constructor(private readonly kind: FloodKind, private readonly opts: FloodConfig) {
    this.name = kind.name;
    this.targets = new PerAgent(() => new SlotStates(opts.max_tracked_targets, () => new Target()));
    this.windowUs = opts.window_secs * 1e6;
    this.threshold = Math.max(opts.min_packets, opts.min_packets_per_sec * opts.window_secs);
  }

  evictions(): number {
    return this.targets.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    if (this.counted.length < flows.length) {
      this.counted = new Int32Array(flows.length);
      this.packetsOf = new Float64Array(flows.length);
    }
    let n = 0;
    for (let i = 0; i < flows.length; i++) {
      const p = this.kind.packets(keys, i, flows[i], this.opts);
      if (p > 0) {
        this.packetsOf[i] = p;
        this.counted[n++] = i;
      }
    }
    if (n === 0) return;
    const order = indexesByStart(this.counted, n, keys.firstUs);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const f = flows[i];
      const targets = this.targets.of(f.agentId);
      const dstKind = keys.kinds[i] & DST_INTERNED;
      let t = targets.get(keys.dstId[i], dstKind, 0);
      if (!t) {
        t = targets.add(keys.dstId[i], dstKind, 0);
        t.reset(f.firstUs);
        t.quietUntilUs = -Infinity;
      }
      if (f.firstUs < t.quietUntilUs) continue;
      if (f.firstUs - t.startUs >= this.windowUs) t.reset(f.firstUs);
      const durUs = f.lastUs - f.firstUs;
      const pk = this.packetsOf[i] * (durUs > this.windowUs ? this.windowUs / durUs : 1);
      t.count += pk;
      t.sources.add(f.srcIp, pk);
      t.ports.add(f.dstPort, pk);
      t.ev.add(f);
      if (t.count >= this.threshold) {
        emit(this.alert(f, t));
        t.quietUntilUs = f.firstUs + this.opts.suppress_secs * 1e6;
        t.count = 0;
        t.sources.clear();
        t.ports.clear();
        t.ev.clear();
      }
    }
  }

  private alert(f: FlowRow, t: Target): ReturnType<typeof alertFrom> {
    const [topSrc, srcPackets] = t.sources.top();
    const [topPort] = t.ports.top();
    const spanSecs = Math.max((t.ev.lastUs - t.ev.firstUs) / 1e6, 0.001);
    return alertFrom({
      category: this.kind.name, severity: this.kind.severity, attack_id: this.kind.attackId, agent_id: f.agentId,
      src_ip: srcPackets * 2 >= t.count ? topSrc : null, dst_ip: f.dstIp, dst_port: topPort,
      score: t.count, threshold: this.threshold,
      evidence: {
        packets: Math.round(t.count), window_secs: this.opts.window_secs,
        packets_per_sec: Math.round(t.count / Math.min(Math.max(spanSecs, 0.001), this.opts.window_secs)),
        sources: t.sources.keys.slice(), distinct_sources_capped: t.sources.keys.length >= MAX_SOURCES,
      },
    }, t.ev);
  }
}
