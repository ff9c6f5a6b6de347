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
// max_tracked_hosts 100000 per agent (slot-table.ts; a host's row and state object are reused by
// the next host that gets its slot). What every flow reads of its host sits in one 64-byte row of
// a typed array (HostRows), the rest in an object read only at bucket ends, for the bucket's first
// flows and new destinations, and for an alert. Fixed: at most 16 destinations tallied per host and bucket; growth of at most 100000 long flows is tracked; 65536 addresses'
// local/remote verdicts are cached.
import type { ExfiltrationConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap, PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, EVIDENCE_FLOWS, FlowEvidence } from './evidence';
import { DST_INTERNED, FINAL, FIRST_RECORD, FlowKeys, SRC_INTERNED, type AddrKey } from './flow-keys';
import type { PrefixSet } from './prefix-set';
import { grown, SlotRows, SlotTable } from './slot-table';

const MAX_LONG_FLOWS = 100_000;
const MAX_CACHED_ADDRESSES = 65_536;
const MAX_DESTINATIONS = 16;
/** values of ExfiltrationDetector.side */
const NEITHER = 0;
const SRC_LOCAL = 1;
const DST_LOCAL = 2;

/**
 * A host's fields read for every flow it sends, one row of 8 doubles per slot (64 bytes: one cache
 * line) in HostRows, where the rest of its state (Host) is read only at bucket ends, for its first
 * flows and destinations, and for an alert. Doubles 0–5 are below; the int32 words 12–15 (doubles 6–7)
 * are DEST_LO, DEST_HI, DEST_COUNT, EV_COUNT.
 */
const ROW = 8;
/** the current bucket's number */
const BUCKET = 0;
/** bytes sent in the current bucket */
const BYTES = 1;
/** the bucket's alert limit: max(min_bytes, mean + deviation_factor × std), or Infinity while
 * learning or once the bucket alerted (it changes only when a bucket ends or alerts) */
const LIMIT = 2;
const QUIET_UNTIL_US = 3;
/** the span of the bucket's flows (FlowEvidence's firstUs/lastUs) */
const EV_FIRST_US = 4;
const EV_LAST_US = 5;
/** int32 words (× 2 of the doubles): a 64-bit filter of the keys in Host.dest (two int32 halves): a
 * peer whose bit is clear is not there, so a full list is not scanned for each new peer */
const DEST_LO = 12;
const DEST_HI = 13;
/** the number of destinations (low 8 bits); bit 16 + k: destination k is an interned id */
const DEST_COUNT = 14;
/** the bucket's flows (FlowEvidence's count) */
const EV_COUNT = 15;

class Host {
  /** the address as the flows spell it */
  ip = '';
  /** the text of this bucket's destinations in first-seen order (their ids and bytes are in HostRows) */
  readonly destIps: string[] = [];
  /** the bucket's first EVIDENCE_FLOWS flows (its count and span are in the row) */
  readonly ev = new FlowEvidence();
  mean = 0;
  variance = 0;
  learned = 0;
  alerted = false;
}

/** Per slot of a SlotTable, the hot fields of its host (see ROW) and its destinations, grown as the table grows. */
class HostRows extends SlotRows {
  /** per slot, MAX_DESTINATIONS peers of the bucket (the flow-keys.ts ids; DEST_COUNT's top 16 bits say
   * which are interned) and their bytes: a new peer is compared within one cache line */
  destIds = new Int32Array(0);
  destBytes = new Float64Array(0);

  constructor() {
    super(ROW);
  }

  override ensure(slots: number): boolean {
    if (!super.ensure(slots)) return false;
    const n = this.f.length / ROW;
    this.destIds = grown(this.destIds, MAX_DESTINATIONS * n);
    this.destBytes = grown(this.destBytes, MAX_DESTINATIONS * n);
    return true;
  }
}

/** One agent's hosts: their slots, the hot row and the rest of each slot's state. */
class Hosts {
  readonly table: SlotTable;
  readonly rows = new HostRows();
  readonly states: Host[] = [];

  constructor(max: number) {
    this.table = new SlotTable(max);
  }
}

export class ExfiltrationDetector implements Detector {
  readonly name = 'exfiltration';
  private readonly hosts: PerAgent<Hosts>;
  /** cumulative outbound bytes already counted, per long flow (agent, flow id) */
  private readonly seen = new BoundedMap<string, number>(MAX_LONG_FLOWS);
  private readonly bucketUs: number;
  private readonly alpha: number;
  /** per flow of the batch: which end is the local host (NEITHER, SRC_LOCAL, DST_LOCAL) */
  private side = new Uint8Array(0);

  constructor(private readonly opts: ExfiltrationConfig, private readonly local: PrefixSet) {
    this.hosts = new PerAgent(() => new Hosts(opts.max_tracked_hosts));
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
    const n = flows.length;
    if (this.side.length < n) this.side = new Uint8Array(Math.max(n, 1024));
    const side = this.side;
    for (let i = 0; i < n; i++) {
      const srcLocal = this.isLocal(src[i]);
      side[i] = srcLocal === this.isLocal(dst[i]) ? NEITHER : srcLocal ? SRC_LOCAL : DST_LOCAL;
    }
    if (keys.agent !== undefined) this.prefetch(keys, n);
    for (let i = 0; i < n; i++) {
      const sd = side[i];
      if (sd === NEITHER) continue; // internal, or transit between outside hosts
      const srcLocal = sd === SRC_LOCAL;
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
      const kind = kinds[i];
      if (srcLocal) this.add(flows, keys, i, srcId[i], kind & SRC_INTERNED, dstId[i], kind & DST_INTERNED ? 1 : 0, false, sent, emit);
      else this.add(flows, keys, i, dstId[i], kind & DST_INTERNED ? 1 : 0, srcId[i], kind & SRC_INTERNED, true, sent, emit);
    }
  }

  /**
   * Two passes over the batch that only look the hosts up and read their rows, without using what
   * they read, one level of indirection per pass (the index entry, then the row): a pass's cache
   * misses are independent of each other, so the CPU keeps many in flight, where the pass that uses
   * the rows would wait for each in turn (the tables are far larger than the caches; these passes
   * make that one hit).
   */
  private prefetch(keys: FlowKeys, n: number): void {
    const hosts = this.hosts.of(keys.agent as string);
    const table = hosts.table;
    const { srcId, dstId, kinds } = keys;
    const side = this.side;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const sd = side[i];
      if (sd === SRC_LOCAL) sum += table.touch3(srcId[i], kinds[i] & SRC_INTERNED, 0);
      else if (sd === DST_LOCAL) sum += table.touch3(dstId[i], kinds[i] & DST_INTERNED ? 1 : 0, 0);
    }
    const rows = hosts.rows.f;
    for (let i = 0; i < n; i++) {
      const sd = side[i];
      if (sd === NEITHER) continue;
      const s = sd === SRC_LOCAL ? table.peek(srcId[i], kinds[i] & SRC_INTERNED, 0) : table.peek(dstId[i], kinds[i] & DST_INTERNED ? 1 : 0, 0);
      if (s >= 0) sum += rows[ROW * s];
    }
    this.prefetched = sum;
  }

  /** what the prefetch passes read, kept so that their reads are not optimised away */
  prefetched = 0;

  /** Counts `sent` bytes of flow `i`; `inbound`: the local host is the flow's responder. */
  private add(flows: readonly FlowRow[], keys: FlowKeys, i: number, hostId: number, hostKind: number, peerId: number, peerKind: number, inbound: boolean, sent: number, emit: EmitAlert): void {
    const hosts = this.hosts.of(keys.agent ?? flows[i].agentId);
    const lastUs = keys.lastUs[i];
    const bucket = Math.floor(lastUs / this.bucketUs);
    let s = hosts.table.find(hostId, hostKind, 0);
    if (s < 0) {
      s = hosts.table.add(hostId, hostKind, 0);
      hosts.rows.ensure(hosts.table.capacity);
      this.reset(hosts, s, inbound ? flows[i].dstIp : flows[i].srcIp, bucket);
    }
    const rows = hosts.rows.f;
    const ints = hosts.rows.i;
    const r = ROW * s;
    const w = 2 * r;
    if (bucket > rows[r + BUCKET]) this.roll(hosts, s, bucket);
    else if (bucket < rows[r + BUCKET]) return; // a late record for a finished bucket: too late to judge
    const bytes = (rows[r + BYTES] += sent);
    this.addDestination(hosts, s, peerId, peerKind, flows[i], inbound, sent);
    const count = ints[w + EV_COUNT];
    if (count < EVIDENCE_FLOWS) hosts.states[s].ev.add(flows[i]);
    ints[w + EV_COUNT] = count + 1;
    const firstUs = keys.firstUs[i];
    if (firstUs < rows[r + EV_FIRST_US]) rows[r + EV_FIRST_US] = firstUs;
    if (lastUs > rows[r + EV_LAST_US]) rows[r + EV_LAST_US] = lastUs;
    if (lastUs < rows[r + QUIET_UNTIL_US]) return;
    const limit = rows[r + LIMIT];
    if (bytes <= limit) return;
    const f = flows[i];
    const h = hosts.states[s];
    h.alerted = true;
    rows[r + LIMIT] = Infinity;
    rows[r + QUIET_UNTIL_US] = f.lastUs + this.opts.suppress_secs * 1e6;
    const destBytes = hosts.rows.destBytes;
    const top = h.destIps.map((ip, k) => ({ ip, bytes: destBytes[MAX_DESTINATIONS * s + k] })).sort((a, b) => b.bytes - a.bytes).slice(0, 5);
    const ev = { flows: h.ev.flows, count: ints[w + EV_COUNT], firstUs: rows[r + EV_FIRST_US], lastUs: rows[r + EV_LAST_US] };
    emit(alertFrom({
      category: 'exfiltration', severity: 'high', attack_id: 'T1048', agent_id: f.agentId, src_ip: h.ip, dst_ip: top[0]?.ip ?? (inbound ? f.srcIp : f.dstIp),
      score: bytes, threshold: limit,
      evidence: {
        outbound_bytes: bytes, bucket_secs: this.opts.bucket_secs, baseline_mean_bytes: Math.round(h.mean),
        baseline_std_bytes: Math.round(Math.sqrt(h.variance)), learned_buckets: h.learned, top_destinations: top,
      },
    }, ev));
  }

  /** Adds `sent` bytes to the peer of `f` (its source when `inbound`) in slot `s`'s destinations. */
  private addDestination(hosts: Hosts, s: number, id: number, kind: number, f: FlowRow, inbound: boolean, sent: number): void {
    const { i: ints, destIds, destBytes } = hosts.rows;
    const w = 2 * ROW * s;
    const bit = (Math.imul(id ^ (id >>> 15), 0x2c1b3c6d) + kind) >>> 26;
    const word = w + (bit < 32 ? DEST_LO : DEST_HI);
    const mask = 1 << (bit & 31);
    const v = ints[w + DEST_COUNT];
    const count = v & 0xff;
    const d = MAX_DESTINATIONS * s;
    if ((ints[word] & mask) !== 0) {
      const kinds = v >>> 16;
      for (let k = 0; k < count; k++) {
        if (destIds[d + k] === id && ((kinds >>> k) & 1) === kind) {
          destBytes[d + k] += sent;
          return;
        }
      }
    }
    if (count === MAX_DESTINATIONS) return;
    ints[word] |= mask;
    destIds[d + count] = id;
    destBytes[d + count] = sent;
    hosts.states[s].destIps.push(inbound ? f.srcIp : f.dstIp);
    ints[w + DEST_COUNT] = (v | (kind << (16 + count))) + 1;
  }

  /** Slot `s` now holds the host `ip`, starting in `bucket` with nothing learned. */
  private reset(hosts: Hosts, s: number, ip: string, bucket: number): void {
    let h = hosts.states[s];
    if (h === undefined) hosts.states[s] = h = new Host();
    h.ip = ip;
    h.mean = 0;
    h.variance = 0;
    h.learned = 0;
    h.alerted = false;
    const rows = hosts.rows.f;
    rows[ROW * s + BUCKET] = bucket;
    rows[ROW * s + QUIET_UNTIL_US] = -Infinity;
    this.clearBucket(hosts, s);
  }

  /** Empties slot `s`'s current bucket (bytes, destinations, evidence) and sets its limit. */
  private clearBucket(hosts: Hosts, s: number): void {
    const h = hosts.states[s];
    h.destIps.length = 0;
    h.ev.clear();
    const rows = hosts.rows.f;
    const ints = hosts.rows.i;
    const r = ROW * s;
    rows[r + BYTES] = 0;
    rows[r + LIMIT] = h.alerted || h.learned < this.opts.learning_buckets
      ? Infinity
      : Math.max(this.opts.min_bytes, h.mean + this.opts.deviation_factor * Math.sqrt(h.variance));
    rows[r + EV_FIRST_US] = Infinity;
    rows[r + EV_LAST_US] = -Infinity;
    ints[2 * r + DEST_LO] = 0;
    ints[2 * r + DEST_HI] = 0;
    ints[2 * r + DEST_COUNT] = 0;
    ints[2 * r + EV_COUNT] = 0;
  }

  /** Finishes slot `s`'s current bucket (and any silent ones, as 0) into the baseline. */
  private roll(hosts: Hosts, s: number, bucket: number): void {
    const h = hosts.states[s];
    const rows = hosts.rows.f;
    const gaps = Math.min(bucket - rows[ROW * s + BUCKET], this.opts.learning_buckets * 4);
    for (let i = 0; i < gaps; i++) {
      const x = i === 0 && !h.alerted ? rows[ROW * s + BYTES] : 0;
      if (i === 0 && h.alerted) continue;
      if (h.learned === 0) h.mean = x;
      const d = x - h.mean;
      h.mean += this.alpha * d;
      h.variance = (1 - this.alpha) * (h.variance + this.alpha * d * d);
      h.learned++;
    }
    rows[ROW * s + BUCKET] = bucket;
    h.alerted = false;
    this.clearBucket(hosts, s);
  }
}
