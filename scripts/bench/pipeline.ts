// The agent's hot path, wired the way agent/main.ts wires it (onFrame: decodeFrame into one reused
// PacketMeta → FlowTable.add; each finished flow → toFlowRecord), for the in-process harnesses
// (allocs.ts, memory.ts). Only the public entry points are used; if main.ts's onFrame gains a stage,
// mirror it here so the harnesses keep measuring what the CLI runs.
//
// The table's options come from the agent's own defaults (agent/config.ts, `flow` section) by the
// naming rule main.ts follows (`tcp_idle_timeout_secs` → `tcpIdleTimeoutUs`, `early_packets` →
// `earlyPackets`), so options added to the agent need no change here; every time limit is then set
// to a day, so that nothing ends by time while a harness replays or fills the table.
import { defaultConfig } from '../../agent/config';
import { decodeFrame } from '../../agent/decode/decode';
import { DECODE_EVENT_COUNT, DecodeEvent, PacketMeta } from '../../agent/decode/packet-meta';
import { FlowTable } from '../../agent/flow/flow-table';
import { toFlowRecord } from '../../agent/features/flow-record';

export type OnFrame = (linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, sec: number, usec: number) => void;

export interface Pipeline {
  readonly table: FlowTable;
  readonly onFrame: OnFrame;
  /** Flow records built so far (every one went through toFlowRecord). */
  exported(): number;
  /** The last record built (kept only so the work cannot be optimised away). */
  lastRecord(): unknown;
}

const DAY_US = 86_400e6;

type TableOptions = ConstructorParameters<typeof FlowTable>[0];

/** FlowTable options as main.ts derives them from config.flow, with every time limit a day long. */
export function harnessTableOptions(maxFlows: number): TableOptions {
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
  const meta = new PacketMeta();
  const decodeEvents = new Float64Array(DECODE_EVENT_COUNT);
  let exported = 0;
  // The record is built (the per-flow export cost) and dropped: --jsonl /dev/null minus the JSON.
  let sink: unknown = null;
  const table = new FlowTable(harnessTableOptions(maxFlows), (flow, reason) => { sink = toFlowRecord(flow, reason); exported++; });
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
    if (ev === DecodeEvent.OK || ev === DecodeEvent.TRUNCATED_L4 || ev === DecodeEvent.IP_FRAGMENT) adder.add(meta, buf);
  }

  return { table, onFrame, exported: () => exported, lastRecord: () => sink };
}
