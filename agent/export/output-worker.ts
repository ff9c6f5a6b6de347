// The output worker: turns batches of flow rows into records and writes them to the --jsonl/--csv
// files, off the capture thread (output-offload.ts posts to it). Each batch is acknowledged once its
// lines are written or buffered under the streams' limits, which gives the offload its backpressure.
import { parentPort, workerData } from 'node:worker_threads';
import { CIC_HEADER, writeCicRow } from './cic-csv';
import { writeFlowJson } from './flow-json';
import { RecordWriter } from './record-writer';
import { RowBatch, type RowBatchMessage } from './row-batch';
import type { EndReasonValue } from '../../proto';
import type { OutputTarget, WorkerReply, WorkerRequest } from './output-offload';

const port = parentPort!;
const targets = (workerData as { targets: OutputTarget[] }).targets;
const writers = targets.map((t) => (t.format === 'csv'
  ? new RecordWriter(t.path, writeCicRow, CIC_HEADER)
  : new RecordWriter(t.path, writeFlowJson)));

function reply(r: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(r, transfer);
}

/** Writes the batch's records; returns the batch, emptied, for its arrays to be handed back. */
async function write(m: RowBatchMessage): Promise<RowBatch> {
  const batch = RowBatch.fromMessage(m);
  for (let row = 0; row < batch.count; row++) {
    for (const w of writers) w.write(batch, row, batch.reasons[row] as EndReasonValue);
  }
  await Promise.all(writers.map((w) => w.gate()));
  batch.count = 0;
  batch.app.clear();
  return batch;
}

// Messages are handled one at a time, in order: a batch's lines are queued before the next batch's.
let chain = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  chain = chain.then(async () => {
    try {
      if (req.type === 'rows') {
        const { message, transfer } = (await write(req.batch)).toMessage();
        reply({ type: 'written', records: req.batch.count, batch: message }, transfer);
      } else {
        for (const w of writers) await w.close();
        reply({ type: 'closed' });
      }
    } catch (err) {
      reply({ type: 'error', message: (err as Error).message });
    }
  });
});
