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
// 100000 sources per agent (slot-table.ts; a walk's object is reused by the next source of its slot). Fixed: at most 256 contacted hosts remembered per source.
import type { TrwConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { DST_INTERNED, FlowKeys, PROBE_ANSWERED, PROBE_FAILED, SRC_INTERNED } from './flow-keys';
import { SlotStates } from './slot-table';
import { indexesByStart } from './start-order';

const MAX_CONTACTED = 256;

class Walk {
  llr = 0;
  /** destinations (flow-keys.ts id × 2 + 1 when interned), the first `nContacted`, at most
   * MAX_CONTACTED: searched linearly — walks restart after a few trials, so it is short — and emptied
   * by the count alone, keeping the array's storage */
  readonly contacted: number[] = [];
  nContacted = 0;
  failures = 0;
  successes = 0;
  lastUs = 0;
  quietUntilUs = -Infinity;
  readonly ev = new FlowEvidence();
}

export class TrwDetector implements Detector {
  readonly name = 'trw';
  private readonly walks: PerAgent<SlotStates<Walk>>;
  private readonly up: number;
  private readonly down: number;
  private readonly upper: number;
  private readonly lower: number;
  /** the batch's trials, as flow indexes (reused) */
  private trials = new Int32Array(1024);

  constructor(private readonly opts: TrwConfig) {
    this.walks = new PerAgent(() => new SlotStates(opts.max_tracked_sources, () => new Walk()));
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
      const f = flows[i];
      const fu = firstUs[i];
      const walks = this.walks.of(keys.agent ?? f.agentId);
      const kind = kinds[i];
      const srcKind = kind & SRC_INTERNED;
      let w = walks.get(srcId[i], srcKind, 0);
      if (!w) {
        w = walks.add(srcId[i], srcKind, 0);
        w.quietUntilUs = -Infinity;
        this.restart(w, fu);
      } else if (fu - w.lastUs > idleUs) this.restart(w, fu);
      if (fu > w.lastUs) w.lastUs = fu;
      const d = dstId[i] * 2 + (kind & DST_INTERNED ? 1 : 0);
      const contacted = w.contacted;
      let seen = false;
      for (let k = 0; k < w.nContacted && !seen; k++) seen = contacted[k] === d;
      if (seen) continue; // not a first contact
      if (w.nContacted >= MAX_CONTACTED) w.nContacted = 0;
      contacted[w.nContacted++] = d;
      if (fu < w.quietUntilUs) continue;
      if ((traits[i] & PROBE_FAILED) !== 0) {
        w.llr += this.up;
        w.failures++;
        w.ev.add(f);
      } else {
        w.llr += this.down;
        w.successes++;
      }
      if (w.llr <= this.lower) this.restart(w, w.lastUs);
      else if (w.llr >= this.upper) {
        emit(alertFrom({
          category: 'host_scan', severity: 'medium', attack_id: 'T1046', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: null,
          score: w.llr, threshold: this.upper,
          evidence: {
            rule: 'threshold_random_walk', failed_first_contacts: w.failures, answered_first_contacts: w.successes,
            log_likelihood_ratio: Math.round(w.llr * 1000) / 1000,
          },
        }, w.ev));
        w.quietUntilUs = fu + this.opts.suppress_secs * 1e6;
        this.restart(w, w.lastUs);
      }
    }
  }

  /** A first pass that only reads the trials' walks, so that their cache misses overlap (see
   * exfiltration.ts's prefetch). */
  private prefetch(keys: FlowKeys, trials: Int32Array, n: number): void {
    const walks = this.walks.of(keys.agent as string);
    let sum = 0;
    for (let t = 0; t < n; t++) {
      const i = trials[t];
      const w = walks.peek(keys.srcId[i], keys.kinds[i] & SRC_INTERNED, 0);
      if (w !== undefined && w.nContacted > 0) sum += w.contacted[0];
    }
    this.prefetched = sum;
  }

  /** what the prefetch pass read, kept so that its reads are not optimised away */
  prefetched = 0;

  /** Starts the walk afresh (keeps its quiet period). */
  private restart(w: Walk, lastUs: number): void {
    w.lastUs = lastUs;
    w.nContacted = 0;
    w.llr = 0;
    w.failures = 0;
    w.successes = 0;
    w.ev.clear();
  }
}
