// Online unsupervised anomaly model (category anomaly, no MITRE technique: it says "unusual", not
// what). One model per network — the agent, or the agent and the initiator's prefix when
// network_prefix_v4 / network_prefix_v6 are set — each learning that network's normal:
//
//   1. learning, first half of `learning_flows`: per-feature min and max of the network's flows
//      (flow-features.ts), used from then on to scale each feature to [0, 1] (clamped);
//   2. learning, second half: the scaled flows train a Half-Space Trees ensemble (hst.ts: `trees`
//      trees of height `tree_height`, reference window `window_flows`); once the trees are warm, the
//      flows' anomaly scores are kept for calibration;
//   3. detecting: every flow is scored (and still learned). The alert threshold is the (1 −
//      alert_rate) quantile of the calibration scores, so about `alert_rate` of normal flows alert;
//      it is recomputed from the most recent `learning_flows / 2` non-alerting scores every
//      `learning_flows` flows, following slow drift.
//
// Alerts: severity low, score = anomaly in [0, 1], threshold = the calibrated cut-off, evidence: the
// network, the flow's features and which were outside the learned range. Memory: at most
// `max_networks` models (bounded-map.ts), each trees × 2^(tree_height+1) nodes × 24 bytes plus learning_flows/2
// scores. Seeded trees, so a replay gives the same alerts every time.
import type { AnomalyConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence, round } from './evidence';
import { FEATURE_COUNT, FEATURE_NAMES, flowFeatures } from './flow-features';
import { HalfSpaceTrees } from './hst';
import { networkOf } from './prefix-set';

const SEED = 0x60a1;

interface Model {
  seen: number;
  min: Float64Array;
  max: Float64Array;
  trees: HalfSpaceTrees;
  scores: Float64Array;
  nScores: number;
  threshold: number;
}

export class AnomalyDetector implements Detector {
  readonly name = 'anomaly';
  private readonly models: BoundedMap<string, Model>;
  /** no prefixes: one network per agent, keyed by the agent id alone */
  private readonly perAgent: boolean;
  private readonly raw = new Float64Array(FEATURE_COUNT);
  private readonly scaled = new Float64Array(FEATURE_COUNT);
  private readonly half: number;

  constructor(private readonly opts: AnomalyConfig) {
    this.models = new BoundedMap(opts.max_networks);
    this.perAgent = opts.network_prefix_v4 === 0 && opts.network_prefix_v6 === 0;
    this.half = Math.floor(opts.learning_flows / 2);
  }

  /** Models currently held; `learning` counts those still in their learning period. */
  get networks(): { total: number; learning: number } {
    let learning = 0;
    for (const m of this.models.values()) if (m.seen < this.opts.learning_flows) learning++;
    return { total: this.models.size, learning };
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    const o = this.opts;
    for (const f of flows) {
      const key = this.perAgent ? f.agentId : `${f.agentId}\u0000${networkOf(f.srcIp, o.network_prefix_v4, o.network_prefix_v6)}`;
      let m = this.models.get(key);
      if (!m) this.models.set(key, (m = this.newModel()));
      flowFeatures(f, this.raw);
      m.seen++;
      if (m.seen <= this.half) {
        for (let i = 0; i < FEATURE_COUNT; i++) {
          const v = this.raw[i];
          if (v < m.min[i]) m.min[i] = v;
          if (v > m.max[i]) m.max[i] = v;
        }
        continue;
      }
      this.scale(m);
      const score = m.trees.scoreAndLearn(this.scaled);
      if (m.seen <= o.learning_flows) {
        if (m.seen > this.half + o.window_flows) this.keep(m, score);
        if (m.seen === o.learning_flows) this.calibrate(m);
        continue;
      }
      if (score > m.threshold) {
        emit(this.alert(f, networkOf(f.srcIp, o.network_prefix_v4, o.network_prefix_v6), m, score));
      } else this.keep(m, score);
      if ((m.seen - o.learning_flows) % o.learning_flows === 0) this.calibrate(m);
    }
  }

  private newModel(): Model {
    const o = this.opts;
    return {
      seen: 0,
      min: new Float64Array(FEATURE_COUNT).fill(Infinity),
      max: new Float64Array(FEATURE_COUNT).fill(-Infinity),
      trees: new HalfSpaceTrees({ trees: o.trees, height: o.tree_height, windowSize: o.window_flows, dims: FEATURE_COUNT, seed: SEED }),
      scores: new Float64Array(Math.max(1, this.half)),
      nScores: 0,
      threshold: 1,
    };
  }

  private scale(m: Model): void {
    for (let i = 0; i < FEATURE_COUNT; i++) {
      const span = m.max[i] - m.min[i];
      const v = span > 0 ? (this.raw[i] - m.min[i]) / span : this.raw[i] === m.min[i] ? 0.5 : this.raw[i] > m.min[i] ? 1 : 0;
      this.scaled[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }

  /** Ring of recent non-alerting scores. */
  private keep(m: Model, score: number): void {
    m.scores[m.nScores % m.scores.length] = score;
    m.nScores++;
  }

  private calibrate(m: Model): void {
    const n = Math.min(m.nScores, m.scores.length);
    if (n === 0) return;
    const sorted = m.scores.slice(0, n).sort();
    const idx = Math.min(n - 1, Math.floor((1 - this.opts.alert_rate) * n));
    // strictly above the quantile; the max when the rate asks for less than one sample
    m.threshold = sorted[idx];
  }

  private alert(f: FlowRow, net: string, m: Model, score: number) {
    const features: Record<string, number> = {};
    const outside: string[] = [];
    for (let i = 0; i < FEATURE_COUNT; i++) {
      features[FEATURE_NAMES[i]] = round(this.raw[i], 3);
      if (this.raw[i] < m.min[i] || this.raw[i] > m.max[i]) outside.push(FEATURE_NAMES[i]);
    }
    const ev = new FlowEvidence();
    ev.add(f);
    return alertFrom({
      category: 'anomaly', severity: 'low', attack_id: null, agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
      dst_port: f.dstPort, score, threshold: m.threshold,
      evidence: { network: net, alert_rate: this.opts.alert_rate, features, outside_learned_range: outside },
    }, ev);
  }
}
