// Heap bytes allocated by the hot path (decodeFrame + FlowTable.add, wired as in agent/main.ts), per
// packet of flows that already exist, per new flow, and per exported flow.
//
// The first `packets` frames of a capture are copied into memory (file reading is left out), then:
//   1. warm-up: two passes on a throw-away table, so the measured code is optimised;
//      (the table holds 2^21 flows, far more than the preloaded frames have: no eviction, no emergency mode)
//   2. cold pass on a fresh table (every flow new): bytes per new flow, after the per-packet part;
//      the frames that created a flow are marked;
//   3. passes skipping the marked frames, marking any that still create a flow (a SYN reopening a
//      closed connection), until a pass creates none: from then on every packet hits an existing flow;
//      then app_inspect_packets more passes, so every flow has used up its application-name inspections
//      (a replayed frame would otherwise be inspected again: in live traffic a flow's first payload
//      packets are inspected once, a cost per new flow, not per packet);
//   4. three measured passes of those packets: allocs_per_packet = bytes / packets, the smallest of the three;
//   5. the same packets through decodeFrame alone (also three): the decoder's share;
//   6. one more pass under V8's sampling heap profiler: the top allocating functions (alloc-sites.ts);
//   7. flushAll(): bytes per exported flow (toFlowRecord).
// Timeouts are a day, so nothing ends by time; replaying the same frames keeps packet time still.
// How bytes are counted: heap-meter.ts.
//
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx \
//     scripts/bench/allocs.ts --child FILE [PACKETS]
import type * as FileSourceModule from '../../agent/capture/file-source';
import type * as DecodeModule from '../../agent/decode/decode';
import type { PacketMeta } from '../../agent/decode/packet-meta';
import { loadAgentModule } from './agent-build';
import { allocationSites, type AllocSite } from './alloc-sites';
import { HEAP_METER_NODE_FLAGS, HeapMeter, type HeapWindow } from './heap-meter';
import { isChild, runHarness } from './harness';
import { buildPipeline, harnessTableOptions, type Pipeline } from './pipeline';

export interface AllocsResult {
  /** Frames preloaded (the first N of the capture). */
  packets: number;
  flowsCreated: number;
  /** Bytes per packet of an existing flow (decode + flow update). */
  bytesPerPacket: number;
  /** Packets in the measured passes, and the GCs that ran in them or the decode-only ones (0 = the figures are exact). */
  steadyPackets: number;
  steadyGcs: number;
  /** Flows the measured passes still created (0 expected). */
  steadyFlowsCreated: number;
  nsPerPacket: number;
  /** Bytes per packet of decodeFrame alone, and its time. */
  decodeBytesPerPacket: number;
  decodeNsPerPacket: number;
  /** Top allocating functions in the existing-flow passes (sampled), bytes per packet. */
  sites: AllocSite[];
  /** Bytes per flow created, per-packet part taken out. */
  bytesPerNewFlow: number;
  coldGcs: number;
  /** Bytes per flow exported by flushAll (FlowTable bookkeeping + toFlowRecord). */
  bytesPerExport: number;
  exportGcs: number;
}

const ARENA_BYTES = 64 * 1024 * 1024;
const STOP = Symbol('enough frames');

interface Frames {
  n: number;
  arenas: Buffer[];
  arena: Uint16Array;
  offset: Uint32Array;
  caplen: Uint32Array;
  wirelen: Uint32Array;
  sec: Uint32Array;
  usec: Uint32Array;
  linkType: Uint16Array;
}

async function preload(file: string, max: number): Promise<Frames> {
  const { readCaptureFile } = loadAgentModule<typeof FileSourceModule>('capture/file-source');
  const f: Frames = {
    n: 0, arenas: [Buffer.allocUnsafe(ARENA_BYTES)], arena: new Uint16Array(max), offset: new Uint32Array(max),
    caplen: new Uint32Array(max), wirelen: new Uint32Array(max), sec: new Uint32Array(max), usec: new Uint32Array(max),
    linkType: new Uint16Array(max),
  };
  let used = 0;
  try {
    await readCaptureFile(file, (linkType, buf, start, caplen, wirelen, sec, usec) => {
      if (used + caplen > ARENA_BYTES) {
        f.arenas.push(Buffer.allocUnsafe(Math.max(ARENA_BYTES, caplen)));
        used = 0;
      }
      const i = f.n++;
      f.arenas[f.arenas.length - 1].set(buf.subarray(start, start + caplen), used);
      f.arena[i] = f.arenas.length - 1;
      f.offset[i] = used;
      f.caplen[i] = caplen;
      f.wirelen[i] = wirelen;
      f.sec[i] = sec;
      f.usec[i] = usec;
      f.linkType[i] = linkType;
      used += caplen;
      if (f.n === max) throw STOP;
    });
  } catch (err) {
    if (err !== STOP) throw err;
  }
  return f;
}

/** One pass; frames with skip[i] set are left out; with mark, frames that create a flow get skip[i] = 1. */
function pass(p: Pipeline, f: Frames, skip: Uint8Array, mark: boolean): number {
  const { onFrame, table } = p;
  const { arenas, arena, offset, caplen, wirelen, sec, usec, linkType } = f;
  let fed = 0;
  for (let i = 0; i < f.n; i++) {
    if (skip[i] !== 0) continue;
    const before = mark ? table.counters.flowsCreated : 0;
    onFrame(linkType[i], arenas[arena[i]], offset[i], caplen[i], wirelen[i], sec[i], usec[i]);
    if (mark && table.counters.flowsCreated !== before) skip[i] = 1;
    fed++;
  }
  return fed;
}

function decodePass(decodeFrame: typeof DecodeModule.decodeFrame, f: Frames, skip: Uint8Array, meta: PacketMeta): number {
  const { arenas, arena, offset, caplen, linkType } = f;
  let fed = 0;
  for (let i = 0; i < f.n; i++) {
    if (skip[i] !== 0) continue;
    decodeFrame(linkType[i], arenas[arena[i]], offset[i], caplen[i], meta);
    fed++;
  }
  return fed;
}

async function measure(file: string, packets: number): Promise<AllocsResult> {
  const f = await preload(file, packets);
  const none = new Uint8Array(f.n);
  const maxFlows = 1 << 21;

  const warm = buildPipeline(maxFlows);
  pass(warm, f, none, false);
  pass(warm, f, none, false);

  const meter = new HeapMeter();
  const p = buildPipeline(maxFlows);
  const skip = new Uint8Array(f.n);
  meter.begin();
  pass(p, f, skip, true);
  const cold: HeapWindow = await meter.end();
  const flowsCreated = p.table.counters.flowsCreated;

  for (let i = 0; i < 10; i++) {
    const before = p.table.counters.flowsCreated;
    pass(p, f, skip, true);
    if (p.table.counters.flowsCreated === before) break;
  }
  for (let i = 0; i < harnessTableOptions(maxFlows).appInspectPackets; i++) pass(p, f, skip, false);

  // The smallest of three windows: code V8 optimises in the background lands on the heap too, and
  // would be counted against whichever window it falls in; a real per-packet cost is in every window.
  let bytesPerPacket = Infinity;
  let nsPerPacket = Infinity;
  let steadyPackets = 0;
  let steadyGcs = 0;
  const createdBefore = p.table.counters.flowsCreated;
  for (let r = 0; r < 3; r++) {
    meter.begin();
    const fed = pass(p, f, skip, false);
    const w = await meter.end();
    steadyPackets += fed;
    steadyGcs += w.gcs;
    bytesPerPacket = Math.min(bytesPerPacket, w.bytes / fed);
    nsPerPacket = Math.min(nsPerPacket, (w.ms * 1e6) / fed);
  }

  const { decodeFrame } = loadAgentModule<typeof DecodeModule>('decode/decode');
  const meta = p.newMeta();
  decodePass(decodeFrame, f, skip, meta);
  decodePass(decodeFrame, f, skip, meta);
  let decodeBytesPerPacket = Infinity;
  let decodeNsPerPacket = Infinity;
  for (let r = 0; r < 3; r++) {
    meter.begin();
    const decoded = decodePass(decodeFrame, f, skip, meta);
    const w = await meter.end();
    steadyGcs += w.gcs;
    decodeBytesPerPacket = Math.min(decodeBytesPerPacket, w.bytes / decoded);
    decodeNsPerPacket = Math.min(decodeNsPerPacket, (w.ms * 1e6) / decoded);
  }

  let sampled = 0;
  const sites = await allocationSites(() => { sampled = pass(p, f, skip, false); });

  const exportedBefore = p.exported();
  meter.begin();
  p.table.flushAll();
  const ex = await meter.end();
  const exported = p.exported() - exportedBefore;
  meter.close();

  return {
    packets: f.n,
    flowsCreated,
    bytesPerPacket,
    steadyPackets,
    steadyGcs,
    steadyFlowsCreated: p.table.counters.flowsCreated - createdBefore,
    nsPerPacket,
    decodeBytesPerPacket,
    decodeNsPerPacket,
    sites: sites.map((s) => ({ site: s.site, bytes: s.bytes / sampled })).filter((s) => s.bytes >= 0.5),
    bytesPerNewFlow: flowsCreated > 0 ? Math.max(0, cold.bytes - bytesPerPacket * f.n) / flowsCreated : 0,
    coldGcs: cold.gcs,
    bytesPerExport: exported > 0 ? ex.bytes / exported : 0,
    exportGcs: ex.gcs,
  };
}

/** Runs the measurement in its own Node process. */
export function measureAllocs(file: string, packets: number): Promise<AllocsResult> {
  return runHarness<AllocsResult>(__filename, HEAP_METER_NODE_FLAGS, [file, String(packets)]);
}

if (require.main === module && isChild()) {
  const [file, n] = process.argv.slice(process.argv.indexOf('--child') + 1);
  measure(file, Number(n ?? 250000)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => { process.stderr.write(`${err?.stack ?? err}\n`); process.exitCode = 1; },
  );
}
