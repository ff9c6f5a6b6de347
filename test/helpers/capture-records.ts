// The flow records the agent exports for a capture file (default flow config), as the transport sends them.
import { readCaptureFile } from '../../agent/capture/file-source';
import { defaultConfig } from '../../agent/config';
import { toFlowRecord } from '../../agent/features/flow-record';
import { FlowTable } from '../../agent/flow/flow-table';
import { createMeter, flowTableOptions } from '../../agent/meter';
import type { IFlowRecord } from '../../proto';

export async function captureRecords(file: string): Promise<IFlowRecord[]> {
  const records: IFlowRecord[] = [];
  const table = new FlowTable(flowTableOptions(defaultConfig().flow), (slots, slot, reason) => records.push(toFlowRecord(slots, slot, reason)));
  await readCaptureFile(file, createMeter(table).onFrame);
  table.flushAll();
  return records;
}
