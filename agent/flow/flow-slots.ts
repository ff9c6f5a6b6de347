// Per-flow state as columns of typed arrays, one row ("slot") per flow. An object per flow cost about
// 2,900 bytes at 1,000,000 flows: ~15 nested objects, 4 small typed arrays with their buffers, and every
// double field boxed on the heap. Here a flow is a row of int32s and a row of float64s, nothing for
// the garbage collector to trace, and the rows of a flow are next to each other in memory.
//
// Two layouts. `core` is what every flow keeps (the tuple, table links, per-direction packets, bytes
// and TCP flags: a NetFlow record). `full` adds the CICFlowMeter/NFStream statistics (Welford moments
// of sizes and gaps, bulk, activity periods, TCP options, the first packets); `compact` leaves them
// out for gateways that must hold millions of flows (docs/agent.md, flow.features).
import type { AppNames } from '../decode/app/app-names';

/** int32 columns every flow has. Addresses are four big-endian words (IPv4 in word 0). */
export const enum CoreI {
  KEY = 0, // int32 direction-independent hash (flow-key.ts)
  CHAIN = 1, // next slot in the same hash bucket, -1 at the end
  PREV = 2, // recency list of the flow's timeout class, -1 at the ends
  NEXT = 3,
  META = 4, // protocol | ipVersion << 8 | tunnelType << 12 | timeout class << 16 | StateBit flags
  VLAN = 5, // outermost 802.1Q id, -1 when untagged
  TUNNEL_ID = 6, // -1 when none
  A_ADDR = 7, // initiator address, 4 words
  B_ADDR = 11, // responder address, 4 words
  PORTS = 15, // initiator port << 16 | responder port
  ICMP_TC = 16, // ICMP: type << 8 | code of the first packet
  RECORD_SEQ = 17,
  APP_INSPECTIONS = 18,
  ICMP_ERRORS = 19,
  FWD = 20, // + CoreDirI
  BWD = 22,
  STRIDE = 24,
}

/** Per-direction int32 columns, at CoreI.FWD or CoreI.BWD. */
export const enum CoreDirI {
  PACKETS = 0,
  /** TCP flags seen (OR) | SYN count << 8 | FIN count << 16 | RST count << 24, each count stopping at 255. */
  TCP = 1,
}

/** The counts in a core TCP column (CoreDirI.TCP). */
export const enum TcpCount {
  SYN = 0,
  FIN = 1,
  RST = 2,
}

/** One count of a core TCP column. */
export function tcpCount(w: number, which: TcpCount): number {
  return (w >>> (8 + 8 * which)) & 0xff;
}

/** Bits of CoreI.META above the timeout class. */
export const enum StateBit {
  FIN_FWD = 1 << 20,
  FIN_BWD = 1 << 21,
  /** Closed by TCP teardown, waiting out the close grace period in the table's closing list. */
  CLOSED = 1 << 22,
  /** Still referenced by the closing list: the slot must not be reused until the list lets go. */
  IN_CLOSING_LIST = 1 << 23,
  /** Has an entry in FlowSlots.app (most flows have none, and a Map lookup per ending flow is not free). */
  HAS_APP = 1 << 24,
}

export const META_CLASS_SHIFT = 16;
export const META_CLASS_MASK = 3 << 16;

/** float64 columns every flow has (times in µs since the epoch; byte counts can pass 2^32). */
export const enum CoreF {
  FLOW_ID = 0,
  FIRST_US = 1, // first and last packet of the current record
  LAST_US = 2,
  /** LAST_US when the flow last moved to the tail of its recency list (recency-list.ts). */
  LISTED_US = 3,
  FWD = 4, // + CoreDirF
  BWD = 6,
  STRIDE = 8,
}

export const enum CoreDirF {
  IP_BYTES = 0,
  PAYLOAD_BYTES = 1,
}

/** Welford running moments: five consecutive float64 columns. */
export const enum Mo {
  N = 0,
  MIN = 1,
  MAX = 2,
  MEAN = 3,
  M2 = 4,
}

/** float64 statistics columns of the full layout. */
export const enum StatF {
  IAT = 0, // gaps between consecutive packets, either direction (Mo)
  PAYLOAD_LEN = 5, // both directions (Mo)
  ACTIVE = 10, // activity periods (Mo)
  IDLE = 15, // idle periods (Mo)
  ACTIVE_START_US = 20,
  FWD = 21, // + StatDirF
  BWD = 45,
  STRIDE = 69,
}

export const enum StatDirF {
  LEN = 0, // IP total lengths (Mo)
  PAYLOAD_LEN = 5, // (Mo)
  IAT = 10, // gaps between this direction's packets, µs (Mo)
  FIRST_US = 15,
  LAST_US = 16,
  HEADER_BYTES = 17,
  L4_HEADER_BYTES = 18,
  BULK_BYTES = 19,
  BULK_DURATION_US = 20,
  RUN_START_US = 21,
  RUN_LAST_US = 22,
  RUN_BYTES = 23,
}

/** int32 statistics columns of the full layout. */
export const enum StatI {
  SUBFLOWS = 0,
  EARLY_COUNT = 1, // first packets recorded
  TS_REGRESSIONS = 2, // packets older than the flow's previous one
  FWD = 3, // + StatDirI
  BWD = 23,
  STRIDE = 43,
}

export const enum StatDirI {
  L4_HEADER_LEN_MIN = 0,
  NONEMPTY_PACKETS = 1,
  FIRST_TCP_FLAGS = 2,
  PSH = 3,
  ACK = 4,
  URG = 5,
  ECE = 6,
  CWR = 7,
  INIT_WINDOW = 8, // -1 until seen
  TCP_MSS = 9, // from this direction's first SYN; -1 when not seen
  TCP_WSCALE = 10,
  TCP_SACK_OK = 11, // 0/1
  TCP_TIMESTAMPS = 12, // 0/1
  SYN_TTL = 13,
  BULK_COUNT = 14,
  BULK_PACKETS = 15,
  RUN_PACKETS = 16,
  SYN = 17, // exact counts (the core column's stop at 255)
  FIN = 18,
  RST = 19,
}

/** FlowSlots.tmp: the packet's time, the gap to the flow's previous packet, that packet's time, a sample. */
export const enum Tmp {
  NOW_US = 0,
  GAP_US = 1,
  PREV_US = 2,
  X = 3,
}

export type FeatureSet = 'full' | 'compact';

/** What a flow record is built from (features/flow-record.ts): the table's rows, or a copy of some (export/row-batch.ts). */
export interface FlowRows {
  readonly full: boolean;
  readonly earlyPackets: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly si32: Int32Array;
  readonly sf64: Float64Array;
  readonly earlySizes: Int32Array;
  readonly earlyGapsUs: Float64Array;
  readonly app: ReadonlyMap<number, AppNames>;
}

/**
 * Rows reserved at first: untouched rows cost address space, not memory, and each doubling copies the
 * table (a gateway holds tens of thousands of flows within seconds).
 */
const INITIAL_SLOTS = 65536;

/**
 * The rows and their allocation. Slots are handed out from a free list, else from the high-water
 * mark, so the touched part of each array grows with the flows actually open (typed arrays are
 * zero pages until written). When full the arrays double; readers take `s.i32` etc. afresh after
 * anything that may allocate a slot.
 */
export class FlowSlots implements FlowRows {
  readonly full: boolean;
  readonly earlyPackets: number;
  i32: Int32Array;
  f64: Float64Array;
  /** Full layout only (empty otherwise). */
  si32: Int32Array;
  sf64: Float64Array;
  /** The first packets: IP length, negative from the responder; gap to the previous packet, µs. */
  earlySizes: Int32Array;
  earlyGapsUs: Float64Array;
  /** Per-packet scratch (Tmp): doubles handed between the update's functions without boxing them. */
  readonly tmp = new Float64Array(4);
  /**
   * [0]: at most the FIRST_US of every row with packets (accumulate() lowers it when it starts a record,
   * FlowTable's active-timeout scan raises it to the exact minimum): while it is more than the active
   * timeout before the packet time, no flow can be due and the scan is skipped.
   */
  readonly firstUsFloor = new Float64Array([Infinity]);
  /** Application names of the flows that have any (most have none: no column for them). */
  readonly app = new Map<number, AppNames>();
  private capacity = 0;
  private highWater = 0;
  private readonly free: number[] = [];

  constructor(features: FeatureSet, earlyPackets: number, maxFlows = INITIAL_SLOTS) {
    this.full = features === 'full';
    this.earlyPackets = this.full ? earlyPackets : 0;
    this.i32 = new Int32Array(0);
    this.f64 = new Float64Array(0);
    this.si32 = new Int32Array(0);
    this.sf64 = new Float64Array(0);
    this.earlySizes = new Int32Array(0);
    this.earlyGapsUs = new Float64Array(0);
    this.grow(Math.max(1, Math.min(INITIAL_SLOTS, maxFlows)));
  }

  /** Rows ever handed out (the touched part of the arrays). */
  get rows(): number {
    return this.highWater;
  }

  /** Slots currently handed out (open flows and closed ones the closing list still holds). */
  get inUse(): number {
    return this.highWater - this.free.length;
  }

  /** A cleared slot. */
  alloc(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.highWater === this.capacity) this.grow(this.capacity * 2);
      slot = this.highWater++;
    }
    this.clear(slot);
    return slot;
  }

  /** The flow's application names, created empty on first use. */
  appOf(slot: number): AppNames {
    const at = slot * CoreI.STRIDE + CoreI.META;
    if ((this.i32[at] & StateBit.HAS_APP) !== 0) return this.app.get(slot)!;
    const names: AppNames = {};
    this.app.set(slot, names);
    this.i32[at] |= StateBit.HAS_APP;
    return names;
  }

  release(slot: number): void {
    // Map.delete of every ending flow was ~2 % of the offline meter's capture thread.
    if ((this.i32[slot * CoreI.STRIDE + CoreI.META] & StateBit.HAS_APP) !== 0) this.app.delete(slot);
    this.free.push(slot);
  }

  /** Zeroes a slot's statistics for a new record interval of the same flow (TCP options are kept). */
  resetInterval(slot: number): void {
    const i = this.i32, f = this.f64, ib = slot * CoreI.STRIDE, fb = slot * CoreF.STRIDE;
    i[ib + CoreI.RECORD_SEQ]++;
    i[ib + CoreI.ICMP_ERRORS] = 0;
    i.fill(0, ib + CoreI.FWD, ib + CoreI.STRIDE);
    f[fb + CoreF.FIRST_US] = 0;
    f.fill(0, fb + CoreF.FWD, fb + CoreF.STRIDE);
    if (!this.full) return;
    this.sf64.fill(0, slot * StatF.STRIDE, (slot + 1) * StatF.STRIDE);
    const si = this.si32, sb = slot * StatI.STRIDE;
    si[sb + StatI.SUBFLOWS] = si[sb + StatI.TS_REGRESSIONS] = 0; // the first packets stay: they describe the flow
    for (const d of [sb + StatI.FWD, sb + StatI.BWD]) {
      si.fill(0, d + StatDirI.L4_HEADER_LEN_MIN, d + StatDirI.CWR + 1);
      si.fill(0, d + StatDirI.BULK_COUNT, d + StatDirI.RST + 1);
    }
  }

  private clear(slot: number): void {
    // Loops, not fill(): once per new flow, where a typed array's fill() call costs more than the stores.
    zero(this.i32, slot * CoreI.STRIDE, CoreI.STRIDE);
    zero(this.f64, slot * CoreF.STRIDE, CoreF.STRIDE);
    if (!this.full) return;
    zero(this.sf64, slot * StatF.STRIDE, StatF.STRIDE);
    const si = this.si32, sb = slot * StatI.STRIDE;
    zero(si, sb, StatI.STRIDE);
    for (let d = sb + StatI.FWD; d <= sb + StatI.BWD; d += StatI.BWD - StatI.FWD) {
      si[d + StatDirI.INIT_WINDOW] = si[d + StatDirI.TCP_MSS] = si[d + StatDirI.TCP_WSCALE] = si[d + StatDirI.SYN_TTL] = -1;
    }
  }

  private grow(slots: number): void {
    this.i32 = enlarge(this.i32, slots * CoreI.STRIDE);
    this.f64 = enlarge(this.f64, slots * CoreF.STRIDE);
    if (this.full) {
      this.si32 = enlarge(this.si32, slots * StatI.STRIDE);
      this.sf64 = enlarge(this.sf64, slots * StatF.STRIDE);
      this.earlySizes = enlarge(this.earlySizes, slots * this.earlyPackets);
      this.earlyGapsUs = enlarge(this.earlyGapsUs, slots * this.earlyPackets);
    }
    this.capacity = slots;
  }
}

function zero(a: Int32Array | Float64Array, at: number, n: number): void {
  for (let k = at; k < at + n; k++) a[k] = 0;
}

function enlarge<T extends Int32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/**
 * Welford update of the moments at `o` (Mo layout) with the sample `src[k]`: mean and M2 in one pass,
 * merged exactly at the collector. The sample comes in a typed array because a double passed to a call
 * V8 does not inline is boxed on the heap, 16 bytes a time (research/perf-baseline.md).
 */
export function addMoment(a: Float64Array, o: number, src: Float64Array, k: number): void {
  const x = src[k];
  const n = ++a[o + Mo.N];
  if (n === 1 || x < a[o + Mo.MIN]) a[o + Mo.MIN] = x;
  if (n === 1 || x > a[o + Mo.MAX]) a[o + Mo.MAX] = x;
  const delta = x - a[o + Mo.MEAN];
  const mean = a[o + Mo.MEAN] + delta / n;
  a[o + Mo.MEAN] = mean;
  a[o + Mo.M2] += delta * (x - mean);
}
