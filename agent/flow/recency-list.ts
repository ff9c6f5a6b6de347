// Intrusive doubly linked lists of flow slots, one per timeout class, in the order they were last moved
// to the tail (head = longest idle). The flow table moves a flow at most once a second of packet time
// (flow-table.ts, RELIST_US), and the idle sweep only looks at the head part that is due, so expiry costs
// O(flows due), whatever the table size.
import { CoreI, type FlowSlots } from './flow-slots';

export class RecencyLists {
  /** Slot at the head / tail of each list, -1 when empty. */
  readonly head: Int32Array;
  readonly tail: Int32Array;

  constructor(private readonly slots: FlowSlots, lists: number) {
    this.head = new Int32Array(lists).fill(-1);
    this.tail = new Int32Array(lists).fill(-1);
  }

  push(list: number, slot: number): void {
    const i = this.slots.i32, b = slot * CoreI.STRIDE, t = this.tail[list];
    i[b + CoreI.PREV] = t;
    i[b + CoreI.NEXT] = -1;
    if (t >= 0) i[t * CoreI.STRIDE + CoreI.NEXT] = slot;
    else this.head[list] = slot;
    this.tail[list] = slot;
  }

  unlink(list: number, slot: number): void {
    const i = this.slots.i32, b = slot * CoreI.STRIDE;
    const p = i[b + CoreI.PREV], n = i[b + CoreI.NEXT];
    if (p >= 0) i[p * CoreI.STRIDE + CoreI.NEXT] = n;
    else this.head[list] = n;
    if (n >= 0) i[n * CoreI.STRIDE + CoreI.PREV] = p;
    else this.tail[list] = p;
    i[b + CoreI.PREV] = i[b + CoreI.NEXT] = -1;
  }

  touch(list: number, slot: number): void {
    if (this.tail[list] === slot) return;
    this.unlink(list, slot);
    this.push(list, slot);
  }
}
