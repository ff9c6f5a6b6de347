// Helpers for the identity and TLS tests: a collector process with an extra config section, the
// collector's identity commands run as processes, enrolment over real HTTP(S), and an agent process.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startTs, type Proc, ROOT } from './processes';

export interface IdCollector {
  proc: Proc;
  port: number;
  configPath: string;
  dbPath: string;
  /** static token of the config agent gw-static */
  staticToken: string;
}

/** A collector process whose config has one static agent (gw-static) plus `extra` keys. */
export async function startIdCollector(dir: string, extra: Record<string, unknown> = {}): Promise<IdCollector> {
  const staticToken = 'static-token-for-gw-static';
  const configPath = join(dir, 'collector.json');
  const dbPath = join(dir, 'collector.sqlite');
  const { listen, auth, ...rest } = extra as { listen?: object; auth?: object };
  writeFileSync(configPath, JSON.stringify({
    listen: { host: '127.0.0.1', port: 0, ...listen },
    store: { sqlite_path: dbPath, synchronous: 'normal' },
    auth: { agents: [{ agent_id: 'gw-static', token_sha256: sha256(staticToken) }], revocation_check_secs: 1, ...auth },
    ...rest,
  }));
  const proc = startTs(['collector/main.ts', 'serve', '--config', configPath]);
  const line = await proc.waitFor(/"event":"listening"/);
  return { proc, port: JSON.parse(line).port as number, configPath, dbPath, staticToken };
}

/** `collector/main.ts ARGS` to completion. */
export function collectorCli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'collector/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function createToken(configPath: string, extra: string[] = []): string {
  const r = collectorCli(['enrol', 'create', '--config', configPath, ...extra]);
  if (r.status !== 0) throw new Error(`enrol create failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function postEnrol(url: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

export async function metricsText(port: number, scheme = 'http'): Promise<string> {
  return (await fetch(`${scheme}://127.0.0.1:${port}/metrics`)).text();
}

/** An agent process replaying `capture` with the JSON config `agentConfig`. */
export function startAgent(dir: string, name: string, agentConfig: Record<string, unknown>): Proc {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(agentConfig));
  return startTs(['agent/main.ts', '--config', file]);
}
