// A detector looks at newly stored flows and emits alerts through a callback. It never touches the
// store or the alert hub (pipeline.ts does), so it can be tested with plain arrays.
import type { FlowRow, NewAlert } from '../model';
import type { FlowKeys } from './flow-keys';

export type EmitAlert = (alert: NewAlert) => void;

export interface Detector {
  /** low-cardinality, used as a metric label and in logs */
  readonly name: string;
  /**
   * Called once per newly stored batch (all flows from one agent; duplicates never reach here).
   * Detectors keep their own bounded state across calls. Throwing is tolerated: the runner counts it.
   * `keys`: the batch's addresses parsed once for all detectors (flow-keys.ts); absent when a
   * detector is called on its own, which then parses what it needs (FlowKeys.of).
   */
  onFlows(flows: readonly FlowRow[], emit: EmitAlert, keys?: FlowKeys): void;
  /**
   * Keys of per-key state dropped, ever, to keep the detector's tables within their caps (the least
   * recently used half goes): a detection that needed them can be missed. Absent: nothing is capped.
   */
  evictions?(): number;
}
