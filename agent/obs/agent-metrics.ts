// What the agent's /metrics shows, read from the counters each module keeps. The sources are plain
// structural types, so obs/ imports no other agent module; main.ts hands them in.
import type { Sample } from './metrics';

export interface MetricSources {
  frames(): number;
  bytes(): number;
  /** frames by decode event name (index 0 = OK is left out by the caller or named 'ok') */
  decodeEvents(): ReadonlyArray<readonly [string, number]>;
  /** libpcap's counters; absent when reading a file */
  capture?(): { kernelReceived: number; kernelDropped: number; interfaceDropped: number };
  flowsActive(): number;
  flowTable: { flowsCreated: number; recordsExported: number; interimRecords: number; evictedFull: number; emergencyEntered: number };
  /** absent without a collector */
  transport?: {
    counters: { batchesSent: number; batchesResent: number; batchesAcked: number; batchesDuplicate: number; batchesRejected: number; flowsAcked: number; connects: number; disconnects: number };
    /** the spool's counters (they survive restarts) */
    spool: { batchesDropped: number; flowsDropped: number; tornTails: number };
    queuedBatches(): number;
    queuedBytes(): number;
    connected(): boolean;
  };
}

export function agentSamples(s: MetricSources): Sample[] {
  const out: Sample[] = [
    { name: 'packets_received_total', help: 'Frames handed to the decoder (captured, or read from the file).', type: 'counter', value: s.frames() },
    { name: 'bytes_received_total', help: 'Wire bytes of those frames.', type: 'counter', value: s.bytes() },
    { name: 'decode_events_total', help: 'Frames by decode outcome (ok, not_ip, truncated_*, ...).', type: 'counter', value: s.decodeEvents().map(([event, n]) => [{ event }, n] as const) },
    { name: 'flows_active', help: 'Flows open in the flow table.', type: 'gauge', value: s.flowsActive() },
    { name: 'flows_created_total', help: 'Flows opened.', type: 'counter', value: s.flowTable.flowsCreated },
    { name: 'flow_records_exported_total', help: 'Flow records exported (final and interim).', type: 'counter', value: s.flowTable.recordsExported },
    { name: 'flow_records_interim_total', help: 'Interim records of long flows.', type: 'counter', value: s.flowTable.interimRecords },
    { name: 'flows_evicted_full_total', help: 'Flows exported early because the table was full.', type: 'counter', value: s.flowTable.evictedFull },
    { name: 'flow_table_emergency_total', help: 'Times the flow table entered emergency mode.', type: 'counter', value: s.flowTable.emergencyEntered },
  ];
  const cap = s.capture?.();
  if (cap) {
    out.push(
      { name: 'capture_kernel_received_total', help: "libpcap ps_recv: packets the kernel filter passed.", type: 'counter', value: cap.kernelReceived },
      {
        name: 'packets_dropped_total',
        help: 'Packets lost before the agent saw them: where="kernel" (ps_drop, buffer full), where="interface" (ps_ifdrop).',
        type: 'counter',
        value: [[{ where: 'kernel' }, cap.kernelDropped], [{ where: 'interface' }, cap.interfaceDropped]],
      },
    );
  }
  const t = s.transport;
  if (t) {
    const c = t.counters;
    out.push(
      { name: 'batches_sent_total', help: 'Batches sent to the collector (first sends).', type: 'counter', value: c.batchesSent },
      { name: 'batches_resent_total', help: 'Batches sent again after a reconnect.', type: 'counter', value: c.batchesResent },
      {
        name: 'batches_acked_total',
        help: 'Batches the collector acknowledged, by status.',
        type: 'counter',
        value: [[{ status: 'stored' }, c.batchesAcked - c.batchesDuplicate], [{ status: 'duplicate' }, c.batchesDuplicate]],
      },
      { name: 'batches_rejected_total', help: 'Batches the collector refused as invalid.', type: 'counter', value: c.batchesRejected },
      { name: 'flows_acked_total', help: 'Flows the collector stored.', type: 'counter', value: c.flowsAcked },
      { name: 'flows_dropped_total', help: 'Flows the spool had to drop (full, or unwritable), since the spool was made.', type: 'counter', value: t.spool.flowsDropped },
      { name: 'batches_dropped_total', help: 'Batches the spool had to drop, since the spool was made.', type: 'counter', value: t.spool.batchesDropped },
      { name: 'spool_torn_tails_total', help: 'Torn or corrupt spool tails cut at start (power cut mid-write).', type: 'counter', value: t.spool.tornTails },
      { name: 'collector_connects_total', help: 'Connection attempts to the collector.', type: 'counter', value: c.connects },
      { name: 'collector_disconnects_total', help: 'Connections to the collector that ended.', type: 'counter', value: c.disconnects },
      { name: 'collector_connected', help: '1 while connected to the collector.', type: 'gauge', value: t.connected() ? 1 : 0 },
      { name: 'send_queue_batches', help: 'Batches queued and not yet acknowledged.', type: 'gauge', value: t.queuedBatches() },
      { name: 'spool_bytes', help: 'Bytes of unacknowledged batches in the spool (bounded by spool.max_bytes).', type: 'gauge', value: t.queuedBytes() },
    );
  }
  return out;
}
