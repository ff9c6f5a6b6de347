// Offline flow metering, ours against the peers, on one capture file in the page cache.
//
// Ours is the agent CLI exactly as a user runs it, minus npm (agent-cli.ts): `--read FILE --jsonl
// /dev/null`, so every flow becomes a finished JSON record, written to /dev/null. Each round
// runs, for every peer, our agent and then that peer, back to back, and takes ratio = peer wall / our
// wall for that pair (> 1: we are faster). Round 0 is a warm-up and is not counted; the figures are
// medians over the counted rounds. Times are whole-process, from outside (run.ts), like the baseline;
// the file is read once right before every timed run so that it is in the page cache (page-cache.ts).
import { agentArgv, flowsExported, stoppedEvent } from './agent-cli';
import type { Capture } from './capture';
import { REPO_ROOT } from './harness';
import { packageVersion, type Peer } from './peers';
import { warmPageCache } from './page-cache';
import { median, timed, type Timed } from './run';

export interface OurRun {
  wallS: number;
  cpuS: number;
  maxRssBytes: number;
  frames: number;
  flowsExported: number;
}

export interface PeerResult {
  name: string;
  version: string;
  walls: number[];
  ratios: number[];
  medianWallS: number;
  /** Median of the paired ratios peer wall / our wall. */
  ratio: number;
  medianCpuS: number;
  maxRssBytes: number;
}

export interface OfflineResult {
  packets: number;
  rounds: number;
  ours: OurRun[];
  ourMedianWallS: number;
  ourMedianCpuS: number;
  ourMaxRssBytes: number;
  pps: number;
  flowsExported: number;
  peers: PeerResult[];
}

/** The offline run: every flow becomes a JSON record, written to /dev/null. */
export function offlineArgv(pcap: string, nodeFlags: string[] = []): string[] {
  return agentArgv(['--read', pcap, '--jsonl', '/dev/null'], nodeFlags);
}

async function runOurs(pcap: string): Promise<OurRun> {
  warmPageCache(pcap);
  const t: Timed = await timed(offlineArgv(pcap), { cwd: REPO_ROOT });
  const stopped = stoppedEvent(t.stderr);
  if (t.code !== 0 || !stopped) throw new Error(`agent exited with ${t.code}:\n${t.stderr.slice(-3000)}`);
  return {
    wallS: t.wallS, cpuS: t.cpuS, maxRssBytes: t.maxRssBytes,
    frames: Number(stopped.frames ?? 0), flowsExported: flowsExported(stopped),
  };
}

async function runPeer(peer: Peer, pcap: string, workDir: string): Promise<Timed> {
  const cmd = peer.prepare(pcap, workDir);
  warmPageCache(pcap);
  const t = await timed(cmd, { cwd: workDir });
  if (t.code !== 0) throw new Error(`${peer.name} exited with ${t.code}:\n${(t.stderr || t.stdout).slice(-2000)}`);
  return t;
}

export async function measureOffline(cap: Capture, opts: { runs: number; workDir: string; peers: readonly Peer[]; log: (msg: string) => void }): Promise<OfflineResult> {
  const ours: OurRun[] = [];
  const per = new Map<string, { walls: number[]; cpus: number[]; rss: number[]; ratios: number[] }>();
  for (const p of opts.peers) per.set(p.name, { walls: [], cpus: [], rss: [], ratios: [] });
  for (let round = 0; round <= opts.runs; round++) {
    const warm = round === 0;
    const parts: string[] = [];
    for (const peer of opts.peers) {
      const o = await runOurs(cap.file);
      if (o.frames !== cap.packets) throw new Error(`the agent read ${o.frames} frames of ${cap.packets}`);
      const t = await runPeer(peer, cap.file, opts.workDir);
      parts.push(`ours ${o.wallS.toFixed(2)} s / ${peer.name} ${t.wallS.toFixed(2)} s`);
      if (warm) continue;
      ours.push(o);
      const r = per.get(peer.name)!;
      r.walls.push(t.wallS);
      r.cpus.push(t.cpuS);
      r.rss.push(t.maxRssBytes);
      r.ratios.push(t.wallS / o.wallS);
    }
    if (opts.peers.length === 0) {
      const o = await runOurs(cap.file);
      parts.push(`ours ${o.wallS.toFixed(2)} s`);
      if (!warm) ours.push(o);
    }
    opts.log(`offline ${warm ? 'warm-up' : `round ${round}/${opts.runs}`}: ${parts.join(', ')}`);
  }
  const ourMedianWallS = median(ours.map((o) => o.wallS));
  return {
    packets: cap.packets,
    rounds: opts.runs,
    ours,
    ourMedianWallS,
    ourMedianCpuS: median(ours.map((o) => o.cpuS)),
    ourMaxRssBytes: Math.max(...ours.map((o) => o.maxRssBytes)),
    pps: cap.packets / ourMedianWallS,
    flowsExported: ours.length ? ours[ours.length - 1].flowsExported : 0,
    peers: opts.peers.map((p) => {
      const r = per.get(p.name)!;
      return {
        name: p.name,
        version: packageVersion(p.pkg),
        walls: r.walls,
        ratios: r.ratios,
        medianWallS: median(r.walls),
        ratio: median(r.ratios),
        medianCpuS: median(r.cpus),
        maxRssBytes: Math.max(...r.rss),
      };
    }),
  };
}
