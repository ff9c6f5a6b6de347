// Threshold Random Walk scan detection (Jung, Paxson, Berger, Balakrishnan, "Fast Portscan Detection
// Using Sequential Hypothesis Testing", IEEE S&P 2004): each FIRST contact of a source with a new
// destination host is a Bernoulli trial, answered (success) or failed (no answer / refused). A
// benign host's first contacts succeed with probability θ0 (benign_success_prob), a scanner's with θ1
// (scanner_success_prob). The log-likelihood ratio Λ walks up by ln((1-θ1)/(1-θ0)) on a failure and
// down by ln(θ1/θ0) on a success; Λ ≥ ln(β/α) calls the source a scanner (alert, category host_scan,
// MITRE T1046), Λ ≤ ln((1-β)/(1-α)) calls it benign and the walk restarts at 0. With the defaults
// (θ0 0.8, θ1 0.2, α 0.01, β 0.99) four failed first contacts in a row are enough, whatever the time
// between them, so slow scans are caught as soon as fast ones.
//
// Trials: TCP connection attempts and ICMP echo requests (probes.ts), in start order.
// Thresholds (detect.trw): benign_success_prob θ0 0.8; scanner_success_prob θ1 0.2;
// false_positive_prob α 0.01; detection_prob β 0.99; idle_secs 86400 s of flow time before a
// source's walk is forgotten; suppress_secs 3600 s of quiet after an alert; max_tracked_sources
// 100000 sources per agent (slot-table.ts; a walk's row and object are reused by the next source of
// its slot). Fixed: at most 256 contacted hosts remembered per source.
import type { TrwConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { DST_INTERNED, FlowKeys, PROBE_ANSWERED, PROBE_FAILED, SRC_INTERNED } from './flow-keys';
import { SlotRows, SlotTable } from './slot-table';
import { indexesByStart } from './start-order';

const MAX_CONTACTED = 256;

/**
 * What every trial reads of its source's walk, one row of 8 doubles per slot (64 bytes: one cache
 * line) in WalkRows; the rest (Walk: the evidence, contacted hosts past the first INLINE) is read
 * only for failed trials, long walks and alerts. Doubles 0–2 below; int32 words 6–15 (doubles 3–7).
 */
const ROW = 8;
const LLR = 0;
const LAST_US = 1;
const QUIET_UNTIL_US = 2;
const FAILURES = 6;
const SUCCESSES = 7;
/** contacted hosts held, at most MAX_CONTACTED */
const N_CONTACTED = 8;
/** bit k: inline contacted host k is an interned id (flow-keys.ts) */
const CONTACTED_KINDS = 9;
/** the first INLINE contacted hosts' ids: walks restart after a few trials, so most fit here */
const CONTACTED = 10;
const INLINE = 6;

class Walk {
  /** contacted hosts past the first INLINE (flow-keys.ts id × 2 + 1 when interned): searched
   * linearly, emptied by the row's count alone, keeping the array's storage */
  readonly contacted: number[] = [];
  readonly ev = new FlowEvidence();
}

/** One agent's sources: their slots, each slot's row (grown with the table) and Walk (made when first needed). */
class Walks extends SlotRows {
  readonly table: SlotTable;
  readonly states: (Walk | undefined)[] = [];

  constructor(max: number) {
    super(ROW);
    this.table = new SlotTable(max);
  }

  walk(s: number): Walk {
    let w = this.states[s];
    if (w === undefined) this.states[s] = w = new Walk();
    return w;
  }
}

export class TrwDetector implements Detector {
  readonly name = 'trw';
  private readonly walks: PerAgent<Walks>;
  private readonly up: number;
  private readonly down: number;
  private readonly upper: number;
  private readonly lower: number;
  /** the batch's trials, as flow indexes (reused) */
  private trials = new Int32Array(1024);

  constructor(private readonly opts: TrwConfig) {
    this.walks = new PerAgent(() => new Walks(opts.max_tracked_sources));
    const { benign_success_prob: t0, scanner_success_prob: t1, false_positive_prob: a, detection_prob: b } = opts;
    this.up = Math.log((1 - t1) / (1 - t0));
    this.down = Math.log(t1 / t0);
    this.upper = Math.log(b / a);
    this.lower = Math.log((1 - b) / (1 - a));
  }

  evictions(): number {
    return this.walks.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    if (this.trials.length < flows.length) this.trials = new Int32Array(flows.length);
    const keys = FlowKeys.of(flows, batchKeys);
    const { srcId, dstId, kinds, traits, firstUs } = keys;
    let n = 0;
    for (let i = 0; i < flows.length; i++) if ((traits[i] & (PROBE_FAILED | PROBE_ANSWERED)) !== 0) this.trials[n++] = i;
    if (n === 0) return;
    const trials = indexesByStart(this.trials, n, firstUs);
    if (keys.agent !== undefined) this.prefetch(keys, trials, n);
    const idleUs = this.opts.idle_secs * 1e6;
    for (let t = 0; t < n; t++) {
      const i = trials[t];
      const fu = firstUs[i];
      const walks = this.walks.of(keys.agent ?? flows[i].agentId);
      const kind = kinds[i];
      const srcKind = kind & SRC_INTERNED;
      let s = walks.table.find(srcId[i], srcKind, 0);
      if (s < 0) {
        s = walks.table.add(srcId[i], srcKind, 0);
        walks.ensure(walks.table.capacity);
        walks.states[s]?.ev.clear(); // the slot's previous source's
        walks.f[ROW * s + QUIET_UNTIL_US] = -Infinity;
        this.restart(walks, s, fu);
      } else if (fu - walks.f[ROW * s + LAST_US] > idleUs) this.restart(walks, s, fu);
      const rows = walks.f;
      const ints = walks.i;
      const r = ROW * s;
      const w = 2 * r;
      if (fu > rows[r + LAST_US]) rows[r + LAST_US] = fu;
      const id = dstId[i];
      const dstKind = kind & DST_INTERNED ? 1 : 0;
      if (this.contacted(walks, s, id, dstKind)) continue; // not a first contact
      if (fu < rows[r + QUIET_UNTIL_US]) continue;
      if ((traits[i] & PROBE_FAILED) !== 0) {
        rows[r + LLR] += this.up;
        ints[w + FAILURES]++;
        walks.walk(s).ev.add(flows[i]);
      } else {
        rows[r + LLR] += this.down;
        ints[w + SUCCESSES]++;
      }
      const llr = rows[r + LLR];
      if (llr <= this.lower) this.restart(walks, s, rows[r + LAST_US]);
      else if (llr >= this.upper) {
        const f = flows[i];
        emit(alertFrom({
          category: 'host_scan', severity: 'medium', attack_id: 'T1046', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: null,
          score: llr, threshold: this.upper,
          evidence: {
            rule: 'threshold_random_walk', failed_first_contacts: ints[w + FAILURES], answered_first_contacts: ints[w + SUCCESSES],
            log_likelihood_ratio: Math.round(llr * 1000) / 1000,
          },
        }, walks.walk(s).ev));
        rows[r + QUIET_UNTIL_US] = fu + this.opts.suppress_secs * 1e6;
        this.restart(walks, s, rows[r + LAST_US]);
      }
    }
  }

  /** Whether slot `s`'s walk has contacted host (`id`, `kind`) already; if not, it now has. */
  private contacted(walks: Walks, s: number, id: number, kind: number): boolean {
    const ints = walks.i;
    const w = 2 * ROW * s;
    let n = ints[w + N_CONTACTED];
    const kinds = ints[w + CONTACTED_KINDS];
    const inline = Math.min(n, INLINE);
    for (let k = 0; k < inline; k++) if (ints[w + CONTACTED + k] === id && ((kinds >>> k) & 1) === kind) return true;
    const d = id * 2 + kind;
    if (n > INLINE) {
      const more = (walks.states[s] as Walk).contacted;
      for (let k = 0; k < n - INLINE; k++) if (more[k] === d) return true;
    }
    if (n >= MAX_CONTACTED) n = 0;
    if (n < INLINE) {
      ints[w + CONTACTED + n] = id;
      ints[w + CONTACTED_KINDS] = (kinds & ~(1 << n)) | (kind << n);
    } else walks.walk(s).contacted[n - INLINE] = d;
    ints[w + N_CONTACTED] = n + 1;
    return false;
  }

  /**
   * Two passes that only read the trials' index entries, then their rows, so that their cache
   * misses overlap (see exfiltration.ts's prefetch).
   */
  private prefetch(keys: FlowKeys, trials: Int32Array, n: number): void {
    const walks = this.walks.of(keys.agent as string);
    const table = walks.table;
    let sum = 0;
    for (let t = 0; t < n; t++) {
      const i = trials[t];
      sum += table.touch3(keys.srcId[i], keys.kinds[i] & SRC_INTERNED, 0);
    }
    const rows = walks.f;
    for (let t = 0; t < n; t++) {
      const i = trials[t];
      const s = table.peek(keys.srcId[i], keys.kinds[i] & SRC_INTERNED, 0);
      if (s >= 0) sum += rows[ROW * s];
    }
    this.prefetched = sum;
  }

  /** what the prefetch passes read, kept so that their reads are not optimised away */
  prefetched = 0;

  /** Starts slot `s`'s walk afresh (keeps its quiet period). */
  private restart(walks: Walks, s: number, lastUs: number): void {
    const r = ROW * s;
    const w = 2 * r;
    // the evidence holds failed trials only: none since the last restart, nothing to clear
    if (walks.i[w + FAILURES] > 0) walks.walk(s).ev.clear();
    walks.f[r + LAST_US] = lastUs;
    walks.f[r + LLR] = 0;
    walks.i[w + N_CONTACTED] = 0;
    walks.i[w + FAILURES] = 0;
    walks.i[w + SUCCESSES] = 0;
  }
}
