// Half-Space Trees (Tan, Ting, Liu, "Fast Anomaly Detection for Streaming Data", IJCAI 2011): an
// ensemble of random, perfectly balanced trees over the unit cube, built before any data is seen.
// Each node counts the points that passed through it in the reference window (r) and in the current
// window (l); after every `windowSize` points the current counts become the reference. A point's mass
// score is Σ over trees of r(node) · 2^depth at the first node whose reference mass is below
// `sizeLimit` (or at a leaf). Dense regions score high, so anomaly = low mass; `anomaly()` returns
// 1 − score / maxScore in [0, 1]. Constant time and memory per point: trees × height node visits,
// typed arrays, no allocation after construction.

export interface HstOptions {
  trees: number;
  height: number;
  windowSize: number;
  dims: number;
  /** seeded so that replays are reproducible */
  seed: number;
}

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class HalfSpaceTrees {
  private readonly nodes: number;
  private readonly splitDim: Int32Array;
  private readonly splitValue: Float64Array;
  private readonly r: Int32Array;
  private readonly l: Int32Array;
  private readonly sizeLimit: number;
  private readonly maxScore: number;
  private seen = 0;

  constructor(private readonly o: HstOptions) {
    this.nodes = (1 << (o.height + 1)) - 1;
    const total = this.nodes * o.trees;
    this.splitDim = new Int32Array(total);
    this.splitValue = new Float64Array(total);
    this.r = new Int32Array(total);
    this.l = new Int32Array(total);
    this.sizeLimit = 0.1 * o.windowSize;
    this.maxScore = o.trees * o.windowSize * 2 ** o.height;
    const rand = prng(o.seed);
    const lo = new Float64Array(o.dims);
    const hi = new Float64Array(o.dims);
    for (let t = 0; t < o.trees; t++) {
      // random work space per tree (as in the paper): each dimension's range is [s - 2·max(s,1-s), s + 2·max(s,1-s)]
      for (let d = 0; d < o.dims; d++) {
        const s = rand();
        const w = 2 * Math.max(s, 1 - s);
        lo[d] = s - w;
        hi[d] = s + w;
      }
      this.build(t * this.nodes, 0, lo, hi, 0, rand);
    }
  }

  private build(base: number, node: number, lo: Float64Array, hi: Float64Array, depth: number, rand: () => number): void {
    if (depth === this.o.height) return;
    const d = Math.floor(rand() * this.o.dims);
    const mid = (lo[d] + hi[d]) / 2;
    this.splitDim[base + node] = d;
    this.splitValue[base + node] = mid;
    const saveHi = hi[d];
    hi[d] = mid;
    this.build(base, 2 * node + 1, lo, hi, depth + 1, rand);
    hi[d] = saveHi;
    const saveLo = lo[d];
    lo[d] = mid;
    this.build(base, 2 * node + 2, lo, hi, depth + 1, rand);
    lo[d] = saveLo;
  }

  /** Scores `x` (each value in [0, 1]) against the reference window, then learns it. Returns anomaly in [0, 1]. */
  scoreAndLearn(x: Float64Array): number {
    const { trees, height } = this.o;
    const nodes = this.nodes;
    const warm = this.seen >= this.o.windowSize;
    // locals, not `this.` loads, in the loop that runs trees × height times per flow
    const r = this.r;
    const l = this.l;
    const dim = this.splitDim;
    const split = this.splitValue;
    const sizeLimit = this.sizeLimit;
    let score = 0;
    for (let t = 0; t < trees; t++) {
      const base = t * nodes;
      let node = 0;
      let depth = 0;
      let scored = !warm;
      for (;;) {
        const i = base + node;
        l[i]++;
        if (!scored && (r[i] < sizeLimit || depth === height)) {
          score += r[i] * (1 << depth);
          scored = true;
        }
        if (depth === height) break;
        node = x[dim[i]] < split[i] ? 2 * node + 1 : 2 * node + 2;
        depth++;
      }
    }
    this.seen++;
    if (this.seen % this.o.windowSize === 0) {
      this.r.set(this.l);
      this.l.fill(0);
    }
    return warm ? 1 - Math.min(1, score / this.maxScore) : 0;
  }
}
