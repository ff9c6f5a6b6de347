// The load generator (scripts/load/agents.ts) against a real single-process collector: 1,000
// simulated agents over loopback for a few seconds all connect (Hello/Welcome), their batches are
// acknowledged, and the flows they were acknowledged for are the flows the collector stored.
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCredentials, runLoad } from '../../scripts/load/agents';
import { startTs, stop, tempDir } from '../helpers/processes';
import { storedCount, sleep } from '../helpers/delivery';

t.test('1,000 simulated agents: all connect, every acknowledged flow is stored', async (t) => {
  const dir = tempDir(`gk-load-${process.pid}-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secret = 'load-test-secret';
  const dbPath = join(dir, 'c.sqlite');
  writeFileSync(join(dir, 'c.json'), JSON.stringify({
    listen: { host: '127.0.0.1', port: 0 },
    store: { sqlite_path: dbPath, synchronous: 'normal' },
    auth: { agents: loadCredentials(1000, secret) },
    limits: { max_connections_per_ip: 2000, max_pending_connections_per_ip: 2000 },
    web: { enabled: false },
  }));
  const collector = startTs(['collector/main.ts', 'serve', '--config', join(dir, 'c.json'), '--log-level', 'warn']);
  t.teardown(() => collector.child.kill('SIGKILL'));
  const port = JSON.parse(await collector.waitFor(/"event":"listening"/)).port as number;
  const lines: string[] = [];
  const r = await runLoad({
    urls: [`ws://127.0.0.1:${port}`], secret, agents: 1000, durationSecs: 6, flowsPerBatch: 2, intervalMs: 1000, window: 4,
    scanEverySecs: 0, metricsUrls: [`http://127.0.0.1:${port}`], pids: [collector.child.pid!], log: (l) => lines.push(l),
  });
  t.equal(r.connected, 1000, 'every agent connected');
  t.ok(r.batches_acked > 1000, `batches acknowledged (${r.batches_acked})`);
  t.ok(r.ack_p99_ms > 0, `p99 ack latency measured (${r.ack_p99_ms} ms)`);
  t.ok(r.collector_rss_mb[0] > 0, `collector RSS read (${r.collector_rss_mb[0]} MB)`);
  t.ok(r.flows_stored >= r.flows_acked && r.flows_acked > 0, `flows stored (flows_stored_total ${r.flows_stored}) cover the acknowledged ones (${r.flows_acked})`);
  await sleep(200);
  const inStore = storedCount(dbPath);
  t.ok(inStore >= r.flows_acked, `the store holds every acknowledged flow (${inStore} rows)`);
  t.match(lines.at(-1), /"event":"summary"/, 'a summary line at the end');
  await stop(collector);
});
