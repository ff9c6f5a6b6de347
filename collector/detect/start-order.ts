// Start-time order of a batch's flows (batches come in export order, not start order), for the
// detectors whose windows slide on flow start times. Batches are usually in order already: checking
// costs one pass, sorting far more.
import type { FlowRow } from '../model';

/** Flows by start time, stable; `flows` itself when already in order. */
export function byStart(flows: FlowRow[]): FlowRow[] {
  return isByStart(flows) ? flows : flows.slice().sort((a, b) => a.firstUs - b.firstUs);
}

/** True when `flows` are in start order. */
export function isByStart(flows: readonly FlowRow[]): boolean {
  for (let i = 1; i < flows.length; i++) if (flows[i].firstUs < flows[i - 1].firstUs) return false;
  return true;
}
