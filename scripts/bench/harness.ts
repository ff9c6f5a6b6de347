// Runs an in-process measurement (allocs.ts, memory.ts) in a fresh Node process of its own, with the
// V8 flags it needs and nothing else on its heap, and returns the JSON object it prints last.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** True when this module was started as a harness child (`… script.ts --child …`). */
export function isChild(argv = process.argv): boolean {
  return argv.includes('--child');
}

export async function runHarness<T>(script: string, nodeFlags: string[], args: string[]): Promise<T> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, '--child', ...args], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-20000); });
  const code = await new Promise<number>((r) => child.once('close', (c, sig) => r(c ?? (sig ? 128 : 1))));
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    throw new Error(`${script} ${args.join(' ')} exited with ${code}:\n${err}${out.slice(-2000)}`);
  }
  return JSON.parse(last) as T;
}
