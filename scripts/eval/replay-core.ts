// Agent and collector in one process, no server: capture file → agent/meter.ts (decode → flow table)
// → the agent's flow records → protobuf batch encode/decode (as on the wire) → the collector's
// decodeBatch → DetectRunner. Used by scripts/replay.ts, scripts/eval.ts and their tests.
import { basename } from 'node:path';
import { defaultConfig } from '../../agent/config';
import { readCaptureFile } from '../../agent/capture/file-source';
import { createMeter, flowTableOptions } from '../../agent/meter';
import { FlowTable } from '../../agent/flow/flow-table';
import { toFlowRecord } from '../../agent/features/flow-record';
import { encodeAgentMessage, type IFlowRecord } from '../../proto';
import type { DetectConfig } from '../../collector/config';
import { buildDetectors, DetectRunner } from '../../collector/detect';
import { agentMessageBody } from '../../collector/ingest/agent-message';
import { decodeBatch } from '../../collector/ingest/validate';
import type { FlowRow, NewAlert } from '../../collector/model';
import { Registry, type Logger } from '../../collector/obs';

export interface ReplayOptions {
  detect: DetectConfig;
  log: Logger;
  /** flows per batch handed to detection (the agent's export.max_flows_per_batch) */
  batchFlows?: number;
  onAlert(alert: NewAlert, file: string): void;
  /** every validated flow, before detection (eval uses it for per-flow precision/recall) */
  onFlow?(flow: FlowRow, file: string): void;
}

export interface ReplayStats {
  files: number;
  frames: number;
  flows: number;
  invalidBatches: number;
  detectorFailures: number;
}

/**
 * Replays each file as its own agent (agent_id = the file's base name): its own flow table, flushed
 * at the end of the file, so captures with unrelated clocks never share detection state. Detectors
 * are built once from `detect` and see every file's flows, keyed by agent.
 */
export async function replayFiles(files: readonly string[], opts: ReplayOptions): Promise<ReplayStats> {
  const metrics = new Registry();
  const set = await buildDetectors(opts.detect, { log: opts.log, metrics });
  const runner = new DetectRunner(set.detectors, metrics, opts.log, opts.detect.suppress_secs);
  const agentCfg = defaultConfig();
  const batchFlows = opts.batchFlows ?? agentCfg.export.max_flows_per_batch;
  const stats: ReplayStats = { files: 0, frames: 0, flows: 0, invalidBatches: 0, detectorFailures: 0 };
  try {
    for (const file of files) {
      const agentId = basename(file);
      const bootId = 'replay';
      let seq = 0;
      let pending: IFlowRecord[] = [];
      const flush = (): void => {
        if (pending.length === 0) return;
        const bytes = Buffer.from(encodeAgentMessage({ batch: { seq: ++seq, bootId, createdUs: 0, flows: pending } }));
        pending = [];
        const body = agentMessageBody(bytes);
        const v = decodeBatch(bytes, body.start, body.end, { agentId, bootId, receivedUs: Date.now() * 1000 }, {
          maxFlowsPerBatch: Number.MAX_SAFE_INTEGER,
          maxClockSkewUs: 100 * 365 * 86400e6,
        });
        if (!v.ok) {
          stats.invalidBatches++;
          opts.log.warn('replay batch invalid', { file, message: v.message });
          return;
        }
        stats.flows += v.batch.flows.length;
        if (opts.onFlow) for (const f of v.batch.flows) opts.onFlow(f, file);
        for (const a of runner.run(v.batch.flows)) opts.onAlert(a, file);
      };
      const table = new FlowTable(flowTableOptions(agentCfg.flow), (slots, slot, reason) => {
        pending.push(toFlowRecord(slots, slot, reason));
        if (pending.length >= batchFlows) flush();
      });
      const meter = createMeter(table);
      await readCaptureFile(file, meter.onFrame);
      table.flushAll();
      flush();
      stats.files++;
      stats.frames += meter.frames();
    }
  } finally {
    set.close();
  }
  stats.detectorFailures = runner.failureCount;
  return stats;
}
