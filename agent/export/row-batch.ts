// A copy of some flows' rows (flow/flow-slots.ts), with the reason each left the table: what the
// output worker turns into records. Copying a row is a few hundred bytes of memcpy; building and
// formatting its record is ~15 µs, so that part runs off the capture thread.
import type { AppNames } from '../decode/app/app-names';
import { CoreF, CoreI, StatF, StatI, StateBit, type FlowRows, type FlowSlots } from '../flow/flow-slots';

/** A batch as posted to the worker: its buffers are transferred, not copied. */
export interface RowBatchMessage extends Omit<FlowRows, 'app'> {
  readonly count: number;
  readonly reasons: Int32Array;
  readonly app: Array<[number, AppNames]>;
}

export class RowBatch implements FlowRows {
  count = 0;
  readonly app = new Map<number, AppNames>();

  /** Rows the arrays hold. */
  readonly capacity: number;

  private constructor(
    readonly full: boolean,
    readonly earlyPackets: number,
    readonly i32: Int32Array,
    readonly f64: Float64Array,
    readonly si32: Int32Array,
    readonly sf64: Float64Array,
    readonly earlySizes: Int32Array,
    readonly earlyGapsUs: Float64Array,
    readonly reasons: Int32Array,
  ) {
    this.capacity = reasons.length;
  }

  static create(full: boolean, earlyPackets: number, capacity: number): RowBatch {
    const e = full ? earlyPackets : 0;
    return new RowBatch(full, e, new Int32Array(capacity * CoreI.STRIDE), new Float64Array(capacity * CoreF.STRIDE),
      new Int32Array(full ? capacity * StatI.STRIDE : 0), new Float64Array(full ? capacity * StatF.STRIDE : 0),
      new Int32Array(capacity * e), new Float64Array(capacity * e), new Int32Array(capacity));
  }

  /** The batch a message carries, its rows as they were posted. */
  static fromMessage(m: RowBatchMessage): RowBatch {
    const b = RowBatch.recycled(m);
    b.count = m.count;
    for (const [row, names] of m.app) b.app.set(row, names);
    return b;
  }

  /** An empty batch in the arrays of one that was posted and handed back. */
  static recycled(m: RowBatchMessage): RowBatch {
    return new RowBatch(m.full, m.earlyPackets, m.i32, m.f64, m.si32, m.sf64, m.earlySizes, m.earlyGapsUs, m.reasons);
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Copies the flow in `slot` as it is now (the table reuses the slot right after). */
  append(s: FlowSlots, slot: number, reason: number): void {
    const row = this.count++;
    copyInts(s.i32, slot, this.i32, row, CoreI.STRIDE);
    copyDoubles(s.f64, slot, this.f64, row, CoreF.STRIDE);
    if (this.full) {
      copyInts(s.si32, slot, this.si32, row, StatI.STRIDE);
      copyDoubles(s.sf64, slot, this.sf64, row, StatF.STRIDE);
      copyInts(s.earlySizes, slot, this.earlySizes, row, this.earlyPackets);
      copyDoubles(s.earlyGapsUs, slot, this.earlyGapsUs, row, this.earlyPackets);
    }
    if ((s.i32[slot * CoreI.STRIDE + CoreI.META] & StateBit.HAS_APP) !== 0) this.app.set(row, s.app.get(slot)!);
    this.reasons[row] = reason;
  }

  /** The message and the buffers to transfer with it. After posting, this batch is unusable. */
  toMessage(): { message: RowBatchMessage; transfer: ArrayBuffer[] } {
    const arrays = [this.i32, this.f64, this.si32, this.sf64, this.earlySizes, this.earlyGapsUs, this.reasons];
    return {
      message: {
        full: this.full, earlyPackets: this.earlyPackets, count: this.count, i32: this.i32, f64: this.f64,
        si32: this.si32, sf64: this.sf64, earlySizes: this.earlySizes, earlyGapsUs: this.earlyGapsUs,
        reasons: this.reasons, app: [...this.app],
      },
      transfer: arrays.map((a) => a.buffer as ArrayBuffer),
    };
  }
}

// One function per element type: a single generic copy saw both Int32Array and Float64Array, and its
// polymorphic element accesses made copying a row ~3 µs (the offline profile's 4 %).
function copyInts(from: Int32Array, slot: number, to: Int32Array, row: number, stride: number): void {
  const a = slot * stride, b = row * stride;
  for (let k = 0; k < stride; k++) to[b + k] = from[a + k];
}

function copyDoubles(from: Float64Array, slot: number, to: Float64Array, row: number, stride: number): void {
  const a = slot * stride, b = row * stride;
  for (let k = 0; k < stride; k++) to[b + k] = from[a + k];
}
