// Issue 4: the collector is killed (SIGKILL) at random points, three times, while the agent replays
// a capture of 110,000 flows, and restarted each time. In the end the store holds every flow the
// agent exported exactly once: same count, same digest over the records.
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startCollector, startTs, stop, tempDir } from '../helpers/processes';
import { exportedFlows, sleep, storedCount, storedFlows } from '../helpers/delivery';
import { writeFlowCapture } from '../helpers/flow-capture';

const FLOWS = 110_000;

t.test('collector killed at random points during a 110k-flow replay: every exported flow stored exactly once', async (t) => {
  const dir = tempDir('gk-spool-ckill-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'flows.pcap');
  writeFlowCapture(capture, FLOWS);

  const port = await freePort();
  let collector = await startCollector(dir, { port });
  const { agentToken, subscriberToken, dbPath } = collector;
  const flowsOut = join(dir, 'flows.jsonl');
  const agentConfig = join(dir, 'agent.json');
  writeFileSync(agentConfig, JSON.stringify({
    agent_id: 'gw1',
    source: { file: capture, replay_pps: 11_000 },
    flow: { idle_timeout_secs: 1 },
    export: { max_flows_per_batch: 500, flush_interval_ms: 100 },
    collector: { url: collector.url, token: agentToken, backoff_initial_ms: 100, backoff_max_ms: 400, drain_timeout_ms: 60000 },
    spool: { dir: join(dir, 'spool') },
    output: { jsonl: flowsOut },
  }));
  const agent = startTs(['agent/main.ts', '--config', agentConfig]);
  t.teardown(() => { agent.child.kill('SIGKILL'); collector.proc.child.kill('SIGKILL'); });

  for (let round = 0; round < 3; round++) {
    const before = storedCount(dbPath);
    const deadline = Date.now() + 30000;
    while (storedCount(dbPath) <= before && Date.now() < deadline) await sleep(50);
    await sleep(Math.random() * 1500); // a random point in the stream
    const atKill = storedCount(dbPath);
    t.ok(atKill > before, `round ${round}: flows arriving before the kill (${atKill} stored)`);
    collector.proc.child.kill('SIGKILL');
    await collector.proc.exited;
    await sleep(300 + Math.random() * 700);
    collector = await startCollector(dir, { port, dbPath, agentToken, subscriberToken });
  }

  const status = await agent.exited;
  t.equal(status, 0, `agent delivered everything: ${agent.stderr.slice(-3).join('\n')}`);
  await stop(collector.proc);

  const stopped = JSON.parse(agent.stderr.find((l) => l.includes('"event":"stopped"'))!);
  t.ok(stopped.transport.disconnects >= 3, `agent saw the collector go away (${stopped.transport.disconnects} times)`);
  t.equal(stopped.spool.flowsDropped, 0, 'nothing dropped');
  t.equal(stopped.transport.queued_batches, 0, 'spool empty at the end');
  t.equal(stopped.transport.queued_bytes, 0, 'no segment file left');

  const exported = exportedFlows(flowsOut);
  const stored = storedFlows(dbPath);
  t.ok(exported.count >= 100_000, `agent exported ${exported.count} flows`);
  t.equal(stored.count, exported.count, 'stored rows = exported flows');
  t.equal(stored.digest, exported.digest, 'digest of stored records = digest of exported records');
});
