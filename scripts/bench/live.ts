// Live capture: the highest packet rate the agent takes from a veth pair with zero drops reported by
// libpcap. For each rate, a fresh agent captures in one namespace (the CLI with `--interface IF
// --jsonl /dev/null`, default capture settings) while tcpreplay pushes a generator capture at that rate
// (--pps, file preloaded with -K) from the other; after the replay and one buffer timeout the agent is
// stopped with SIGTERM and its last log line gives libpcap's counters (capture.kernelDropped etc.).
// With two CPUs or more, the agent and tcpreplay are pinned to different ones (the sender's CPU also
// runs the veth's receive softirq), so the figure does not depend on where the scheduler put them.
// Rates go up until drops appear or tcpreplay cannot reach the rate asked; then one --topspeed run
// shows the sender's ceiling; after the first rate that drops, `refine` more rates bisect between it and
// the last clean one. A run that drops is repeated once, and the rate counts as dropping only if the
// repeat drops too. Frames are not rewritten: they only need to cross the veth.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { agentArgv, stoppedEvent } from './agent-cli';
import { REPO_ROOT } from './harness';
import { createVethPair, type VethPair } from './netns';

export interface LiveStep {
  /** Rate asked of tcpreplay; 0 = --topspeed. */
  requestedPps: number;
  sent: number;
  failed: number;
  achievedPps: number;
  /** Frames the agent handled, and libpcap's counters. */
  frames: number;
  kernelReceived: number;
  kernelDropped: number;
  interfaceDropped: number;
  zeroDrop: boolean;
}

export interface LiveResult {
  steps: LiveStep[];
  /** Highest achieved rate with zero drops (0 if none). */
  zeroDropPps: number;
  /** Lowest achieved rate at which drops were confirmed (0 if none). */
  firstDropPps: number;
  /** tcpreplay --topspeed rate, when the sender ran out before the agent dropped. */
  senderCeilingPps: number;
}

export interface LiveOptions {
  pcap: string;
  /** Packets in pcap (tcpreplay loops it when a step needs more). */
  filePackets: number;
  rates: number[];
  stepSeconds: number;
  minStepPackets: number;
  /** Bisection runs between the last clean rate and the first dropping one. */
  refine: number;
  /** CPUs for the agent and for tcpreplay (taskset -c), -1 = unpinned. */
  agentCpu: number;
  senderCpu: number;
  log: (msg: string) => void;
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(args[0], args.slice(1), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}

function pin(cpu: number): string[] {
  return cpu >= 0 ? ['taskset', '-c', String(cpu)] : [];
}

interface Replay { sent: number; failed: number; pps: number }

function parseTcpreplay(out: string): Replay {
  const sent = /Actual:\s+(\d+)\s+packets/.exec(out);
  const pps = /Rated:.*?([\d.]+)\s+pps/.exec(out);
  const failed = /Failed packets:\s+(\d+)/.exec(out);
  if (!sent || !pps) throw new Error(`cannot read tcpreplay's summary:\n${out.slice(-2000)}`);
  return { sent: Number(sent[1]), pps: Number(pps[1]), failed: failed ? Number(failed[1]) : 0 };
}

async function step(v: VethPair, o: LiveOptions, pps: number): Promise<LiveStep> {
  const count = Math.max(o.minStepPackets, Math.round((pps || 300000) * o.stepSeconds));
  const loops = Math.ceil(count / o.filePackets);
  const agent = spawn('ip', ['netns', 'exec', v.nsA, ...pin(o.agentCpu), ...agentArgv(['--interface', v.ifA, '--jsonl', '/dev/null'])],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number>((r) => agent.once('close', (c) => r(c ?? 1)));
  const killOnExit = (): void => { agent.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent did not start capturing:\n${stderr}`)), 30000);
      createInterface({ input: agent.stderr! }).on('line', (line) => {
        stderr += `${line}\n`;
        if (line.includes('"event":"capturing"')) { clearTimeout(timer); resolve(); }
      });
      void exited.then(() => { clearTimeout(timer); reject(new Error(`the agent exited:\n${stderr}`)); });
    });
    const rate = pps > 0 ? [`--pps=${pps}`] : ['--topspeed'];
    const out = await run(['ip', 'netns', 'exec', v.nsB, ...pin(o.senderCpu), 'tcpreplay', '-i', v.ifB, '-K', ...rate,
      `--limit=${count}`, `--loop=${loops}`, o.pcap], 600000);
    const r = parseTcpreplay(out);
    await new Promise((res) => setTimeout(res, 300)); // let libpcap's buffer timeout hand over the last frames
    agent.kill('SIGTERM');
    const code = await exited;
    const stopped = stoppedEvent(stderr);
    if (code !== 0 || !stopped?.capture) throw new Error(`the agent exited with ${code}:\n${stderr.slice(-3000)}`);
    const c = stopped.capture;
    const kernelDropped = Number(c.kernelDropped ?? 0);
    const interfaceDropped = Number(c.interfaceDropped ?? 0);
    return {
      requestedPps: pps, sent: r.sent, failed: r.failed, achievedPps: r.pps,
      frames: Number(stopped.frames ?? 0), kernelReceived: Number(c.kernelReceived ?? 0), kernelDropped, interfaceDropped,
      zeroDrop: kernelDropped === 0 && interfaceDropped === 0,
    };
  } finally {
    process.removeListener('exit', killOnExit);
    if (agent.exitCode === null) agent.kill('SIGKILL');
  }
}

function describe(s: LiveStep): string {
  const asked = s.requestedPps > 0 ? `${s.requestedPps} pps asked` : 'topspeed';
  return `${asked}, ${Math.round(s.achievedPps)} pps sent (${s.sent} packets), agent got ${s.frames}, libpcap drops ${s.kernelDropped}+${s.interfaceDropped}`;
}

export async function measureLive(o: LiveOptions): Promise<LiveResult> {
  const v = createVethPair();
  const steps: LiveStep[] = [];
  let firstDropPps = 0;
  let senderCeilingPps = 0;
  try {
    let senderLimited = false;
    // A rate that drops is tried once more: it counts as dropping only if the second run drops too
    // (another job on the box can stall the agent for a moment).
    const tryRate = async (pps: number): Promise<LiveStep> => {
      let s = await step(v, o, pps);
      steps.push(s);
      o.log(`live: ${describe(s)}`);
      if (!s.zeroDrop) {
        s = await step(v, o, pps);
        steps.push(s);
        o.log(`live: again: ${describe(s)}`);
      }
      return s;
    };
    let clean = 0;
    for (const pps of o.rates) {
      const s = await tryRate(pps);
      if (!s.zeroDrop) { firstDropPps = s.achievedPps; break; }
      clean = s.achievedPps;
      if (s.achievedPps < 0.9 * pps) { senderLimited = true; break; }
    }
    let hi = firstDropPps;
    for (let i = 0; i < o.refine && hi > 0 && hi - clean > 0.02 * hi; i++) {
      const mid = Math.round((clean + hi) / 2 / 1000) * 1000;
      const s = await tryRate(mid);
      if (s.zeroDrop) clean = Math.max(clean, s.achievedPps);
      else hi = Math.min(hi, s.achievedPps);
    }
    firstDropPps = hi;
    if (firstDropPps === 0) {
      const s = await tryRate(0);
      if (!s.zeroDrop) firstDropPps = s.achievedPps;
      else senderCeilingPps = s.achievedPps;
      if (!senderLimited && s.zeroDrop) o.log('live: no drops at any rate asked, nor at tcpreplay --topspeed');
    }
  } finally {
    v.destroy();
  }
  const ok = steps.filter((s) => s.zeroDrop);
  return { steps, zeroDropPps: ok.length ? Math.max(...ok.map((s) => s.achievedPps)) : 0, firstDropPps, senderCeilingPps };
}
