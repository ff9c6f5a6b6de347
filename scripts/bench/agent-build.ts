// Which build of the agent is measured. Production runs the compiled build (`npm run build`: tsc →
// dist/): under tsx, esbuild's CommonJS interop turns every imported name into a getter call on the
// per-packet path (about 15 % of the offline time at ca2b0d8, see docs/benchmarks.md). So the
// orchestrator builds first and every part of the benchmark measures dist/ — the CLI runs as
// `node dist/agent/main.js`, the in-process harnesses load their agent modules from dist/agent/ — unless
// it is told to measure the TypeScript sources under tsx (`--source`, or a checkout without a build script).
// The choice reaches the harness processes through the environment.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './harness';

export type AgentBuild = 'dist' | 'source';

const ENV = 'GK_BENCH_AGENT_BUILD';

export function selectedBuild(): AgentBuild {
  return process.env[ENV] === 'dist' ? 'dist' : 'source';
}

/** Builds dist/ with the project's `build` script and selects it; selects the sources when asked or when there is no build script. */
export function prepareAgent(source: boolean, log: (msg: string) => void): AgentBuild {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  if (source || !scripts.build) {
    process.env[ENV] = 'source';
    if (!source) log('no "build" script in package.json: measuring the TypeScript sources under tsx');
    return 'source';
  }
  log(`building the agent: npm run build (${scripts.build})`);
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !existsSync(join(REPO_ROOT, 'dist', 'agent', 'main.js'))) {
    throw new Error(`npm run build failed (exit ${r.status}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(0, 4000));
  }
  process.env[ENV] = 'dist';
  return 'dist';
}

/** Loads an agent module (path relative to agent/, e.g. 'decode/decode') from the selected build. */
export function loadAgentModule<T>(rel: string): T {
  const root = selectedBuild() === 'dist' ? join(REPO_ROOT, 'dist', 'agent') : join(REPO_ROOT, 'agent');
  return require(join(root, rel)) as T;
}
