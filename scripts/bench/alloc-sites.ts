// Where allocations come from: V8's sampling heap profiler (inspector HeapProfiler.startSampling,
// objects later collected by a GC included) around a piece of work, summed per allocating function
// and its caller. Sampled, so the bytes are estimates; good for naming the culprits, not for totals
// (heap-meter.ts gives those).
import { Session } from 'node:inspector';

export interface AllocSite {
  /** "function (file) < caller (file)". */
  site: string;
  bytes: number;
}

interface CallFrame { functionName: string; url: string }
interface ProfileNode { callFrame: CallFrame; selfSize: number; children: ProfileNode[] }

function post<T>(s: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
}

function frameName(f: CallFrame): string {
  const file = f.url ? f.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/') : 'native';
  return `${f.functionName || '(anonymous)'} (${file})`;
}

/** Runs `work` under the sampling profiler; returns the `top` sites by bytes. */
export async function allocationSites(work: () => void, top = 6, samplingInterval = 128): Promise<AllocSite[]> {
  const s = new Session();
  s.connect();
  try {
    await post(s, 'HeapProfiler.enable');
    await post(s, 'HeapProfiler.startSampling', {
      samplingInterval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
    work();
    const { profile } = await post<{ profile: { head: ProfileNode } }>(s, 'HeapProfiler.stopSampling');
    const bySite = new Map<string, number>();
    const walk = (n: ProfileNode, caller: string): void => {
      const name = frameName(n.callFrame);
      if (n.selfSize > 0) {
        const site = caller ? `${name} < ${caller}` : name;
        bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c, name);
    };
    walk(profile.head, '');
    return [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top).map(([site, bytes]) => ({ site, bytes }));
  } finally {
    await post(s, 'HeapProfiler.disable').catch(() => undefined);
    s.disconnect();
  }
}
