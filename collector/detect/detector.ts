// A detector looks at newly stored flows and emits alerts through a callback. It never touches the
// store or the alert hub (pipeline.ts does), so it can be tested with plain arrays.
import type { FlowRow, NewAlert } from '../model';

export type EmitAlert = (alert: NewAlert) => void;

export interface Detector {
  /** low-cardinality, used as a metric label and in logs */
  readonly name: string;
  /**
   * Called once per newly stored batch (all flows from one agent; duplicates never reach here).
   * Detectors keep their own bounded state across calls. Throwing is tolerated: the runner counts it.
   */
  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void;
}
