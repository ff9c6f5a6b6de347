// How the benchmark runs the agent, and what it reads back. The agent is run as its CLI from the
// repository root, without npm's start-up: `node dist/agent/main.js ARGS` (the compiled build, as in
// production), or `node --import tsx agent/main.ts ARGS` when measuring the sources (agent-build.ts).
// Its last log line on stderr, `"event":"stopped"`, carries every counter.
import { selectedBuild } from './agent-build';

export function agentArgv(args: string[], nodeFlags: string[] = []): string[] {
  return selectedBuild() === 'dist'
    ? [process.execPath, ...nodeFlags, 'dist/agent/main.js', ...args]
    : [process.execPath, ...nodeFlags, '--import', 'tsx', 'agent/main.ts', ...args];
}

/** The parts of the `stopped` log line the benchmark reads. */
export interface StoppedEvent {
  frames?: number;
  /** flowsExported in the first agent version, recordsExported (interim records included) later. */
  flow_table?: { flowsCreated?: number; flowsExported?: number; recordsExported?: number };
  capture?: { received?: number; kernelReceived?: number; kernelDropped?: number; interfaceDropped?: number };
}

export function stoppedEvent(stderr: string): StoppedEvent | null {
  const lines = stderr.trim().split('\n').reverse();
  for (const l of lines) {
    if (!l.includes('"event":"stopped"')) continue;
    try {
      return JSON.parse(l) as StoppedEvent;
    } catch {
      return null;
    }
  }
  return null;
}

export function flowsExported(e: StoppedEvent): number {
  return Number(e.flow_table?.flowsExported ?? e.flow_table?.recordsExported ?? 0);
}
