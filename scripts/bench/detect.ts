// `npm run -s bench:detect [-- --flows N] [--source] [--per-detector]`: how many flows per second detection takes on
// one core, through the runner as the collector runs it (batches of 1000 flows, the agent's default).
// detect_flows_per_s is per second of the process's CPU time (so a busy shared machine does not
// halve it); wall_flows_per_s is per second of wall-clock time. Both count runner.run alone (with
// the garbage collection it causes), not the bench moving its replayed rows' times on.
//   detect_flows_per_s=… mode=rules        every rule detector on (default config, 10,000 threat-intel
//                                          indicators loaded), the anomaly model off
//   detect_flows_per_s=… mode=rules+model  the same plus the anomaly model, past its learning period,
//                                          scoring every flow
// Goals (issue 5): ≥ 1,000,000 flows/s for the rules, ≥ 200,000 with the model. The flows are a
// generated campus mix (HTTPS with SNI, DNS, SSH, a few scanners, UDP); 200,000 distinct rows are
// replayed with advancing flow time until N (default 2,000,000) have gone through, after one warm-up
// pass. Measures the compiled build (dist/, rebuilt first) unless --source (the sources under tsx).
// --per-detector: also prints, for the rules run, each detector's CPU time per flow
// (`detect_ns_per_flow detector=… ns=…`; process.cpuUsage around each call, ≈ 10 ns/flow of its own).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as DetectModule from '../../collector/detect';
import type * as ConfigModule from '../../collector/config';
import type * as ObsModule from '../../collector/obs';
import type { FlowRow } from '../../collector/model';
import { BATCH, makeFlows } from './detect-flows';
import { REPO_ROOT } from './harness';

const DISTINCT = 200_000;

interface Rate {
  /** flows per second of this process's CPU time (user + system): one core's rate, whatever else runs */
  cpu: number;
  /** flows per second of wall-clock time */
  wall: number;
}

async function measure(mode: 'rules' | 'rules+model', total: number, mods: Mods, intelFile: string, perDetector: Map<string, number> | undefined): Promise<Rate> {
  const { buildDetectors, DetectRunner } = mods.detect;
  const cfg = mods.config.validateConfig({
    auth: { agents: [] },
    detect: {
      threat_intel: { sources: [{ path: intelFile }] },
      anomaly: { enabled: mode === 'rules+model', learning_flows: 20_000 },
    },
  }, REPO_ROOT).detect;
  const log = mods.obs.createLogger({ level: 'silent' });
  const metrics = new mods.obs.Registry();
  const set = await buildDetectors(cfg, { log, metrics });
  if (perDetector) for (const d of set.detectors) timed(d, perDetector);
  const runner = new DetectRunner(set.detectors, metrics, log, cfg.suppress_secs);
  const flows = makeFlows(DISTINCT);
  const batches: FlowRow[][] = [];
  for (let i = 0; i < flows.length; i += BATCH) batches.push(flows.slice(i, i + BATCH));
  const span = DISTINCT * 100;
  let pass = 0;
  // CPU and wall time of runner.run alone: moving the replayed rows' times on (what a new batch's
  // rows would say) is the bench's own work, not detection's
  let cpuUs = 0;
  let wallNs = 0n;
  const runPass = (): void => {
    const shift = pass++ * span;
    for (const b of batches) {
      if (shift) for (const f of b) { f.firstUs += span; f.lastUs += span; }
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      runner.run(b);
      const c = process.cpuUsage(c0);
      wallNs += process.hrtime.bigint() - t0;
      cpuUs += c.user + c.system;
    }
  };
  runPass(); // warm-up; also takes the model past its learning period
  perDetector?.clear();
  cpuUs = 0;
  wallNs = 0n;
  let done = 0;
  while (done < total) {
    runPass();
    done += DISTINCT;
  }
  if (perDetector) for (const [name, us] of perDetector) perDetector.set(name, (us * 1000) / done); // µs in total → ns per flow
  set.close();
  if (runner.failureCount > 0) throw new Error(`${runner.failureCount} detector failures during the benchmark`);
  return { cpu: done / (cpuUs / 1e6), wall: done / (Number(wallNs) / 1e9) };
}

/** Wraps `d.onFlows` to add its CPU time (µs) to `into` under its name. */
function timed(d: DetectModule.Detector, into: Map<string, number>): void {
  const onFlows = d.onFlows.bind(d);
  d.onFlows = (flows, emit, keys) => {
    const c0 = process.cpuUsage();
    try {
      onFlows(flows, emit, keys);
    } finally {
      const c = process.cpuUsage(c0);
      into.set(d.name, (into.get(d.name) ?? 0) + c.user + c.system);
    }
  };
}

interface Mods {
  detect: typeof DetectModule;
  config: typeof ConfigModule;
  obs: typeof ObsModule;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { flows: { type: 'string', default: '2000000' }, source: { type: 'boolean', default: false }, 'per-detector': { type: 'boolean', default: false } },
  });
  const total = Number(values.flows);
  let root = join(REPO_ROOT, 'collector');
  if (!values.source) {
    process.stderr.write('bench:detect: building dist/ (npm run build)\n');
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (b.status !== 0) throw new Error('npm run build failed');
    root = join(REPO_ROOT, 'dist', 'collector');
  }
  const mods: Mods = { detect: require(join(root, 'detect')), config: require(join(root, 'config')), obs: require(join(root, 'obs')) };
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-detect-'));
  try {
    const intel = join(dir, 'intel.txt');
    writeFileSync(intel, Array.from({ length: 10_000 }, (_, i) => (i % 2 ? `203.0.${(i >> 8) & 255}.${i & 255}` : `bad${i}.evil.example`)).join('\n'));
    for (const mode of ['rules', 'rules+model'] as const) {
      const perDetector = values['per-detector'] && mode === 'rules' ? new Map<string, number>() : undefined;
      const rate = await measure(mode, total, mods, intel, perDetector);
      process.stdout.write(`detect_flows_per_s=${Math.round(rate.cpu)} mode=${mode} wall_flows_per_s=${Math.round(rate.wall)} flows=${total} batch=${BATCH} build=${values.source ? 'source' : 'dist'}\n`);
      for (const [name, ns] of perDetector ?? []) process.stdout.write(`detect_ns_per_flow detector=${name} ns=${Math.round(ns)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  process.stderr.write(`bench:detect: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
