// Where the agent's offline time goes: one CLI run under V8's CPU profiler (node --cpu-prof, 100 µs
// sampling), summed by function (self time), top N. GC and idle time show as V8's pseudo-functions
// "(garbage collector)", "(program)", "(idle)".
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './harness';
import { offlineArgv } from './offline';
import { warmPageCache } from './page-cache';
import { timed } from './run';

export interface ProfileEntry {
  fn: string;
  selfMs: number;
  percent: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

export async function profileAgent(pcap: string, top = 15): Promise<{ wallS: number; entries: ProfileEntry[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-prof-'));
  try {
    warmPageCache(pcap);
    const t = await timed(offlineArgv(pcap, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100']), { cwd: REPO_ROOT });
    if (t.code !== 0) throw new Error(`profiled agent exited with ${t.code}:\n${t.stderr.slice(-2000)}`);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const name = new Map<number, string>();
    for (const n of prof.nodes) {
      const f = n.callFrame;
      const where = f.url ? f.url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '') : '';
      name.set(n.id, where ? `${f.functionName || '(anonymous)'} ${where}` : f.functionName || '(native, unnamed)');
    }
    // Self time: each sample's delta belongs to the node sampled.
    const self = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < prof.samples.length; i++) {
      const us = prof.timeDeltas[i] ?? 0;
      const k = name.get(prof.samples[i]) ?? '?';
      self.set(k, (self.get(k) ?? 0) + us);
      total += us;
    }
    const entries = [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([fn, us]) => ({ fn, selfMs: us / 1000, percent: (100 * us) / total }));
    return { wallS: t.wallS, entries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
