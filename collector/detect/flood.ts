// The shared machinery of the flood detectors (syn-flood.ts, udp-flood.ts, icmp-flood.ts): packets
// of one kind sent towards one target (agent, destination address), counted in tumbling windows of
// `window_secs` of flow time (a window starts at the first counted flow). A flow longer than the
// window adds its packets pro rata (packets × window / duration), so a slow long flow never looks
// like a burst. When a window's count reaches max(min_packets, min_packets_per_sec × window_secs),
// one alert names the target, the top source (null when no source sent half the packets, i.e.
// distributed or spoofed), the packet count and rate. The target is then quiet for `suppress_secs`.
// At most 16 sources are tallied per target and window; `max_tracked_targets` targets (LRU).
import { LRUCache } from 'lru-cache';
import type { FloodConfig } from '../config';
import type { FlowRow, Severity } from '../model';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { byStart } from './start-order';

const MAX_SOURCES = 16;

export interface FloodKind {
  readonly name: string;
  readonly attackId: string;
  readonly severity: Severity;
  /** Packets this flow adds to its target's count (0: the flow is not part of this kind of flood). */
  packets(f: FlowRow, opts: FloodConfig): number;
}

interface Target {
  startUs: number;
  count: number;
  sources: Map<string, number>;
  ports: Map<number, number>;
  ev: FlowEvidence;
  quietUntilUs: number;
}

export class FloodDetector implements Detector {
  readonly name: string;
  private readonly targets: LRUCache<string, Target>;
  private readonly windowUs: number;
  private readonly threshold: number;

  constructor(private readonly kind: FloodKind, private readonly opts: FloodConfig) {
    this.name = kind.name;
    this.targets = new LRUCache({ max: opts.max_tracked_targets });
    this.windowUs = opts.window_secs * 1e6;
    this.threshold = Math.max(opts.min_packets, opts.min_packets_per_sec * opts.window_secs);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    let counted: FlowRow[] | undefined;
    for (const f of flows) if (this.kind.packets(f, this.opts) > 0) (counted ??= []).push(f);
    if (!counted) return;
    for (const f of byStart(counted)) {
      const key = `${f.agentId}\u0000${f.dstIp}`;
      let t = this.targets.get(key);
      if (!t) this.targets.set(key, (t = { startUs: f.firstUs, count: 0, sources: new Map(), ports: new Map(), ev: new FlowEvidence(), quietUntilUs: -Infinity }));
      if (f.firstUs < t.quietUntilUs) continue;
      if (f.firstUs - t.startUs >= this.windowUs) {
        t.startUs = f.firstUs;
        t.count = 0;
        t.sources.clear();
        t.ports.clear();
        t.ev.clear();
      }
      const durUs = f.lastUs - f.firstUs;
      const n = this.kind.packets(f, this.opts) * (durUs > this.windowUs ? this.windowUs / durUs : 1);
      t.count += n;
      tally(t.sources, f.srcIp, n);
      tally(t.ports, f.dstPort, n);
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
    const [topSrc, srcPackets] = top(t.sources);
    const [topPort] = top(t.ports);
    const spanSecs = Math.max((t.ev.lastUs - t.ev.firstUs) / 1e6, 0.001);
    return alertFrom({
      category: this.kind.name, severity: this.kind.severity, attack_id: this.kind.attackId, agent_id: f.agentId,
      src_ip: srcPackets * 2 >= t.count ? topSrc : null, dst_ip: f.dstIp, dst_port: topPort,
      score: t.count, threshold: this.threshold,
      evidence: {
        packets: Math.round(t.count), window_secs: this.opts.window_secs,
        packets_per_sec: Math.round(t.count / Math.min(Math.max(spanSecs, 0.001), this.opts.window_secs)),
        sources: [...t.sources.keys()], distinct_sources_capped: t.sources.size >= MAX_SOURCES,
      },
    }, t.ev);
  }
}

function tally<K>(m: Map<K, number>, k: K, n: number): void {
  const v = m.get(k);
  if (v !== undefined) m.set(k, v + n);
  else if (m.size < MAX_SOURCES) m.set(k, n);
}

function top<K>(m: Map<K, number>): [K, number] {
  let best: K | undefined;
  let bestN = -1;
  for (const [k, n] of m) if (n > bestN) [best, bestN] = [k, n];
  return [best as K, bestN];
}
