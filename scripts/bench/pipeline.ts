// The agent's hot path, wired the way agent/main.ts wires it (onFrame: decodeFrame into one reused
// PacketMeta → FlowTable.add; each finished flow → toFlowRecord), for the in-process harnesses
// (allocs.ts, memory.ts). Only the public entry points are used, loaded from the build being measured
// (agent-build.ts); if main.ts's onFrame gains a stage, mirror it here so the harnesses keep measuring
// what the CLI runs.
//
// The table's options come from the agent's own defaults (agent/config.ts, `flow` section) by the
// naming rule main.ts follows (`tcp_idle_timeout_secs` → `tcpIdleTimeoutUs`, `early_packets` →
// `earlyPackets`), so options added to the agent need no change here; every time limit is then set
// to a day, so that nothing ends by time while a harness replays or fills the table. Which decode
// events are metered is looked up by name (DecodeEvent is a const enum, gone from the compiled build).
import type * as ConfigModule from '../../agent/config';
import type * as DecodeModule from '../../agent/decode/decode';
import type * as PacketMetaModule from '../../agent/decode/packet-meta';
import type * as FlowTableModule from '../../agent/flow/flow-table';
import type * as FlowRecordModule from '../../agent/features/flow-record';
import { loadAgentModule } from './agent-build';

type PacketMeta = PacketMetaModule.PacketMeta;
type FlowTable = FlowTableModule.FlowTable;
export type OnFrame = (linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, sec: number, usec: number) => void;

/** The decode events after which main.ts hands the packet to the flow table. */
const METERED_EVENTS = ['ok', 'truncated_l4', 'ip_fragment', 'tunnel_inner_invalid'];

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

const DAY_US = 86_400e6;

type TableOptions = ConstructorParameters<typeof FlowTableModule.FlowTable>[0];

/** FlowTable options as main.ts derives them from config.flow, with every time limit a day long. */
export function harnessTableOptions(maxFlows: number): TableOptions {
  const { defaultConfig } = loadAgentModule<typeof ConfigModule>('config');
  const opts: Record<string, number> = {};
  for (const [key, value] of Object.entries(defaultConfig().flow)) {
    if (typeof value !== 'number') continue;
    const secs = key.endsWith('_secs');
    const camel = key.replace(/_secs$/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    opts[secs ? `${camel}Us` : camel] = secs ? DAY_US : value;
  }
  opts.maxFlows = maxFlows;
  opts.activeScanIntervalUs = 10e6;
  return opts as unknown as TableOptions;
}

export function buildPipeline(maxFlows: number): Pipeline {
  const { decodeFrame } = loadAgentModule<typeof DecodeModule>('decode/decode');
  const { PacketMeta: Meta, DECODE_EVENT_COUNT, DECODE_EVENT_NAMES } = loadAgentModule<typeof PacketMetaModule>('decode/packet-meta');
  const { FlowTable: Table } = loadAgentModule<typeof FlowTableModule>('flow/flow-table');
  const { toFlowRecord } = loadAgentModule<typeof FlowRecordModule>('features/flow-record');

  const metered = new Uint8Array(DECODE_EVENT_COUNT);
  DECODE_EVENT_NAMES.forEach((name, ev) => { if (METERED_EVENTS.includes(name)) metered[ev] = 1; });
  const meta = new Meta();
  const decodeEvents = new Float64Array(DECODE_EVENT_COUNT);
  let exported = 0;
  // The record is built (the per-flow export cost) and dropped: --jsonl /dev/null minus the JSON.
  let sink: unknown = null;
  const table = new Table(harnessTableOptions(maxFlows), (flow, reason) => { sink = toFlowRecord(flow, reason); exported++; });
  // add(meta, frame): the frame is for tables that inspect payloads; a table whose add() takes only meta ignores it.
  const adder = table as unknown as { add(m: PacketMeta, frame: Uint8Array): void };

  function onFrame(linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, sec: number, usec: number): void {
    decodeFrame(linkType, buf, start, caplen, meta);
    meta.tsSec = sec;
    meta.tsUsec = usec;
    meta.caplen = caplen;
    meta.wirelen = wirelen;
    const ev = meta.event;
    decodeEvents[ev]++;
    if (metered[ev] === 1) adder.add(meta, buf);
  }

  return { table, onFrame, newMeta: () => new Meta(), exported: () => exported, lastRecord: () => sink };
}
