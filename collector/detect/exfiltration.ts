// Exfiltration (MITRE ATT&CK T1048, Exfiltration Over Alternative Protocol): a local host sending far
// more to outside addresses than it usually does.
//
// Outbound bytes of a local host (an address in detect.local_networks) are the payload bytes it sent
// to non-local addresses: fwd.payload_bytes when it initiated the flow, bwd.payload_bytes when it
// answered. Records of one long flow are cumulative, so only the growth since the flow's previous
// record counts. Bytes are summed per host in consecutive buckets of `bucket_secs` of flow time (by
// the record's last_us). The host's baseline is an exponentially weighted mean and variance of its
// finished buckets (weight 2 / (learning_buckets + 1); silent buckets count as 0). Once a host has
// `learning_buckets` finished buckets, a bucket whose bytes exceed
//   limit = max(min_bytes, mean + deviation_factor × std)
// raises one alert (severity high, score = bucket bytes, threshold = limit); then quiet for
// `suppress_secs`. Hosts never learn from a bucket that alerted.
//
// Thresholds (detect.exfiltration): bucket_secs 300 s; learning_buckets 12 buckets; min_bytes
// 50,000,000 bytes; deviation_factor 6 (standard deviations); suppress_secs 3600 s;
// max_tracked_hosts 100000 per agent (bounded-map.ts). Fixed: growth of at most 100000 long flows is tracked; 65536 addresses'
// local/remote verdicts are cached.
import type { ExfiltrationConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap, PerAgentMap } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { FlowKeys, keyText, type AddrKey } from './flow-keys';
import type { PrefixSet } from './prefix-set';

const MAX_LONG_FLOWS = 100_000;
const MAX_CACHED_ADDRESSES = 65_536;

interface Host {
  bucket: number;
  bytes: number;
  /** peer address key → bytes */
  destinations: Map<AddrKey, number>;
  ev: FlowEvidence;
  mean: number;
  variance: number;
  learned: number;
  alerted: boolean;
  quietUntilUs: number;
}

export class ExfiltrationDetector implements Detector {
  readonly name = 'exfiltration';
  private readonly hosts: PerAgentMap<Host>;
  /** cumulative outbound bytes already counted, per long flow (agent, flow id) */
  private readonly seen = new BoundedMap<string, number>(MAX_LONG_FLOWS);
  private readonly bucketUs: number;
  private readonly alpha: number;

  constructor(private readonly opts: ExfiltrationConfig, private readonly local: PrefixSet) {
    this.hosts = new PerAgentMap(opts.max_tracked_hosts);
    this.bucketUs = opts.bucket_secs * 1e6;
    this.alpha = 2 / (opts.learning_buckets + 1);
  }

  /** non-IPv4 address → is it local: parsing and prefix lookups once per address, not per flow */
  private readonly localCache = new BoundedMap<string, boolean>(MAX_CACHED_ADDRESSES);

  /** IPv4 (an int32 key) is tested against the prefixes directly, a few integer compares. */
  private isLocal(key: AddrKey): boolean {
    if (typeof key === 'number') return this.local.matchV4(key);
    let v = this.localCache.get(key);
    if (v === undefined) this.localCache.set(key, (v = this.local.match(key)));
    return v;
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const { src, dst } = FlowKeys.of(flows, batchKeys);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const srcLocal = this.isLocal(src[i]);
      if (srcLocal === this.isLocal(dst[i])) continue; // internal, or transit between outside hosts
      const host = srcLocal ? src[i] : dst[i];
      const peer = srcLocal ? dst[i] : src[i];
      let sent = srcLocal ? f.fwd.payloadBytes : f.bwd.payloadBytes;
      if (f.recordType === 'interim' || f.recordSeq > 0) {
        const k = `${f.agentId}\u0000${f.flowId}`;
        const before = this.seen.get(k) ?? 0;
        if (f.recordType === 'interim') this.seen.set(k, sent);
        else this.seen.delete(k);
        sent = Math.max(0, sent - before);
      }
      if (sent === 0) continue;
      this.add(f, host, peer, sent, emit);
    }
  }

  private add(f: FlowRow, host: AddrKey, peer: AddrKey, sent: number, emit: EmitAlert): void {
    const hosts = this.hosts.of(f.agentId);
    const bucket = Math.floor(f.lastUs / this.bucketUs);
    let h = hosts.get(host);
    if (!h) {
      h = { bucket, bytes: 0, destinations: new Map(), ev: new FlowEvidence(), mean: 0, variance: 0, learned: 0, alerted: false, quietUntilUs: -Infinity };
      hosts.set(host, h);
    }
    if (bucket > h.bucket) this.roll(h, bucket);
    else if (bucket < h.bucket) return; // a late record for a finished bucket: too late to judge
    h.bytes += sent;
    const toPeer = h.destinations.get(peer);
    if (toPeer !== undefined) h.destinations.set(peer, toPeer + sent);
    else if (h.destinations.size < 16) h.destinations.set(peer, sent);
    h.ev.add(f);
    if (h.alerted || h.learned < this.opts.learning_buckets || f.lastUs < h.quietUntilUs) return;
    const limit = Math.max(this.opts.min_bytes, h.mean + this.opts.deviation_factor * Math.sqrt(h.variance));
    if (h.bytes <= limit) return;
    h.alerted = true;
    h.quietUntilUs = f.lastUs + this.opts.suppress_secs * 1e6;
    const top = [...h.destinations].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([ip, bytes]) => ({ ip: keyText(ip), bytes }));
    emit(alertFrom({
      category: 'exfiltration', severity: 'high', attack_id: 'T1048', agent_id: f.agentId, src_ip: keyText(host), dst_ip: top[0]?.ip ?? keyText(peer),
      score: h.bytes, threshold: limit,
      evidence: {
        outbound_bytes: h.bytes, bucket_secs: this.opts.bucket_secs, baseline_mean_bytes: Math.round(h.mean),
        baseline_std_bytes: Math.round(Math.sqrt(h.variance)), learned_buckets: h.learned, top_destinations: top,
      },
    }, h.ev));
  }

  /** Finishes the current bucket (and any silent ones, as 0) into the baseline. */
  private roll(h: Host, bucket: number): void {
    const gaps = Math.min(bucket - h.bucket, this.opts.learning_buckets * 4);
    for (let i = 0; i < gaps; i++) {
      const x = i === 0 && !h.alerted ? h.bytes : 0;
      if (i === 0 && h.alerted) continue;
      if (h.learned === 0) h.mean = x;
      const d = x - h.mean;
      h.mean += this.alpha * d;
      h.variance = (1 - this.alpha) * (h.variance + this.alpha * d * d);
      h.learned++;
    }
    h.bucket = bucket;
    h.bytes = 0;
    h.destinations.clear();
    h.ev.clear();
    h.alerted = false;
  }
}
