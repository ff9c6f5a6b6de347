// File outputs are written by a worker from copies of the flows' rows: what it writes must be what the
// capture thread would have written itself, line for line, for both feature sets; a file that cannot
// be written fails with AGENT_ERR_OUTPUT; and the agent's stdout output survives a pipe.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../../../agent/capture/file-source';
import { createMeter } from '../../../agent/meter';
import { FlowTable, type FlowTableOptions } from '../../../agent/flow/flow-table';
import { flowJsonLine } from '../../../agent/export/flow-json';
import { flowCicRow } from '../../../agent/export/cic-csv';
import { OutputOffload } from '../../../agent/export/output-offload';
import { AgentErrorCode } from '../../../agent/errors';
import { ROOT, startTs, tempDir } from '../../helpers/processes';

// 335 flows (two batches) of TCP, UDP and ICMP, some with DNS names: records with and without application names.
const CAPTURE = join(ROOT, '../shared/pcaps/labeled/slips_test7-malicious.pcap');
const DEMO = join(ROOT, 'scripts/demo/gateway-scan.pcap');

function options(features: 'full' | 'compact'): FlowTableOptions {
  return {
    maxFlows: 1 << 16, idleTimeoutUs: 120e6, tcpIdleTimeoutUs: 300e6, tcpHalfOpenTimeoutUs: 20e6, icmpIdleTimeoutUs: 30e6,
    activeTimeoutUs: 300e6, tcpCloseGraceUs: 5e6, activeScanIntervalUs: 10e6, earlyPackets: 10, appInspectPackets: 6, features,
  };
}

for (const features of ['full', 'compact'] as const) {
  t.test(`the worker writes exactly what the capture thread would (${features})`, async (t) => {
    const dir = tempDir();
    const jsonl = join(dir, 'flows.jsonl');
    const csv = join(dir, 'flows.csv');
    const offload = new OutputOffload([{ path: jsonl, format: 'jsonl' }, { path: csv, format: 'csv' }], features === 'full', 10);
    const inlineJson: string[] = [];
    const inlineCsv: string[] = [];
    const table = new FlowTable(options(features), (slots, slot, reason) => {
      offload.add(slots, slot, reason);
      inlineJson.push(flowJsonLine(slots, slot, reason));
      inlineCsv.push(flowCicRow(slots, slot, reason));
    });
    await readCaptureFile(CAPTURE, createMeter(table).onFrame);
    table.flushAll();
    await offload.close();
    t.ok(inlineJson.length > 256, `more than one batch (${inlineJson.length} records)`);
    t.equal(offload.written, inlineJson.length);
    t.same(readFileSync(jsonl, 'utf8').trimEnd().split('\n'), inlineJson);
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
    t.same(rows.slice(1), inlineCsv, 'CSV rows after the header');
  });
}

t.test('a file that cannot be written fails with AGENT_ERR_OUTPUT naming it', async (t) => {
  const path = join(tempDir(), 'no-such-dir', 'flows.jsonl');
  const offload = new OutputOffload([{ path, format: 'jsonl' }], true, 10);
  await t.rejects(offload.close(), { code: AgentErrorCode.OUTPUT, message: new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
  const p = startTs(['agent/main.ts', '--read', DEMO, '--jsonl', path]);
  t.equal(await p.exited, 3);
  t.match(p.stderr.join('\n'), /AGENT_ERR_OUTPUT/);
});

t.test('JSON lines through a pipe arrive complete (the agent exits only once stdout is written)', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'flows.jsonl');
  const toFile = startTs(['agent/main.ts', '--read', CAPTURE, '--jsonl', file]);
  t.equal(await toFile.exited, 0);
  const expected = readFileSync(file, 'utf8').trimEnd().split('\n');
  const toPipe = startTs(['agent/main.ts', '--read', CAPTURE, '--jsonl', '-']);
  t.equal(await toPipe.exited, 0);
  t.equal(toPipe.stdout.length, expected.length);
  t.same([...toPipe.stdout].sort(), [...expected].sort());
});
