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
// max_tracked_hosts 100000 per agent (slot-table.ts; a host's state object is reused by the next
// host that gets its slot). Fixed: at most 16 destinations tallied per host and bucket; growth of at most 100000 long flows is tracked; 65536 addresses'
// local/remote verdicts are cached.
import type { ExfiltrationConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap, PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { DST_INTERNED, FINAL, FIRST_RECORD, FlowKeys, SRC_INTERNED, type AddrKey } from './flow-keys';
import type { PrefixSet } from './prefix-set';
import { SlotStates } from './slot-table';

const MAX_LONG_FLOWS = 100_000;
const MAX_CACHED_ADDRESSES = 65_536;
const MAX_DESTINATIONS = 16;

class Host {
  /** the address as the flows spell it */
  ip = '';
  bucket = 0;
  bytes = 0;
  /** this bucket's destinations in first-seen order: [key, bytes] pairs (key: the flow-keys.ts id
   * × 2 + 1 when interned) in one array of doubles (one allocation, read in order), and their text */
  readonly dest: number[] = new Array<number>(2 * MAX_DESTINATIONS).fill(0.5);
  readonly destIps: string[] = [];
  destCount = 0;
  /** a 64-bit filter of the keys in `dest` (two int32 halves): a peer whose bit is clear is not
   * there, so a full list is not scanned for each new peer */
  destLo = 0;
  destHi = 0;
  readonly ev = new FlowEvidence();
  mean = 0;
  variance = 0;
  learned = 0;
  alerted = false;
  quietUntilUs = -Infinity;

  reset(ip: string, bucket: number): void {
    this.ip = ip;
    this.bucket = bucket;
    this.bytes = 0;
    this.clearDestinations();
    this.ev.clear();
    this.mean = 0;
    this.variance = 0;
    this.learned = 0;
    this.alerted = false;
    this.quietUntilUs = -Infinity;
  }

  clearDestinations(): void {
    this.destCount = 0;
    this.destIps.length = 0;
    this.destLo = 0;
    this.destHi = 0;
  }

  /** Adds `sent` bytes to the peer of `f` (its source when `inbound`). */
  addDestination(id: number, kind: number, f: FlowRow, inbound: boolean, sent: number): void {
    const key = id * 2 + kind;
    const bit = (Math.imul(id ^ (id >>> 15), 0x2c1b3c6d) + kind) >>> 26;
    const word = bit < 32 ? this.destLo : this.destHi;
    const mask = 1 << (bit & 31);
    const dest = this.dest;
    const n = 2 * this.destCount;
    if ((word & mask) !== 0) {
      for (let i = 0; i < n; i += 2) {
        if (dest[i] === key) {
          dest[i + 1] += sent;
          return;
        }
      }
    }
    if (this.destCount === MAX_DESTINATIONS) return;
    if (bit < 32) this.destLo |= mask;
    else this.destHi |= mask;
    dest[n] = key;
    dest[n + 1] = sent;
    this.destIps.push(inbound ? f.srcIp : f.dstIp);
    this.destCount++;
  }
}

export class ExfiltrationDetector implements Detector {
  readonly name = 'exfiltration';
  private readonly hosts: PerAgent<SlotStates<Host>>;
  /** cumulative outbound bytes already counted, per long flow (agent, flow id) */
  private readonly seen = new BoundedMap<string, number>(MAX_LONG_FLOWS);
  private readonly bucketUs: number;
  private readonly alpha: number;

  constructor(private readonly opts: ExfiltrationConfig, private readonly local: PrefixSet) {
    this.hosts = new PerAgent(() => new SlotStates(opts.max_tracked_hosts, () => new Host()));
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

  evictions(): number {
    return this.hosts.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    const { src, dst, srcId, dstId, kinds, traits, fwdPayload, bwdPayload } = keys;
    if (keys.agent !== undefined) this.prefetch(keys);
    for (let i = 0; i < flows.length; i++) {
      const srcLocal = this.isLocal(src[i]);
      if (srcLocal === this.isLocal(dst[i])) continue; // internal, or transit between outside hosts
      let sent = srcLocal ? fwdPayload[i] : bwdPayload[i];
      const t = traits[i];
      if ((t & FINAL) === 0 || (t & FIRST_RECORD) === 0) {
        const f = flows[i];
        const k = `${f.agentId}\u0000${f.flowId}`;
        const before = this.seen.get(k) ?? 0;
        if ((t & FINAL) === 0) this.seen.set(k, sent);
        else this.seen.delete(k);
        sent = Math.max(0, sent - before);
      }
      if (sent === 0) continue;
      const f = flows[i];
      const kind = kinds[i];
      if (srcLocal) this.add(f, keys, i, srcId[i], kind & SRC_INTERNED, dstId[i], kind & DST_INTERNED ? 1 : 0, false, sent, emit);
      else this.add(f, keys, i, dstId[i], kind & DST_INTERNED ? 1 : 0, srcId[i], kind & SRC_INTERNED, true, sent, emit);
    }
  }

  /**
   * A first pass over the batch that only looks the hosts up and reads their state, without using
   * what it reads: one host's cache misses do not wait for the previous one's, as they would in the
   * pass that uses them (the tables are far larger than the caches; this pass makes that one hit).
   */
  private prefetch(keys: FlowKeys): void {
    const hosts = this.hosts.of(keys.agent as string);
    const { src, dst, srcId, dstId, kinds } = keys;
    let sum = 0;
    for (let i = 0; i < keys.src.length; i++) {
      const srcLocal = this.isLocal(src[i]);
      if (srcLocal === this.isLocal(dst[i])) continue;
      const h = srcLocal ? hosts.peek(srcId[i], kinds[i] & SRC_INTERNED, 0) : hosts.peek(dstId[i], kinds[i] & DST_INTERNED ? 1 : 0, 0);
      if (h !== undefined) sum += h.bucket + h.ev.count + h.destCount;
    }
    this.prefetched = sum;
  }

  /** what the prefetch pass read, kept so that its reads are not optimised away */
  prefetched = 0;

  /** Counts `sent` bytes of flow `i` (`f`); `inbound`: the local host is the flow's responder. */
  private add(f: FlowRow, keys: FlowKeys, i: number, hostId: number, hostKind: number, peerId: number, peerKind: number, inbound: boolean, sent: number, emit: EmitAlert): void {
    const hosts = this.hosts.of(keys.agent ?? f.agentId);
    const lastUs = keys.lastUs[i];
    const bucket = Math.floor(lastUs / this.bucketUs);
    let h = hosts.get(hostId, hostKind, 0);
    if (!h) {
      h = hosts.add(hostId, hostKind, 0);
      h.reset(inbound ? f.dstIp : f.srcIp, bucket);
    }
    if (bucket > h.bucket) this.roll(h, bucket);
    else if (bucket < h.bucket) return; // a late record for a finished bucket: too late to judge
    h.bytes += sent;
    h.addDestination(peerId, peerKind, f, inbound, sent);
    h.ev.add(f);
    if (h.alerted || h.learned < this.opts.learning_buckets || lastUs < h.quietUntilUs) return;
    const limit = Math.max(this.opts.min_bytes, h.mean + this.opts.deviation_factor * Math.sqrt(h.variance));
    if (h.bytes <= limit) return;
    h.alerted = true;
    h.quietUntilUs = f.lastUs + this.opts.suppress_secs * 1e6;
    const top = h.destIps.map((ip, k) => ({ ip, bytes: h.dest[2 * k + 1] })).sort((a, b) => b.bytes - a.bytes).slice(0, 5);
    emit(alertFrom({
      category: 'exfiltration', severity: 'high', attack_id: 'T1048', agent_id: f.agentId, src_ip: h.ip, dst_ip: top[0]?.ip ?? (inbound ? f.srcIp : f.dstIp),
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
    h.clearDestinations();
    h.ev.clear();
    h.alerted = false;
  }
}
