// Issue 4: agent and collector in two network namespaces joined by a veth pair. First random loss
// (an nftables `numgen random` drop rule), then a slow link (tc tbf), then the link down for longer
// than the agent's small spool can hold (drop_oldest). The agent notices the dead connection within
// 2 × ping_interval_ms; in the end the flows exported and not stored are exactly the agent's drop
// counter, and every other flow is stored once. Needs root (CI runs as root).
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, sh } from '../helpers/netns';
import { startCollector, startTs, stop, tempDir } from '../helpers/processes';
import { exportedFlows, sleep, storedCount, storedFlows } from '../helpers/delivery';
import { writeFlowCapture } from '../helpers/flow-capture';

const id = `${process.pid % 100000}`;
const NS_AGENT = `gksa${id}`;
const NS_COLL = `gksc${id}`;
const IF_AGENT = `gksva${id}`;
const IF_COLL = `gksvc${id}`;
// Documentation addresses, inside namespaces this test creates and removes.
const ADDR_AGENT = '198.51.100.1';
const ADDR_COLL = '198.51.100.2';
const PING_MS = 300;

function setUp(): void {
  sh('ip', 'netns', 'add', NS_AGENT);
  sh('ip', 'netns', 'add', NS_COLL);
  sh('ip', 'link', 'add', IF_AGENT, 'netns', NS_AGENT, 'type', 'veth', 'peer', 'name', IF_COLL, 'netns', NS_COLL);
  for (const [ns, ifc, addr] of [[NS_AGENT, IF_AGENT, ADDR_AGENT], [NS_COLL, IF_COLL, ADDR_COLL]]) {
    inNs(ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', ifc);
    inNs(ns, 'ip', 'link', 'set', ifc, 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
}

function tearDown(): void {
  for (const ns of [NS_AGENT, NS_COLL]) {
    try { sh('ip', 'netns', 'del', ns); } catch { /* already gone */ }
  }
}

t.test('random loss, a slow link, then a cut longer than the spool: drops = the agent\'s counter, the rest arrives once', async (t) => {
  tearDown();
  setUp();
  t.teardown(tearDown);
  const dir = tempDir('gk-spool-netns-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'flows.pcap');
  writeFlowCapture(capture, 40_000);
  const collector = await startCollector(dir, { host: ADDR_COLL, prefix: ['ip', 'netns', 'exec', NS_COLL] });
  t.teardown(() => stop(collector.proc));

  const flowsOut = join(dir, 'flows.jsonl');
  const config = join(dir, 'agent.json');
  writeFileSync(config, JSON.stringify({
    agent_id: 'gw1',
    source: { file: capture, replay_pps: 4000 },
    flow: { idle_timeout_secs: 1 },
    export: { max_flows_per_batch: 100, flush_interval_ms: 100 },
    collector: {
      url: collector.url, token: collector.agentToken, window_batches: 4, ping_interval_ms: PING_MS,
      connect_timeout_ms: 1000, backoff_initial_ms: 100, backoff_max_ms: 300, drain_timeout_ms: 60000,
    },
    // About 15 batches: the cut below outlasts it many times over.
    spool: { dir: join(dir, 'spool'), max_bytes: 256 * 1024, segment_bytes: 64 * 1024, full_policy: 'drop_oldest' },
    output: { jsonl: flowsOut },
  }));
  const agent = startTs(['agent/main.ts', '--config', config], { prefix: ['ip', 'netns', 'exec', NS_AGENT] });
  t.teardown(() => agent.child.kill('SIGKILL'));
  await agent.waitFor(/"event":"collector_connected"/);
  while (storedCount(collector.dbPath) === 0) await sleep(50);

  // 1. Random loss both ways, 10 % of packets.
  inNs(NS_AGENT, 'nft', 'add table inet gkloss; add chain inet gkloss out { type filter hook output priority 0; };'
    + ' add chain inet gkloss in { type filter hook input priority 0; };'
    + ' add rule inet gkloss out numgen random mod 100 < 10 drop; add rule inet gkloss in numgen random mod 100 < 10 drop');
  const beforeLoss = storedCount(collector.dbPath);
  await sleep(2000);
  const duringLoss = storedCount(collector.dbPath) - beforeLoss;
  inNs(NS_AGENT, 'nft', 'delete table inet gkloss');
  t.ok(duringLoss > 0, `flows still arrive through 10 % loss (${duringLoss} in 2 s)`);

  // 2. A slow link: 2 Mbit/s out of the agent.
  inNs(NS_AGENT, 'tc', 'qdisc', 'add', 'dev', IF_AGENT, 'root', 'tbf', 'rate', '2mbit', 'burst', '16kb', 'latency', '200ms');
  await sleep(2000);
  inNs(NS_AGENT, 'tc', 'qdisc', 'del', 'dev', IF_AGENT, 'root');

  // 3. The link down for 3 s, once a connection is up and delivering through it (10 % loss may have
  //    cost a connection or two: a pong late by a ping interval is taken as a dead link).
  const lastEvent = (event: string): number => {
    for (let i = agent.stderr.length - 1; i >= 0; i--) if (agent.stderr[i].includes(`"event":"${event}"`)) return i;
    return -1;
  };
  const lost = (): number => agent.stderr.filter((l) => l.includes('"event":"collector_disconnected"')).length;
  for (;;) {
    const before = storedCount(collector.dbPath);
    const lostAt = lastEvent('collector_disconnected');
    await sleep(200);
    const up = lastEvent('collector_connected') > lastEvent('collector_disconnected') && lastEvent('collector_disconnected') === lostAt;
    if (up && storedCount(collector.dbPath) > before) break;
  }
  const lostBefore = lost();
  const cutAt = Date.now();
  inNs(NS_AGENT, 'ip', 'link', 'set', IF_AGENT, 'down');
  let noticedMs = -1;
  while (Date.now() - cutAt < 3000) {
    if (noticedMs < 0 && lost() > lostBefore) noticedMs = Date.now() - cutAt;
    await sleep(20);
  }
  inNs(NS_AGENT, 'ip', 'link', 'set', IF_AGENT, 'up');
  t.ok(noticedMs >= 0 && noticedMs <= 2 * PING_MS + 1000, `dead connection noticed after ${noticedMs} ms (ping every ${PING_MS} ms)`);

  t.equal(await agent.exited, 0, `agent finished: ${agent.stderr.slice(-2).join('\n')}`);
  const stopped = JSON.parse(agent.stderr.find((l) => l.includes('"event":"stopped"'))!);
  const dropped = stopped.spool.flowsDropped as number;
  const exported = exportedFlows(flowsOut);
  const stored = storedFlows(collector.dbPath);
  t.ok(dropped > 0, `the small spool overflowed: ${dropped} flows dropped (${stopped.spool.batchesDropped} batches)`);
  t.equal(exported.count - stored.count, dropped, `exported ${exported.count} − stored ${stored.count} = the agent's drop counter`);
  t.equal(new Set(stored.keys).size, stored.count, 'no flow stored twice');
  const exportedKeys = new Set(exported.keys);
  t.equal(stored.keys.filter((k) => !exportedKeys.has(k)).length, 0, 'every stored flow is one the agent exported, unchanged');
});
