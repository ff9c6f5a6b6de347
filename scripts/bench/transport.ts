// Transport benchmark (issue 4):
//   npm run -s bench:transport [-- --secs N --outage-secs N --recovery-secs N --batch FLOWS --source]
//
// 1. Sustained rate: one agent (transport-agent.ts: the agent's batcher → disk spool → sender) sends to
//    one collector (`node dist/collector/main.js serve`, SQLite with its default synchronous=FULL) on
//    loopback for --secs (default 30); flows/s = flows acknowledged (so stored and committed) per
//    second over the run after a 3 s warm-up. The agent keeps a small backlog (64 batches) here, so
//    that it does not take CPU from the collector to fill its disk.
// 2. Outage: the collector is killed and stays away for --outage-secs (default 60) while the agent keeps
//    producing as fast as its spool lets it (block policy: the spool fills to its 512 MiB, then the
//    producer waits). The agent's peak RSS in that minute is agent_rss_mb_outage; the goal is that it
//    stays within 50 MB of the RSS before the outage (agent_rss_growth_mb).
// 3. The collector comes back; the rate at which the agent delivers its backlog over the next
//    --recovery-secs (default 20) is reported too (catch_up_flows_per_s).
//
// On a machine shared with other work flows_per_s depends on how much CPU the two processes get, so the
// CPU time each spends per flow acknowledged in phase 1 is printed too (collector_cpu_us_per_flow,
// agent_cpu_us_per_flow, from /proc/PID/stat): 1e6 / collector_cpu_us_per_flow is the rate one
// dedicated core for the collector would reach.
//
// --cpu-prof DIR: both processes run under V8's CPU profiler (node --cpu-prof, 200 µs sampling) and stop
// cleanly after phase 1, writing their .cpuprofile files into DIR; phases 2 and 3 are left out.
//
// Last line: flows_per_s=… agent_rss_mb_outage=…
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { prepareAgent } from './agent-build';
import { REPO_ROOT } from './harness';

interface Sample { t_ms: number; exported: number; acked: number; spool_bytes: number; rss: number; peak_rss: number; connects: number }

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function textArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const log = (msg: string): void => void process.stderr.write(`# ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
/** Linux clock ticks per second (USER_HZ), the unit of utime and stime in /proc/PID/stat. */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds (user + system) a process has used so far. */
function cpuSecs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S; // utime (14), stime (15)
}

async function startCollector(configPath: string, build: string, nodeArgs: string[]): Promise<{ child: ChildProcess; port: number }> {
  const args = nodeArgs.concat(build === 'dist'
    ? [join(REPO_ROOT, 'dist', 'collector', 'main.js'), 'serve', '--config', configPath, '--log-level', 'warn']
    : ['--import', 'tsx', join(REPO_ROOT, 'collector', 'main.ts'), 'serve', '--config', configPath, '--log-level', 'warn']);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('"event":"listening"')) resolve(l); });
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
  return { child, port: JSON.parse(line).port as number };
}

async function main(): Promise<void> {
  const secs = arg('secs', 30);
  const outageSecs = arg('outage-secs', 60);
  const recoverySecs = arg('recovery-secs', 20);
  const batch = arg('batch', 1000);
  const profDir = textArg('cpu-prof');
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200'] : [];
  const build = prepareAgent(process.argv.includes('--source'), log);
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-transport-'));
  const token = randomBytes(16).toString('hex');
  const configPath = join(dir, 'collector.json');
  let port = 0;
  const writeConfig = (): void => writeFileSync(configPath, JSON.stringify({
    listen: { host: '127.0.0.1', port },
    store: { sqlite_path: join(dir, 'collector.sqlite') },
    auth: { agents: [{ agent_id: 'bench', token_sha256: createHash('sha256').update(token).digest('hex') }] },
    detect: { port_scan: { enabled: false } },
  }));
  writeConfig();
  let collector = await startCollector(configPath, build, nodeArgs);
  port = collector.port;
  writeConfig(); // the same port after a restart
  const agent = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(__dirname, 'transport-agent.ts'), '--child',
    `ws://127.0.0.1:${port}/v1/agent`, token, join(dir, 'spool'), String(batch)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  let last: Sample | null = null;
  createInterface({ input: agent.stdout! }).on('line', (l) => { last = JSON.parse(l) as Sample; });
  const sample = async (): Promise<Sample> => {
    const before = last;
    while (last === before) await sleep(20);
    return last!;
  };
  const cleanup = (): void => {
    agent.kill('SIGKILL');
    collector.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    log(`agent build=${build} batch=${batch} flows; sustained phase ${secs} s`);
    await sleep(3000);
    const a = await sample();
    const cpuA = { collector: cpuSecs(collector.child.pid!), agent: cpuSecs(agent.pid!) };
    await sleep(secs * 1000);
    const b = await sample();
    const cpuB = { collector: cpuSecs(collector.child.pid!), agent: cpuSecs(agent.pid!) };
    const acked = Math.max(1, b.acked - a.acked);
    const collectorCpuUs = ((cpuB.collector - cpuA.collector) * 1e6) / acked;
    const agentCpuUs = ((cpuB.agent - cpuA.agent) * 1e6) / acked;
    const flowsPerS = Math.round(((b.acked - a.acked) * 1000) / (b.t_ms - a.t_ms));
    log(`sustained: ${b.acked - a.acked} flows acknowledged in ${((b.t_ms - a.t_ms) / 1000).toFixed(1)} s; agent RSS ${(b.rss / MB).toFixed(0)} MB`);

    if (profDir) {
      // a clean exit writes the profiles (SIGKILL would not)
      const exited = [collector.child, agent].map((p) => new Promise((r) => p.once('exit', r)));
      collector.child.kill('SIGTERM');
      agent.kill('SIGTERM');
      await Promise.race([Promise.all(exited), sleep(10_000)]);
      log(`CPU profiles written to ${profDir}`);
      process.stdout.write(`collector_cpu_us_per_flow=${collectorCpuUs.toFixed(1)} agent_cpu_us_per_flow=${agentCpuUs.toFixed(1)}\n`);
      process.stdout.write(`flows_per_s=${flowsPerS}\n`);
      return;
    }
    const rssBefore = b.rss;
    collector.child.kill('SIGKILL');
    agent.stdin!.write('flat-out\n');
    log(`collector killed; outage ${outageSecs} s, the agent producing as fast as its spool lets it`);
    const outageStart = await sample();
    let peak = 0;
    let s = outageStart;
    while (s.t_ms - outageStart.t_ms < outageSecs * 1000) {
      s = await sample();
      peak = Math.max(peak, s.rss);
    }
    log(`outage: ${s.exported - outageStart.exported} flows spooled (${(s.spool_bytes / MB).toFixed(0)} MB on disk); agent RSS before ${(rssBefore / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`);

    collector = await startCollector(configPath, build, nodeArgs);
    const back = await sample();
    let r = back;
    while (r.spool_bytes > 0 && r.t_ms - back.t_ms < recoverySecs * 1000) r = await sample();
    const catchUp = Math.round(((r.acked - back.acked) * 1000) / Math.max(1, r.t_ms - back.t_ms));
    log(`recovery: ${r.acked - back.acked} flows delivered in ${((r.t_ms - back.t_ms) / 1000).toFixed(1)} s after the collector came back (${(r.spool_bytes / MB).toFixed(0)} MB still spooled)`);

    process.stdout.write(`collector_cpu_us_per_flow=${collectorCpuUs.toFixed(1)} agent_cpu_us_per_flow=${agentCpuUs.toFixed(1)}\n`);
    process.stdout.write(`catch_up_flows_per_s=${catchUp} agent_rss_mb_before=${(rssBefore / MB).toFixed(1)} agent_rss_growth_mb=${((peak - rssBefore) / MB).toFixed(1)}\n`);
    process.stdout.write('# goals: flows_per_s >= 300000; agent_rss_growth_mb <= 50\n');
    process.stdout.write(`flows_per_s=${flowsPerS} agent_rss_mb_outage=${(peak / MB).toFixed(1)}\n`);
  } finally {
    cleanup();
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
