// Collector + agent as real processes on loopback: a port scan in a capture becomes exactly one
// alert, delivered to a WebSocket subscriber and stored in SQLite; backscatter raises nothing.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { LABELED, ROOT, startCollector, startTs, stop, tempDir, type CollectorHandle } from '../helpers/processes';

interface Alert { id: number; category: string; src_ip: string; dst_ip: string; [k: string]: unknown }

async function subscribe(c: CollectorHandle): Promise<{ alerts: Alert[]; close: () => void }> {
  const alerts: Alert[] = [];
  const ws = new WebSocket(`${c.url}/v1/alerts`, { headers: { Authorization: `Bearer ${c.subscriberToken}` } });
  ws.on('message', (data) => alerts.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { alerts, close: () => ws.close() };
}

async function replay(capture: string): Promise<{ alerts: Alert[]; dbAlerts: Alert[]; flows: number; agentOut: string[] }> {
  const dir = tempDir();
  const c = await startCollector(dir);
  try {
    const sub = await subscribe(c);
    const tokenFile = join(dir, 'agent.token');
    writeFileSync(tokenFile, c.agentToken);
    const agent = startTs(['agent/main.ts', '--read', capture, '--collector', c.url, '--agent-id', 'gw1', '--token-file', tokenFile]);
    const status = await agent.exited;
    if (status !== 0) throw new Error(`agent exited ${status}:\n${agent.stderr.join('\n')}`);
    // Alerts are published right after the batch is stored and acknowledged; give delivery a moment.
    await new Promise((r) => setTimeout(r, 500));
    sub.close();
    const db = new Database(c.dbPath, { readonly: true });
    const dbAlerts = db.prepare('SELECT * FROM alerts').all() as Alert[];
    const flows = (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    db.close();
    return { alerts: sub.alerts, dbAlerts, flows, agentOut: agent.stderr };
  } finally {
    await stop(c.proc);
  }
}

t.test('simplescan_port_scan.pcap: exactly one port-scan alert naming the scanner, delivered and stored', async (t) => {
  const r = await replay(join(LABELED, 'simplescan_port_scan.pcap'));
  t.equal(r.flows, 10, 'ten probe flows stored');
  t.equal(r.alerts.length, 1, 'one alert reached the subscriber');
  t.match(r.alerts[0], { category: 'port_scan', src_ip: '192.168.2.154', dst_ip: '192.168.2.22' });
  t.equal(r.dbAlerts.length, 1, 'one alert in SQLite');
  t.match(r.dbAlerts[0], { category: 'port_scan', src_ip: '192.168.2.154', dst_ip: '192.168.2.22' });
  t.equal(r.dbAlerts[0].id, r.alerts[0].id, 'the delivered alert is the stored one');
});

t.test('simplescan_backscatter_negative.pcap: SYN-ACK/RST backscatter raises no alert', async (t) => {
  const r = await replay(join(LABELED, 'simplescan_backscatter_negative.pcap'));
  t.ok(r.flows > 1000, `flows stored (${r.flows})`);
  t.equal(r.alerts.length, 0);
  t.equal(r.dbAlerts.length, 0);
});

t.test('the bundled demo capture: one alert for the scanner, none for the ordinary traffic', async (t) => {
  const r = await replay(join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap'));
  t.equal(r.alerts.length, 1);
  t.match(r.alerts[0], { category: 'port_scan', src_ip: '203.0.113.66', dst_ip: '192.0.2.10' });
  t.equal(r.dbAlerts.length, 1);
});
