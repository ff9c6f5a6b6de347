// The agent's hot path as agent/main.ts runs it (agent/meter.ts: decodeFrame into one reused PacketMeta →
// FlowTable.add; each finished flow → toFlowRecord), for the in-process harnesses (allocs.ts, memory.ts),
// loaded from the build being measured (agent-build.ts). The table's options are the agent's defaults
// with every time limit set to a day, so that nothing ends by time while a harness replays or fills the table.
import type * as ConfigModule from '../../agent/config';
import type * as MeterModule from '../../agent/meter';
import type * as PacketMetaModule from '../../agent/decode/packet-meta';
import type * as FlowTableModule from '../../agent/flow/flow-table';
import type * as FlowRecordModule from '../../agent/features/flow-record';
import { loadAgentModule } from './agent-build';

type PacketMeta = PacketMetaModule.PacketMeta;
type FlowTable = FlowTableModule.FlowTable;
export type OnFrame = (linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, sec: number, usec: number) => void;

export interface Pipeline {
  readonly table: FlowTable;
  readonly onFrame: OnFrame;
  /** A fresh PacketMeta of the build being measured (for decode-only passes). */
  newMeta(): PacketMeta;
  /** Flow records built so far (every one went through toFlowRecord). */
  exported(): number;
  /** The last record built (kept only so the work cannot be optimised away). */
  lastRecord(): unknown;
}

const DAY_SECS = 86_400;

type TableOptions = ConstructorParameters<typeof FlowTableModule.FlowTable>[0];

/** FlowTable options as main.ts derives them from config.flow, with every time limit a day long. */
export function harnessTableOptions(maxFlows: number, features: TableOptions['features'] = 'full'): TableOptions {
  const { defaultConfig } = loadAgentModule<typeof ConfigModule>('config');
  const { flowTableOptions } = loadAgentModule<typeof MeterModule>('meter');
  const flow = { ...defaultConfig().flow, features };
  for (const key of Object.keys(flow) as Array<keyof typeof flow>) if (key.endsWith('_secs')) (flow as Record<string, unknown>)[key] = DAY_SECS;
  return { ...flowTableOptions(flow), maxFlows };
}

export function buildPipeline(maxFlows: number, features: TableOptions['features'] = 'full'): Pipeline {
  const { createMeter } = loadAgentModule<typeof MeterModule>('meter');
  const { PacketMeta: Meta } = loadAgentModule<typeof PacketMetaModule>('decode/packet-meta');
  const { FlowTable: Table } = loadAgentModule<typeof FlowTableModule>('flow/flow-table');
  const { toFlowRecord } = loadAgentModule<typeof FlowRecordModule>('features/flow-record');

  let exported = 0;
  // The record is built (the per-flow export cost) and dropped: --jsonl /dev/null minus the JSON.
  let sink: unknown = null;
  const table = new Table(harnessTableOptions(maxFlows, features), (slots, slot, reason) => {
    sink = toFlowRecord(slots, slot, reason);
    exported++;
  });
  const { onFrame } = createMeter(table);
  return { table, onFrame, newMeta: () => new Meta(), exported: () => exported, lastRecord: () => sink };
}
