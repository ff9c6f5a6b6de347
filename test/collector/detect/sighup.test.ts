// The real collector process reloads its threat-intel sources on SIGHUP, without a restart.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import t from 'tap';
import { AckStatus } from '../../../proto';
import { TestAgent, batchFrame, flow, rawConfig } from '../helpers';

const ROOT = path.resolve(__dirname, '../../..');

t.test('SIGHUP: an address added to the list file alerts from then on', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gk-sighup-${process.pid}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const list = path.join(dir, 'bad.txt');
  fs.writeFileSync(list, '203.0.113.1\n');
  const cfg = path.join(dir, 'collector.json');
  fs.writeFileSync(cfg, JSON.stringify(rawConfig('gk.sqlite', {
    listen: { host: '127.0.0.1', port: 0 },
    detect: { threat_intel: { reload_secs: 3600, sources: [{ path: 'bad.txt' }] } },
  })));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector/main.ts'), 'serve', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines: Array<Record<string, unknown>> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => void lines.push(JSON.parse(l)));
  const waitFor = async (ok: () => boolean, what: string): Promise<void> => {
    const until = Date.now() + 20_000;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(() => lines.some((l) => l.event === 'listening'), 'listening');
  const port = lines.find((l) => l.event === 'listening')!.port as number;
  const agent = await TestAgent.ready(port, 'gw1');
  t.teardown(() => agent.close());

  agent.send(batchFrame(1, [flow({ src: '10.0.0.5', dst: '192.0.2.66' })]));
  t.equal((await agent.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  fs.writeFileSync(list, '203.0.113.1\n192.0.2.66\n');
  const loadsBefore = stderr.split('threat-intel indicators loaded').length;
  child.kill('SIGHUP');
  await waitFor(() => stderr.split('threat-intel indicators loaded').length > loadsBefore, 'the reload');
  agent.send(batchFrame(2, [flow({ src: '10.0.0.5', dst: '192.0.2.66', srcPort: 40001 })]));
  t.equal((await agent.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  await waitFor(() => lines.some((l) => l.event === 'alert'), 'the alert');
  const alerts = lines.filter((l) => l.event === 'alert').map((l) => l.alert as Record<string, unknown>);
  t.equal(alerts.length, 1, 'only the flow after the reload matched');
  t.match(alerts[0], { category: 'threat_intel', src_ip: '10.0.0.5', dst_ip: '192.0.2.66', evidence: { indicator: '192.0.2.66', intel_source: 'bad.txt' } });
  t.equal(child.exitCode, null, 'still the same process');
});
