// Counters and gauges rendered in the Prometheus text exposition format (version 0.0.4).
// No module-level registry: main.ts makes one and hands it to each module, which registers its own
// metrics. Label sets are low-cardinality by construction (error codes, endpoint kinds, detector names).

export type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, initial: Labels[] = [{}]) {
    // Series listed up front appear as 0 before the first event, so rate() works from the start.
    for (const l of initial) this.values.set(labelKey(l), 0);
  }
  inc(labels?: Labels, n = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + n);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} counter\n`;
    for (const [k, v] of this.values) out += `${this.name}${k ? `{${k}}` : ''} ${v}\n`;
    return out;
  }
}

/** A gauge read at scrape time from a callback (open connections, subscribers). */
export class Gauge {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number | Array<[Labels, number]>) {}
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} gauge\n`;
    const v = this.read();
    if (typeof v === 'number') return out + `${this.name} ${v}\n`;
    for (const [labels, n] of v) {
      const k = labelKey(labels);
      out += `${this.name}${k ? `{${k}}` : ''} ${n}\n`;
    }
    return out;
  }
}

/** Cumulative buckets (le = upper bound), _sum and _count, as Prometheus histograms are. */
export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]) this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} histogram\n`;
    this.bounds.forEach((b, i) => (out += `${this.name}_bucket{le="${b}"} ${this.counts[i]}\n`));
    return out + `${this.name}_bucket{le="+Inf"} ${this.count}\n${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  counter(name: string, help: string, initial?: Labels[]): Counter {
    const existing = this.metrics.get(name);
    if (existing instanceof Counter) return existing;
    if (existing) throw new Error(`metric ${name} is already registered as a gauge`);
    if (!NAME_RE.test(name)) throw new Error(`bad metric name ${name}`);
    const c = new Counter(name, help, initial);
    this.metrics.set(name, c);
    return c;
  }

  gauge(name: string, help: string, read: () => number | Array<[Labels, number]>): Gauge {
    if (this.metrics.has(name)) throw new Error(`metric ${name} is already registered`);
    if (!NAME_RE.test(name)) throw new Error(`bad metric name ${name}`);
    const g = new Gauge(name, help, read);
    this.metrics.set(name, g);
    return g;
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    if (this.metrics.has(name)) throw new Error(`metric ${name} is already registered`);
    if (!NAME_RE.test(name)) throw new Error(`bad metric name ${name}`);
    const h = new Histogram(name, help, [...bounds].sort((a, b) => a - b));
    this.metrics.set(name, h);
    return h;
  }

  /** The Prometheus text format body (Content-Type: text/plain; version=0.0.4). */
  render(): string {
    let out = '';
    for (const m of this.metrics.values()) out += m.render();
    return out;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
