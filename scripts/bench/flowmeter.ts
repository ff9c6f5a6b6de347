// `npm run -s bench:flowmeter`: the flow meter's figures, each on one `key=value` line (method and the
// last measured numbers: docs/benchmarks.md).
//   offline   packets/s from a generated campus capture to finished flow records, against softflowd,
//             nfpcapd and argus in the same run (paired ratios)             → offline.ts, peers.ts
//   live      highest zero-drop rate from a veth pair fed by tcpreplay      → live.ts, netns.ts
//   memory    RSS bytes per active flow with 1,000,000 flows open           → memory.ts
//   allocs    heap bytes allocated per packet by decode + flow update       → allocs.ts
//   profile   (--profile) where the agent's offline time goes              → profile.ts
// The agent measured is its compiled build, rebuilt first (agent-build.ts; --source: the sources under tsx).
// Progress goes to stderr, figures to stdout. Needs root for apt-get and the namespaces (live).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareAgent } from './agent-build';
import { measureAllocs } from './allocs';
import { makeCapture, type Capture } from './capture';
import { REPO_ROOT } from './harness';
import { measureLive } from './live';
import { measureMemory } from './memory';
import { measureOffline } from './offline';
import { PEERS, TOOLS, ensureInstalled, hasBinary } from './peers';
import { profileAgent } from './profile';
import { allocsLines, captureLines, liveLines, memoryLines, offlineLines, profileLines } from './report';

const SECTIONS = ['allocs', 'memory', 'offline', 'live'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `Usage: npm run -s bench:flowmeter -- [options]

  --quick               1,000,000-packet capture, 1 counted run per tool, shorter live steps
  --packets N           packets in the offline capture (default 5,000,000 ≈ 3.9 GB)
  --runs K              counted paired runs per peer, after one warm-up (default 3)
  --only LIST           run only these sections (comma-separated: ${SECTIONS.join(',')})
  --skip LIST           leave these sections out
  --profile             also profile one agent run (node --cpu-prof) and print the top functions
  --flows N             concurrent flows for the memory figure (default 1,000,000)
  --alloc-packets N     frames preloaded for the allocation figure (default 250,000)
  --live-packets N      packets in the capture tcpreplay sends (default 500,000; looped as needed)
  --live-rates LIST     packet rates to try, comma-separated (default 50000,100000,...,600000)
  --live-step-secs S    seconds of traffic per rate (default 4; 2 with --quick)
  --source              measure the TypeScript sources under tsx instead of the compiled build (npm run build)
  --workdir DIR         keep captures in DIR and reuse them on the next run (default: a temporary folder, removed)
  --no-install          do not apt-get install missing peers (their figures are skipped)
`;

function list(s: string | undefined): string[] {
  return s ? s.split(',').map((x) => x.trim()).filter(Boolean) : [];
}

function num(s: string | undefined, dflt: number, name: string): number {
  if (s === undefined) return dflt;
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${s}"`);
  return n;
}

/** Commit of the measured tree, with "+changes" when it differs from the commit. */
function gitDescribe(): string {
  const git = (...args: string[]): string => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown';
  return git('status', '--porcelain', '--untracked-files=no', '--', 'agent', 'proto') ? `${head}+changes` : head;
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function out(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      quick: { type: 'boolean' }, packets: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' },
      skip: { type: 'string' }, profile: { type: 'boolean' }, flows: { type: 'string' }, 'alloc-packets': { type: 'string' },
      'live-packets': { type: 'string' }, 'live-rates': { type: 'string' }, 'live-step-secs': { type: 'string' },
      workdir: { type: 'string' }, 'no-install': { type: 'boolean' }, source: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) { process.stdout.write(USAGE); return 0; }
  const quick = v.quick === true;
  const packets = num(v.packets, quick ? 1_000_000 : 5_000_000, 'packets');
  const runs = num(v.runs, quick ? 1 : 3, 'runs');
  const only = list(v.only);
  const skip = list(v.skip);
  for (const s of [...only, ...skip]) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section "${s}" (${SECTIONS.join(', ')})`);
  const want = (s: Section): boolean => (only.length === 0 || only.includes(s)) && !skip.includes(s);
  const liveRates = v['live-rates'] ? list(v['live-rates']).map((r) => num(r, 0, 'live-rates')) : [50000, 100000, 150000, 200000, 250000, 300000, 400000, 600000];

  const keep = v.workdir !== undefined;
  const workDir = keep ? resolve(v.workdir!) : mkdtempSync(join(tmpdir(), 'gk-bench-'));
  if (keep) mkdirSync(workDir, { recursive: true });
  const cleanup = (): void => { if (!keep) rmSync(workDir, { recursive: true, force: true }); };
  process.once('exit', cleanup);
  process.once('SIGINT', () => process.exit(130));
  let failed = 0;
  const section = async (name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failed++;
      log(`${name} failed: ${(err as Error).message}`);
      out([`# ${name}: FAILED (${((err as Error).message ?? '').split('\n')[0]})`]);
    }
  };

  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
  out([`# ${new Date().toISOString()} ${cpus().length} CPUs, load average ${load()} at the start (other jobs on the box move every figure)`]);
  try {
    log(`work folder ${workDir}${keep ? ' (kept)' : ''}`);
    const tools: Record<string, string> = {};
    if (want('offline')) for (const p of PEERS) tools[p.binary] = p.pkg;
    if (want('live')) tools.tcpreplay = TOOLS.tcpreplay;
    tools.time = TOOLS.time;
    const missing = ensureInstalled(tools, log, v['no-install'] !== true);
    for (const [bin, why] of Object.entries(missing)) log(`${bin}: ${why}`);

    const build = prepareAgent(v.source === true, log);
    out([`agent build=${build} commit=${gitDescribe()}`]);

    let cap: Capture | null = null;
    if (want('offline') || want('allocs') || v.profile) {
      await section('capture', async () => {
        cap = await makeCapture(workDir, `campus-${packets}`, packets, log);
        if (cap.generatedS > 0) log(`generated in ${cap.generatedS.toFixed(0)} s`);
        out(captureLines(cap));
      });
    }
    const capture = cap as Capture | null;

    if (want('allocs') && capture) {
      await section('allocs', async () => {
        const n = num(v['alloc-packets'], 250_000, 'alloc-packets');
        log(`allocations: decode + flow update over the first ${n} frames`);
        out(allocsLines(await measureAllocs(capture.file, n)));
      });
    }
    if (want('memory')) {
      await section('memory', async () => {
        const n = num(v.flows, 1_000_000, 'flows');
        for (const features of ['compact', 'full'] as const) {
          log(`memory: ${n} concurrent flows, flow.features=${features}`);
          out(memoryLines(await measureMemory(n, features)));
        }
      });
    }
    if (want('offline') && capture) {
      await section('offline', async () => {
        const peers = PEERS.filter((p) => hasBinary(p.binary));
        for (const p of PEERS) if (!peers.includes(p)) out([`# offline: ${p.name} skipped (${missing[p.binary] ?? 'not installed'})`]);
        log(`offline: ${packets} packets, ${runs} paired run(s) per peer after a warm-up`);
        out(offlineLines(await measureOffline(capture, { runs, workDir, peers, log }), capture));
      });
    }
    if (v.profile && capture) {
      await section('profile', async () => {
        log('profile: one agent run under node --cpu-prof');
        const p = await profileAgent(capture.file);
        out(profileLines(p.wallS, p.entries));
      });
    }
    if (want('live')) {
      await section('live', async () => {
        if (process.getuid && process.getuid() !== 0) throw new Error('needs root (network namespaces)');
        if (!hasBinary('tcpreplay')) throw new Error(`tcpreplay: ${missing.tcpreplay ?? 'not installed'}`);
        const n = num(v['live-packets'], 500_000, 'live-packets');
        const liveCap = await makeCapture(workDir, `campus-${n}`, n, log);
        const stepSeconds = num(v['live-step-secs'], quick ? 2 : 4, 'live-step-secs');
        const pinned = cpus().length >= 2 && hasBinary('taskset');
        log(`live: tcpreplay through a veth pair, ${stepSeconds} s per rate${pinned ? ', agent on CPU 1, tcpreplay on CPU 0' : ''}`);
        out(liveLines(await measureLive({
          pcap: liveCap.file, filePackets: n, rates: liveRates, stepSeconds, minStepPackets: 100000, refine: 2,
          agentCpu: pinned ? 1 : -1, senderCpu: pinned ? 0 : -1, log,
        })));
      });
    }
  } finally {
    cleanup();
  }
  out([`# load average ${load()} at the end`]);
  return failed > 0 ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`${(err as Error)?.message ?? err}\n`);
  process.exitCode = 2;
});
