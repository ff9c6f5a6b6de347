// Agent health at the collector over real sockets: the latest heartbeat per agent is kept and its drop
// counters appear in /metrics; an agent that misses its heartbeats is flagged silent (log, metric, store)
// and cleared when it is heard again.
import t from 'tap';
import Database from 'better-sqlite3';
import { encodeAgentMessage } from '../../../proto';
import { TestAgent, fetchText, metricValue, startTestCollector } from '../helpers';

function heartbeat(intervalMs: number, flowsDropped: number): Uint8Array {
  return encodeAgentMessage({
    heartbeat: {
      sentUs: Date.now() * 1000, packetsReceived: 5000, packetsDropped: 7, packetsIfDropped: 2, flowsActive: 40,
      flowsDropped, batchesDropped: 3, spoolBytes: 123456, unackedBatches: 9, softwareVersion: '9.9.9', intervalMs,
    },
  });
}

t.test('latest health kept and exported; silent after missed heartbeats, cleared when heard again', async (t) => {
  const c = await startTestCollector(t, { extra: { health: { silent_after_missed_heartbeats: 2 } } });
  const a = await TestAgent.ready(c.port, 'gw1');
  t.teardown(() => a.close());
  a.send(heartbeat(200, 11));
  const metrics = async (): Promise<string> => (await fetchText(`http://127.0.0.1:${c.port}/metrics`)).body;
  let m = await metrics();
  for (let i = 0; i < 50 && metricValue(m, 'agent_flows_dropped{agent_id="gw1"}') !== 11; i++) {
    await new Promise((r) => setTimeout(r, 20));
    m = await metrics();
  }
  t.equal(metricValue(m, 'agent_flows_dropped{agent_id="gw1"}'), 11, 'drop counter visible at the collector');
  t.equal(metricValue(m, 'agent_packets_dropped{agent_id="gw1"}'), 7, 'kernel drops visible');
  t.equal(metricValue(m, 'agent_spool_bytes{agent_id="gw1"}'), 123456);
  t.equal(metricValue(m, 'agent_silent{agent_id="gw1"}'), 0);
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  const row = (): { health_json: string; software_version: string; silent_since_us: number | null } =>
    db.prepare('SELECT health_json, software_version, silent_since_us FROM agents WHERE agent_id = ?').get('gw1') as never;
  t.match(JSON.parse(row().health_json), { flows_dropped: 11, batches_dropped: 3, spool_bytes: 123456, interval_ms: 200 });
  t.equal(row().software_version, '9.9.9');

  // Silence: 2 intervals of 200 ms, checked every second.
  const wentSilent = Date.now();
  while (metricValue(await metrics(), 'agent_silent{agent_id="gw1"}') !== 1 && Date.now() - wentSilent < 5000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  m = await metrics();
  t.equal(metricValue(m, 'agent_silent{agent_id="gw1"}'), 1, `flagged silent after ${Date.now() - wentSilent} ms`);
  t.equal(metricValue(m, 'agents_silent'), 1);
  t.equal(metricValue(m, 'agents_went_silent_total'), 1);
  t.ok(row().silent_since_us! > 0, 'silent in the agents table');
  t.ok(c.logLines.some((l) => l.msg === 'agent silent' && l.agent_id === 'gw1'), 'logged');

  a.send(heartbeat(200, 12));
  const back = Date.now();
  while (metricValue(await metrics(), 'agent_silent{agent_id="gw1"}') !== 0 && Date.now() - back < 5000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(metricValue(await metrics(), 'agent_flows_dropped{agent_id="gw1"}'), 12);
  t.equal(row().silent_since_us, null, 'cleared in the store once heard again');
});
