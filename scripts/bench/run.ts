// Runs a command to completion and times it from outside: wall time with the monotonic clock around
// spawn → exit, CPU time and peak RSS from GNU time (/usr/bin/time) when it is installed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Timed {
  cmd: string[];
  code: number;
  wallS: number;
  /** user + system CPU seconds; NaN without GNU time. */
  cpuS: number;
  /** Peak resident set of the process, bytes; NaN without GNU time. */
  maxRssBytes: number;
  /** Last 64 KiB of each stream. */
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';
const KEEP = 64 * 1024;

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export async function timed(cmd: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-time-'));
  const timeFile = join(dir, 'time');
  const gnu = haveGnuTime();
  const argv = gnu ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, ...cmd] : cmd;
  try {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout = (stdout + d).slice(-KEEP); });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-KEEP); });
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    let cpuS = NaN;
    let maxRssBytes = NaN;
    if (gnu && existsSync(timeFile)) {
      // GNU time writes "Command exited with non-zero status N" first when the command failed.
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const [u, s, m] = last.split(/\s+/).map(Number);
      if (Number.isFinite(u) && Number.isFinite(s)) cpuS = u + s;
      if (Number.isFinite(m)) maxRssBytes = m * 1024;
    }
    return { cmd, code, wallS, cpuS, maxRssBytes, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
