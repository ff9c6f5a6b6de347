// The agent's Prometheus metrics: read at scrape time from the counters the modules already keep
// (nothing is counted twice and nothing runs per packet), rendered in the text exposition format 0.0.4.
// Names carry units and _total for counters, as the collector's do (collector/obs/metrics.ts).

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** one unlabelled value, or one value per label set */
  value: number | ReadonlyArray<readonly [Labels, number]>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function series(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length ? `${name}{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}` : name;
}

export function renderMetrics(samples: readonly Sample[]): string {
  let out = '';
  for (const s of samples) {
    out += `# HELP ${s.name} ${s.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${s.name} ${s.type}\n`;
    if (typeof s.value === 'number') out += `${s.name} ${s.value}\n`;
    else for (const [labels, v] of s.value) out += `${series(s.name, labels)} ${v}\n`;
  }
  return out;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
