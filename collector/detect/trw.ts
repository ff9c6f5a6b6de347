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
// 100000 sources per agent (bounded-map.ts). Fixed: at most 256 contacted hosts remembered per source.
import type { TrwConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgentMap } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { FlowKeys, type AddrKey } from './flow-keys';
import { Probe, probeOutcome } from './probes';

const MAX_CONTACTED = 256;

interface Walk {
  llr: number;
  /** destination address keys (flow-keys.ts), at most MAX_CONTACTED: an array, searched linearly —
   * walks restart after a few trials, so it is short, and emptying it allocates nothing (a Set's clear does) */
  contacted: AddrKey[];
  failures: number;
  successes: number;
  lastUs: number;
  quietUntilUs: number;
  ev: FlowEvidence;
}

export class TrwDetector implements Detector {
  readonly name = 'trw';
  private readonly walks: PerAgentMap<Walk>;
  private readonly up: number;
  private readonly down: number;
  private readonly upper: number;
  private readonly lower: number;
  /** the batch's trials, as flow indexes in start order (reused) */
  private readonly trials: number[] = [];

  constructor(private readonly opts: TrwConfig) {
    this.walks = new PerAgentMap(opts.max_tracked_sources);
    const { benign_success_prob: t0, scanner_success_prob: t1, false_positive_prob: a, detection_prob: b } = opts;
    this.up = Math.log((1 - t1) / (1 - t0));
    this.down = Math.log(t1 / t0);
    this.upper = Math.log(b / a);
    this.lower = Math.log((1 - b) / (1 - a));
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const trials = this.trials;
    trials.length = 0;
    for (let i = 0; i < flows.length; i++) if (probeOutcome(flows[i]) !== Probe.NONE) trials.push(i);
    if (trials.length === 0) return;
    const { src, dst } = FlowKeys.of(flows, batchKeys);
    trials.sort((a, b) => flows[a].firstUs - flows[b].firstUs); // stable: as byStart
    const idleUs = this.opts.idle_secs * 1e6;
    for (const i of trials) {
      const f = flows[i];
      const walks = this.walks.of(f.agentId);
      let w = walks.get(src[i]);
      if (!w || f.firstUs - w.lastUs > idleUs) {
        w = { llr: 0, contacted: [], failures: 0, successes: 0, lastUs: f.firstUs, quietUntilUs: w?.quietUntilUs ?? -Infinity, ev: new FlowEvidence() };
        walks.set(src[i], w);
      }
      if (f.firstUs > w.lastUs) w.lastUs = f.firstUs;
      if (w.contacted.includes(dst[i])) continue; // not a first contact
      if (w.contacted.length >= MAX_CONTACTED) w.contacted.length = 0;
      w.contacted.push(dst[i]);
      if (f.firstUs < w.quietUntilUs) continue;
      if (probeOutcome(f) === Probe.FAILED) {
        w.llr += this.up;
        w.failures++;
        w.ev.add(f);
      } else {
        w.llr += this.down;
        w.successes++;
      }
      if (w.llr <= this.lower) this.restart(w);
      else if (w.llr >= this.upper) {
        emit(alertFrom({
          category: 'host_scan', severity: 'medium', attack_id: 'T1046', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: null,
          score: w.llr, threshold: this.upper,
          evidence: {
            rule: 'threshold_random_walk', failed_first_contacts: w.failures, answered_first_contacts: w.successes,
            log_likelihood_ratio: Math.round(w.llr * 1000) / 1000,
          },
        }, w.ev));
        w.quietUntilUs = f.firstUs + this.opts.suppress_secs * 1e6;
        this.restart(w);
      }
    }
  }

  private restart(w: Walk): void {
    w.contacted.length = 0;
    w.llr = 0;
    w.failures = 0;
    w.successes = 0;
    w.ev.clear();
  }
}
