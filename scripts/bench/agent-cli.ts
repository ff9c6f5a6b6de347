// How the benchmark runs the agent, and what it reads back. The agent is run as its CLI, the way users
// run it (`npx tsx agent/main.ts …`) minus npm's start-up: `node --import tsx agent/main.ts ARGS`, from the
// repository root. Should the agent come to be shipped built, change agentArgv() and every figure follows.
// Its last log line on stderr, `"event":"stopped"`, carries every counter.

export function agentArgv(args: string[], nodeFlags: string[] = []): string[] {
  return [process.execPath, ...nodeFlags, '--import', 'tsx', 'agent/main.ts', ...args];
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
