// Beaconing (MITRE ATT&CK T1071, Application Layer Protocol — C2 check-ins): a host connecting to the
// same destination again and again at regular intervals with regular sizes, scored as RITA does
// (rita-score.ts): score = (interval regularity + size regularity) / 2, each 0–1, robust to jitter.
// RITA's histogram and duration terms need a day of data and are left out; min_span_secs stands in.
//
// Counted: the first record of every flow, except ICMP and flows to `ignore_ports` (services that
// are periodic by design or shared: DNS 53, NTP 123, NetBIOS 137/138, mDNS 5353, LLMNR 5355), per
// (agent, source, destination, destination port, protocol): its start time and the bytes the initiator sent. The last `max_history` are kept. Once
// there are at least `min_connections` connections spanning at least `min_span_secs` of flow time
// with a median interval of at least `min_interval_secs` (bursts of parallel connections are not
// beacons), the pair is scored on each new connection; score ≥ `min_score` → one alert (severity
// medium), then quiet for `suppress_secs`.
//
// Thresholds (detect.beaconing): min_connections 12 connections; min_span_secs 20 s;
// min_interval_secs 1 s; ignore_ports [53, 123, 137, 138, 5353, 5355]; min_score 0.8 (RITA's "medium" bucket starts at 0.7, "high" at 0.9);
// max_history 64 connections; suppress_secs 3600 s; max_tracked_pairs 100000 pairs with a history
// plus as many seen once, per agent (slot-table.ts; a pair's history buffers are reused by the next
// pair of its slot).
import type { BeaconingConfig } from '../config';
import type { FlowRow } from '../model';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, LastFlows, round } from './evidence';
import { PerAgent } from './bounded-map';
import { FIRST_RECORD, FlowKeys } from './flow-keys';
import { regularityScore } from './rita-score';
import { SeenOnce } from './seen-once';
import { SlotStates } from './slot-table';

/** RITA: Bowley skew is taken as 0 when the quartiles are closer than this (seconds, bytes). */
const RITA_MIN_IQR = 10;

/**
 * History slots a pair starts with. Most pairs see a few connections, and the pair tables are per agent:
 * at max_history (64) slots from the start, a 1,000-agent collector held ~400 MB of empty history.
 */
const INITIAL_HISTORY = 8;

class Series {
  /** ring buffers of start times (µs) and client bytes; grown by doubling up to max_history while filling */
  starts: Float64Array;
  bytes: Float64Array;
  n = 0;
  next = 0;
  /** the last flows appended, for the alert's evidence */
  readonly refs = new LastFlows();
  quietUntilUs = -Infinity;

  constructor(history: number) {
    this.starts = new Float64Array(Math.min(history, INITIAL_HISTORY));
    this.bytes = new Float64Array(Math.min(history, INITIAL_HISTORY));
  }

  /** Room for one more while the buffers are full and below `history`: they have not wrapped yet (they
   * only wrap at `history`), so their contents are in order and `next` is their length. */
  reserve(history: number): void {
    const cap = this.starts.length;
    if (this.n < cap || cap >= history) return;
    const size = Math.min(history, cap * 2);
    const starts = new Float64Array(size);
    const bytes = new Float64Array(size);
    starts.set(this.starts);
    bytes.set(this.bytes);
    this.starts = starts;
    this.bytes = bytes;
  }
}

export class BeaconingDetector implements Detector {
  readonly name = 'beaconing';
  /** per agent, keyed by (source id, destination id, port + 65536 × protocol + kinds × 2^24): see
   * flow-keys.ts for the ids and their kinds */
  private readonly pairs: PerAgent<SlotStates<Series>>;
  /** start time of pairs seen once: most connections are one-offs, so a pair's history is only built
   * on its second (the first connection then counts in the intervals, not in the sizes) */
  private readonly singles: PerAgent<SeenOnce>;
  private readonly a: Float64Array;
  private readonly b: Float64Array;
  /** ignore_ports as a bitmap by port (8 KiB; a Set lookup per flow costs more) */
  private readonly ignored = new Uint8Array(65536 / 8);

  constructor(private readonly opts: BeaconingConfig) {
    this.pairs = new PerAgent(() => new SlotStates(opts.max_tracked_pairs, () => new Series(opts.max_history)));
    this.singles = new PerAgent(() => new SeenOnce(opts.max_tracked_pairs));
    this.a = new Float64Array(opts.max_history);
    this.b = new Float64Array(opts.max_history);
    for (const p of opts.ignore_ports) this.ignored[p >>> 3] |= 1 << (p & 7);
  }

  evictions(): number {
    return this.pairs.sum((s) => s.table.evicted) + this.singles.sum((s) => s.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const h = this.opts.max_history;
    const keys = FlowKeys.of(flows, batchKeys);
    const { srcId, dstId, kinds, proto, dstPort, firstUs } = keys;
    if (keys.agent !== undefined) this.prefetch(keys);
    for (let i = 0; i < flows.length; i++) {
      if (!this.counts(keys, i)) continue;
      const pr = proto[i];
      const port = dstPort[i];
      const src = srcId[i];
      const dst = dstId[i];
      const svc = (port + 65536 * pr) | (kinds[i] << 24);
      const agent = keys.agent ?? flows[i].agentId;
      const pairs = this.pairs.of(agent);
      let s = pairs.get(src, dst, svc);
      if (!s) {
        const singles = this.singles.of(agent);
        const first = singles.take(src, dst, svc);
        if (first !== first) {
          singles.put(src, dst, svc, firstUs[i]);
          continue;
        }
        s = pairs.add(src, dst, svc);
        s.n = 0;
        s.next = 0;
        s.refs.clear();
        s.quietUntilUs = -Infinity;
        this.append(s, first, NaN, undefined);
      }
      if (firstUs[i] < s.quietUntilUs) continue;
      const f = flows[i];
      this.append(s, f.firstUs, f.fwd.ipBytes, f);
      // a full history is rescored every 8th connection (scoring sorts max_history values twice)
      if (s.n >= this.opts.min_connections && (s.n < h || s.next % 8 === 0)) this.score(f, s, emit);
    }
  }

  /** Whether flow `i` is counted: first records, not ICMP, not to an ignored port. */
  private counts(keys: FlowKeys, i: number): boolean {
    const pr = keys.proto[i];
    if ((keys.traits[i] & FIRST_RECORD) === 0 || pr === 1 || pr === 58) return false;
    const port = keys.dstPort[i];
    return (this.ignored[(port >>> 3) & 8191] & (1 << (port & 7))) === 0;
  }

  /** A first pass that only looks the batch's pairs up, so that their cache misses overlap (see
   * exfiltration.ts's prefetch). */
  private prefetch(keys: FlowKeys): void {
    const agent = keys.agent as string;
    const pairs = this.pairs.of(agent);
    const singles = this.singles.of(agent);
    let sum = 0;
    // one load per flow and table, nothing depending on it: many misses in flight at once
    for (let i = 0; i < keys.src.length; i++) {
      const svc = (keys.dstPort[i] + 65536 * keys.proto[i]) | (keys.kinds[i] << 24);
      sum += pairs.table.touch3(keys.srcId[i], keys.dstId[i], svc) + singles.touch3(keys.srcId[i], keys.dstId[i], svc);
    }
    this.prefetched = sum;
  }

  /** what the prefetch pass read, kept so that its reads are not optimised away */
  prefetched = 0;

  /** `bytes` NaN: unknown (a pair's first connection), left out of the size score. */
  private append(s: Series, firstUs: number, bytes: number, ref: FlowRow | undefined): void {
    const h = this.opts.max_history;
    s.reserve(h);
    s.starts[s.next] = firstUs;
    s.bytes[s.next] = bytes;
    s.next = (s.next + 1) % h;
    if (s.n < h) s.n++;
    if (ref) s.refs.add(ref);
  }

  private score(f: FlowRow, s: Series, emit: EmitAlert): void {
    const n = s.n;
    const starts = this.a;
    for (let i = 0; i < n; i++) starts[i] = s.starts[i];
    starts.subarray(0, n).sort();
    const spanUs = starts[n - 1] - starts[0];
    if (spanUs < this.opts.min_span_secs * 1e6) return;
    // intervals in seconds, zero intervals dropped (RITA)
    let m = 0;
    for (let i = 1; i < n; i++) {
      const d = (starts[i] - starts[i - 1]) / 1e6;
      if (d > 0) this.b[m++] = d;
    }
    if (m < 3) return;
    const firstUs = starts[0];
    const lastUs = starts[n - 1];
    const intervals = this.b.slice(0, m);
    const tsScore = regularityScore(intervals, m, this.a, RITA_MIN_IQR, 1);
    const medianInterval = intervals[Math.floor(m / 2)];
    if (medianInterval < this.opts.min_interval_secs) return;
    let k = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(s.bytes[i])) this.b[k++] = s.bytes[i];
    const dsScore = regularityScore(this.b, k, this.a, RITA_MIN_IQR, 0);
    const score = (tsScore + dsScore) / 2;
    if (score < this.opts.min_score) return;
    emit(alertFrom({
      category: 'beaconing', severity: 'medium', attack_id: 'T1071', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
      dst_port: f.dstPort, score, threshold: this.opts.min_score,
      evidence: {
        connections: n, interval_score: round(tsScore, 3), size_score: round(dsScore, 3), median_interval_secs: round(medianInterval, 3),
        span_secs: round((lastUs - firstUs) / 1e6, 1), server_name: f.app?.tls_sni ?? f.app?.http_host ?? null,
      },
    }, { flows: s.refs.flows, count: n, firstUs, lastUs: Math.max(lastUs, f.lastUs) }));
    s.quietUntilUs = f.firstUs + this.opts.suppress_secs * 1e6;
    s.n = 0;
    s.next = 0;
    s.refs.clear();
  }
}
