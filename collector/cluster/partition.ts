// Which partition a flow belongs to: FNV-1a (32 bit) of the flow's source (initiator) address, modulo
// the partition count. Every flow of one host lands on one partition, so on one detector worker, which
// is what scan and brute-force counters need. The hash is over the address text the store keeps, so
// every collector (any version of Node) agrees on it.
import type { FlowRow } from '../model';

export function partitionOf(srcIp: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < srcIp.length; i++) {
    h ^= srcIp.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** The batch's flows grouped by partition, in their original order within each group. */
export function splitByPartition(flows: readonly FlowRow[], partitions: number): Map<number, FlowRow[]> {
  const parts = new Map<number, FlowRow[]>();
  for (const f of flows) {
    const p = partitionOf(f.srcIp, partitions);
    let list = parts.get(p);
    if (!list) parts.set(p, (list = []));
    list.push(f);
  }
  return parts;
}
