// Starts the real agent and collector as child processes for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(__dirname, '..', '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const LABELED = join(SHARED, 'pcaps', 'labeled');

export function tempDir(prefix = 'gk-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number>;
  /** Resolves with the first stdout/stderr line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

export function startTs(args: string[], opts: { cwd?: string; prefix?: string[] } = {}): Proc {
  const prefix = opts.prefix ?? [];
  const cmd = prefix.length ? prefix[0] : process.execPath;
  const cmdArgs = prefix.length ? [...prefix.slice(1), process.execPath, '--import', 'tsx', ...args] : ['--import', 'tsx', ...args];
  const child = spawn(cmd, cmdArgs, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const onLine = (into: string[]) => (line: string) => {
    into.push(line);
    for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
  };
  createInterface({ input: child.stdout! }).on('line', onLine(stdout));
  createInterface({ input: child.stderr! }).on('line', onLine(stderr));
  // 'close', not 'exit': only then has every line the process wrote been read (and pushed above).
  const exited = new Promise<number>((r) => child.once('close', (code, signal) => r(code ?? (signal ? 128 : 1))));
  return {
    child,
    stdout,
    stderr,
    exited,
    waitFor(re, timeoutMs = 30000) {
      const seen = [...stdout, ...stderr].find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${[...stdout, ...stderr].join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolvePromise(l); } });
        child.once('exit', () => setTimeout(() => reject(new Error(`process exited before ${re}:\n${[...stdout, ...stderr].join('\n')}`)), 50));
      });
    },
  };
}

export interface CollectorHandle {
  proc: Proc;
  port: number;
  url: string;
  dbPath: string;
  agentToken: string;
  subscriberToken: string;
  configPath: string;
}

/** A collector with a fresh SQLite file (or `dbPath`), one agent id `gw1` and one subscriber. */
export async function startCollector(
  dir: string,
  opts: { port?: number; host?: string; dbPath?: string; agentToken?: string; subscriberToken?: string; prefix?: string[] } = {},
): Promise<CollectorHandle> {
  const agentToken = opts.agentToken ?? randomBytes(16).toString('hex');
  const subscriberToken = opts.subscriberToken ?? randomBytes(16).toString('hex');
  const dbPath = opts.dbPath ?? join(dir, 'collector.sqlite');
  const configPath = join(dir, 'collector.json');
  writeFileSync(configPath, JSON.stringify({
    listen: { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 },
    store: { sqlite_path: dbPath },
    auth: {
      agents: [{ agent_id: 'gw1', token_sha256: sha256(agentToken) }],
      subscribers: [{ name: 'tests', token_sha256: sha256(subscriberToken) }],
    },
  }));
  const proc = startTs(['collector/main.ts', 'serve', '--config', configPath], { prefix: opts.prefix });
  const line = await proc.waitFor(/"event":"listening"/);
  const port = JSON.parse(line).port as number;
  return { proc, port, url: `ws://${opts.host ?? '127.0.0.1'}:${port}`, dbPath, agentToken, subscriberToken, configPath };
}

export async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  return proc.exited;
}
