// Resident memory per active flow: a fresh process builds the agent's pipeline (pipeline.ts, table
// sized for all of them, timeouts of a day) and feeds it one synthetic frame per flow (Ethernet/IPv4,
// half TCP SYN, half UDP, every 5-tuple distinct) through decodeFrame + FlowTable.add, so N flows are
// open at once. RSS, V8 heap and ArrayBuffer memory are read after full GCs: before the table exists,
// right after it is built (what the table reserves up front), and with the N flows in it.
// bytes_per_flow = (RSS with N flows − RSS before the table) / N: everything holding N flows costs.
//
// Measured for each feature set (flow.features): `compact` is the one meant for millions of flows.
//
//   node --expose-gc --import tsx scripts/bench/memory.ts --child [FLOWS] [full|compact]
import { isChild, runHarness } from './harness';
import { buildPipeline } from './pipeline';

export type FeatureSet = 'full' | 'compact';

export interface MemoryResult {
  features: FeatureSet;
  flows: number;
  /** Flows in the table at the end (should equal flows). */
  active: number;
  /** (RSS with the flows − RSS before the table) / flows. */
  rssBytesPerFlow: number;
  /** The same, counted from the empty table (without what it reserves up front). */
  rssBytesPerFlowMarginal: number;
  /** V8 heap (used) and ArrayBuffer backing stores per flow. */
  heapBytesPerFlow: number;
  arrayBufferBytesPerFlow: number;
  /** RSS the empty table reserves, in bytes. */
  tableReserveBytes: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  secondsToFill: number;
}

const FRAME_BYTES = 60;
const ETH = 14;

/** A minimal Ethernet + IPv4 + TCP (or UDP) frame with a valid header layout; addresses and ports filled per flow. */
function frameTemplate(tcp: boolean): Buffer {
  const b = Buffer.alloc(FRAME_BYTES);
  b.writeUInt16BE(0x0800, 12);
  b[ETH] = 0x45;
  b.writeUInt16BE(tcp ? 40 : 28, ETH + 2);
  b[ETH + 8] = 64;
  b[ETH + 9] = tcp ? 6 : 17;
  const l4 = ETH + 20;
  if (tcp) {
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = 0x02; // SYN
    b.writeUInt16BE(64240, l4 + 14);
  } else {
    b.writeUInt16BE(8, l4 + 4);
  }
  return b;
}

function gcAll(): void {
  const gc = (globalThis as unknown as { gc: () => void }).gc;
  for (let i = 0; i < 3; i++) gc();
}

function snapshot(): { rss: number; heap: number; ab: number } {
  gcAll();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, ab: m.arrayBuffers };
}

function measure(flows: number, features: FeatureSet): MemoryResult {
  const before = snapshot();
  // Sized as an operator would: the flows fill 90 %, below the table's emergency threshold.
  const p = buildPipeline(Math.ceil(flows / 0.9), features);
  const empty = snapshot();

  const tcp = frameTemplate(true);
  const udp = frameTemplate(false);
  const baseSec = 1_700_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < flows; i++) {
    const f = (i & 1) === 0 ? tcp : udp;
    // Client 10.x.y.z:port → server 192.0.2.(i % 250 + 1):443; port and client spread i over distinct tuples.
    const client = 0x0a000000 + Math.floor(i / 50000);
    f.writeUInt32BE(client >>> 0, ETH + 12);
    f.writeUInt32BE((0xc0000200 + (i % 250) + 1) >>> 0, ETH + 16);
    f.writeUInt16BE(10000 + (i % 50000), ETH + 20);
    f.writeUInt16BE(443, ETH + 22);
    p.onFrame(1, f, 0, FRAME_BYTES, FRAME_BYTES, baseSec + Math.floor(i / 1_000_000), i % 1_000_000);
  }
  const secondsToFill = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = snapshot();
  return {
    features,
    flows,
    active: p.table.size,
    rssBytesPerFlow: (after.rss - before.rss) / flows,
    rssBytesPerFlowMarginal: (after.rss - empty.rss) / flows,
    heapBytesPerFlow: (after.heap - before.heap) / flows,
    arrayBufferBytesPerFlow: (after.ab - before.ab) / flows,
    tableReserveBytes: empty.rss - before.rss,
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    secondsToFill,
  };
}

/** Runs the measurement in its own Node process. */
export function measureMemory(flows: number, features: FeatureSet): Promise<MemoryResult> {
  return runHarness<MemoryResult>(__filename, ['--expose-gc'], [String(flows), features]);
}

if (require.main === module && isChild()) {
  const [n, features] = process.argv.slice(process.argv.indexOf('--child') + 1);
  try {
    process.stdout.write(`${JSON.stringify(measure(Number(n ?? 1_000_000), features === 'compact' ? 'compact' : 'full'))}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  }
}
