// Issue 4: the agent is killed (SIGKILL) in the middle of a replay and started again on the same spool
// directory. What the collector had acknowledged is not sent again (the collector's duplicate counter
// moves only by batches whose ack was still on its way at the kill), and nothing that was spooled and
// not acknowledged is lost: the batches of the killed run end up stored as seq 1..K without a gap.
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Spool } from '../../agent/transport/spool';
import { startCollector, startTs, stop, tempDir } from '../helpers/processes';
import { collectorMetric, exportedFlows, sleep, storedCount, storedFlows } from '../helpers/delivery';
import { writeFlowCapture } from '../helpers/flow-capture';

t.test('agent killed mid-replay and restarted: nothing acknowledged sent again, nothing unacknowledged lost', async (t) => {
  const dir = tempDir('gk-spool-akill-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const captureA = join(dir, 'a.pcap');
  const captureB = join(dir, 'b.pcap');
  writeFlowCapture(captureA, 80_000, { netByte: 10 });
  writeFlowCapture(captureB, 5_000, { netByte: 11 });
  const collector = await startCollector(dir);
  t.teardown(() => stop(collector.proc));
  const spoolDir = join(dir, 'spool');

  const agentRun = (capture: string, jsonl: string, pps: number, name = 'a') => {
    const config = join(dir, `agent-${name}.json`);
    writeFileSync(config, JSON.stringify({
      agent_id: 'gw1',
      source: { file: capture, replay_pps: pps },
      flow: { idle_timeout_secs: 1 },
      // A small window, so that several batches are spooled and unacknowledged at the kill.
      export: { max_flows_per_batch: 200, flush_interval_ms: 100 },
      collector: { url: collector.url, token: collector.agentToken, window_batches: 4, backoff_initial_ms: 100, backoff_max_ms: 400 },
      spool: { dir: spoolDir },
      output: { jsonl },
    }));
    return startTs(['agent/main.ts', '--config', config]);
  };

  // Run 1 is killed while it is still reading its capture and holds a backlog: the collector is stopped
  // (SIGSTOP) for a moment first, so that batches pile up in the spool behind a full window whatever the
  // two processes' relative speed (a collector that kept up left none, and the test proved nothing).
  const first = agentRun(captureA, join(dir, 'a.jsonl'), 25_000);
  const bootA = JSON.parse(await first.waitFor(/"event":"collector_connected"/)).boot_id as string;
  while (storedCount(collector.dbPath) < 15_000) await sleep(50);
  await sleep(Math.random() * 500);
  collector.proc.child.kill('SIGSTOP');
  await sleep(400);
  first.child.kill('SIGKILL');
  await first.exited;
  collector.proc.child.kill('SIGCONT');
  t.notOk(first.stderr.some((l) => l.includes('"event":"file_done"')), 'killed in the middle of its capture');
  // Let the collector finish what was already on its socket.
  const storedNow = (): Promise<number> => collectorMetric('127.0.0.1', collector.port, 'flows_stored_total');
  for (let prev = -1, now = await storedNow(); now !== prev; prev = now, await sleep(300), now = await storedNow());

  // What the killed run left: spooled and not acknowledged (as far as it knew).
  const spool = Spool.open({ dir: spoolDir, maxBytes: 1 << 30, segmentBytes: 8 << 20, fullPolicy: 'block' });
  const pending: Array<{ bootId: string; seq: number; flows: number }> = [];
  for (let r = spool.next(0); r; r = spool.next(r.id)) pending.push({ bootId: r.bootId, seq: r.seq, flows: r.flows });
  spool.close();
  t.ok(pending.length > 0, `${pending.length} batches spooled and unacknowledged at the kill`);
  t.ok(pending.every((p) => p.bootId === bootA), 'all of the killed run');
  const batchesOf = (boot: string): Array<{ seq: number; flow_count: number }> => {
    const db = new Database(collector.dbPath, { readonly: true });
    try {
      return db.prepare('SELECT seq, flow_count FROM batches WHERE boot_id = ? ORDER BY seq').all(boot) as never;
    } finally {
      db.close();
    }
  };
  const storedAtKill = new Set(batchesOf(bootA).map((b) => b.seq));
  const inFlightAtKill = pending.filter((p) => storedAtKill.has(p.seq)).length;
  const duplicatesBefore = await collectorMetric('127.0.0.1', collector.port, 'batches_duplicate_total');

  // Run 2 on the same spool, with another capture.
  const secondJsonl = join(dir, 'b.jsonl');
  const second = agentRun(captureB, secondJsonl, 0, 'b');
  const recovered = JSON.parse(await second.waitFor(/"event":"spool_recovered"/));
  t.equal(recovered.batches, pending.length, 'the restarted agent found the unacknowledged batches');
  t.equal(await second.exited, 0, `second run delivered everything: ${second.stderr.slice(-2).join('\n')}`);
  const stopped = JSON.parse(second.stderr.find((l) => l.includes('"event":"stopped"'))!);
  const bootB = stopped.boot_id as string;

  const duplicates = (await collectorMetric('127.0.0.1', collector.port, 'batches_duplicate_total')) - duplicatesBefore;
  t.equal(duplicates, inFlightAtKill,
    `duplicates at the collector (${duplicates}) = batches stored whose ack the killed agent never saw (${inFlightAtKill}); nothing acknowledged went again`);
  t.equal(stopped.transport.batchesSent, pending.length + stopped.spool.batchesAppended, 'sent: the leftovers once, its own once');

  const a = batchesOf(bootA);
  const k = a.length ? a[a.length - 1].seq : 0;
  t.same(a.map((b) => b.seq), Array.from({ length: k }, (_, i) => i + 1), `killed run's batches stored as 1..${k}, no gap`);
  t.ok(k >= Math.max(...pending.map((p) => p.seq)), 'including every one left in the spool');
  const flowsA = storedFlows(collector.dbPath, bootA);
  t.equal(flowsA.count, a.reduce((n, b) => n + b.flow_count, 0), 'every flow of those batches stored once');
  t.equal(new Set(flowsA.keys).size, flowsA.count, 'no flow of the killed run twice');

  const exportedB = exportedFlows(secondJsonl);
  const storedB = storedFlows(collector.dbPath, bootB);
  t.equal(storedB.count, exportedB.count, `second run: ${exportedB.count} exported, all stored`);
  t.equal(storedB.digest, exportedB.digest, 'second run: same records');
});
