// The agent's command line as a user meets it: real processes, exit statuses and coded messages.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { ROOT, startTs, tempDir } from '../helpers/processes';
import { CIC_COLUMNS } from '../../agent/export/cic-csv';

const DEMO = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');

function errorLine(lines: string[], code: string): Record<string, string> | undefined {
  const line = lines.find((l) => l.includes(code));
  return line ? JSON.parse(line) : undefined;
}

t.test('--help and --version', async (t) => {
  const help = startTs(['agent/main.ts', '--help']);
  t.equal(await help.exited, 0);
  t.match(help.stdout.join('\n'), /--read FILE/);
  const version = startTs(['agent/main.ts', '--version']);
  t.equal(await version.exited, 0);
  t.match(version.stdout[0], /^\d+\.\d+\.\d+$/);
});

t.test('bad configuration: exit 2 with a coded message naming the problem', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--read', DEMO, '--jsonl', '-', '--bogus'], /bogus/],
    [['--jsonl', '-'], /nothing to capture/],
    [['--read', DEMO], /nowhere to send flows/],
    [['--read', DEMO, '--jsonl', '-', '--idle-timeout', 'soon'], /--idle-timeout needs a number/],
    [['--read', DEMO, '--collector', 'http://x', '--agent-id', 'a', '--token', 't'], /must start with ws:\/\/ or wss:\/\//],
    [['--read', DEMO, '--collector', 'ws://127.0.0.1:1', '--token', 't'], /agent id is needed/],
  ];
  for (const [args, why] of cases) {
    const p = startTs(['agent/main.ts', ...args]);
    t.equal(await p.exited, 2, args.join(' '));
    const e = errorLine(p.stderr, 'AGENT_ERR_CONFIG_INVALID');
    t.ok(e, `coded error for ${args.join(' ')}`);
    t.match(e?.message, why);
  }
  const dir = tempDir();
  const cfg = join(dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ flow: { idle_timeout_sec: 5 } }));
  const p = startTs(['agent/main.ts', '--config', cfg, '--read', DEMO, '--jsonl', '-']);
  t.equal(await p.exited, 2);
  t.match(errorLine(p.stderr, 'AGENT_ERR_CONFIG_INVALID')?.message, /unknown option "flow.idle_timeout_sec"/);
});

t.test('an unreadable capture file: exit 3, the path and the reason', async (t) => {
  const p = startTs(['agent/main.ts', '--read', '/nonexistent/capture.pcap', '--jsonl', '-']);
  t.equal(await p.exited, 3);
  t.match(errorLine(p.stderr, 'AGENT_ERR_FILE_UNREADABLE')?.message, /\/nonexistent\/capture\.pcap/);
  const notPcap = startTs(['agent/main.ts', '--read', join(ROOT, 'README.md'), '--jsonl', '-']);
  t.equal(await notPcap.exited, 3);
  t.ok(errorLine(notPcap.stderr, 'AGENT_ERR_FILE_FORMAT'));
});

t.test('a collector that cannot be reached: retried, then exit 3 with the reason once the drain time is up', async (t) => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const dir = tempDir();
  const cfg = join(dir, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ collector: { drain_timeout_ms: 1500, backoff_initial_ms: 100, backoff_max_ms: 200 } }));
  const p = startTs(['agent/main.ts', '--config', cfg, '--read', DEMO, '--collector', `ws://127.0.0.1:${port}`,
    '--agent-id', 'gw1', '--token', 'x']);
  t.equal(await p.exited, 3);
  t.match(errorLine(p.stderr, 'collector_trouble')?.message, /ECONNREFUSED/);
  t.match(errorLine(p.stderr, '"undelivered"')?.message, /not acknowledged/);
});

t.test('offline flow meter: JSON lines to stdout and CICFlowMeter CSV to a file', async (t) => {
  const dir = tempDir();
  const csv = join(dir, 'flows.csv');
  const p = startTs(['agent/main.ts', '--read', DEMO, '--jsonl', '-', '--csv', csv]);
  t.equal(await p.exited, 0);
  const flows = p.stdout.map((l) => JSON.parse(l));
  t.equal(flows.length, 91);
  t.ok(flows.every((f) => typeof f.src_ip === 'string' && typeof f.first_ts === 'number' && f.end_reason && f.community_id.startsWith('1:')));
  const rows = readFileSync(csv, 'utf8').trim().split('\n');
  t.equal(rows[0], CIC_COLUMNS.join(','));
  t.equal(rows.length, 92);
  t.ok(rows.slice(1).every((r) => r.split(',').length === CIC_COLUMNS.length));
});
