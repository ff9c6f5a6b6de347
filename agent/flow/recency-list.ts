// An intrusive doubly linked list of flows in the order they were last seen (head = longest idle).
// Moving a flow to the tail on every packet is three pointer writes, and the idle sweep only ever
// looks at the head, so expiry costs O(flows expired), whatever the table size.
import type { FlowEntry } from './flow-entry';

export class RecencyList {
  head: FlowEntry | null = null;
  tail: FlowEntry | null = null;
  size = 0;

  push(e: FlowEntry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.size++;
  }

  unlink(e: FlowEntry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
    this.size--;
  }

  touch(e: FlowEntry): void {
    if (this.tail === e) return;
    this.unlink(e);
    this.push(e);
  }
}
