// The collector is killed (SIGKILL) and restarted twice while the agent replays a capture: in the
// end SQLite holds every flow the agent exported exactly once.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SHARED, freePort, startCollector, startTs, stop, tempDir } from '../helpers/processes';

function storedCount(dbPath: string): number {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

t.test('collector stopped and started during a replay: every exported flow stored exactly once', async (t) => {
  const dir = tempDir();
  const capture = join(dir, 'campus.pcap');
  execFileSync('python3', [join(SHARED, 'bench', 'gen_campus_pcap.py'), '--packets', '100000', '--duration', '60', '--seed', '7', '-o', capture], { stdio: 'ignore' });

  const port = await freePort();
  let collector = await startCollector(dir, { port });
  const { agentToken, subscriberToken, dbPath } = collector;
  const flowsOut = join(dir, 'flows.jsonl');
  const agentConfig = join(dir, 'agent.json');
  writeFileSync(agentConfig, JSON.stringify({
    agent_id: 'gw1',
    source: { file: capture, replay_pps: 20000 },
    flow: { idle_timeout_secs: 5 },
    export: { max_flows_per_batch: 50, flush_interval_ms: 100 },
    collector: { url: collector.url, token: agentToken, backoff_initial_ms: 100, backoff_max_ms: 500, drain_timeout_ms: 60000 },
    output: { jsonl: flowsOut },
  }));
  const agent = startTs(['agent/main.ts', '--config', agentConfig]);

  for (let round = 0; round < 2; round++) {
    const before = storedCount(dbPath);
    const deadline = Date.now() + 30000;
    while (storedCount(dbPath) <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.ok(storedCount(dbPath) > before, `round ${round}: flows arriving before the kill`);
    collector.proc.child.kill('SIGKILL');
    await collector.proc.exited;
    await new Promise((r) => setTimeout(r, 700));
    collector = await startCollector(dir, { port, dbPath, agentToken, subscriberToken });
  }

  const status = await agent.exited;
  t.equal(status, 0, `agent delivered everything: ${agent.stderr.slice(-3).join('\n')}`);
  await stop(collector.proc);

  const exported = readFileSync(flowsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const stopped = JSON.parse(agent.stderr.find((l) => l.includes('"event":"stopped"'))!);
  t.ok(stopped.transport.disconnects >= 2, `agent saw the collector go away (${stopped.transport.disconnects} times)`);

  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT flow_id, src_ip, dst_ip, src_port, dst_port, proto, fwd_packets, bwd_packets, fwd_ip_bytes, bwd_ip_bytes FROM flows').all() as Array<Record<string, number | string>>;
  db.close();
  t.ok(exported.length > 2000, `agent exported ${exported.length} flows`);
  t.equal(rows.length, exported.length, 'stored rows = exported flows');
  t.equal(new Set(rows.map((r) => r.flow_id)).size, rows.length, 'no flow stored twice');
  const key = (f: Record<string, unknown>): string =>
    [f.flow_id, f.src_ip, f.dst_ip, f.src_port, f.dst_port, f.proto, f.fwd_packets, f.bwd_packets, f.fwd_ip_bytes, f.bwd_ip_bytes].join('|');
  const storedKeys = new Set(rows.map(key));
  const missing = exported.filter((f) => !storedKeys.has(key(f)));
  t.equal(missing.length, 0, 'every exported flow is stored with the same contents');
});
