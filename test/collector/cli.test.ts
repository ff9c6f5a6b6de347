// The command line as operators and the end-to-end tests use it: real child processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import t from 'tap';
import { AckStatus } from '../../proto';
import { TOKENS, TestAgent, batchFrame, rawConfig, scanFlows, tempDir } from './helpers';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'collector/main.ts');
const NODE_ARGS = ['--import', 'tsx', MAIN];

interface Proc {
  child: ChildProcess;
  /** resolves with the next stdout line (parsed) */
  nextLine(timeoutMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    stderr: () => err,
    exit,
    nextLine: (timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const l = lines.shift();
        if (l !== undefined) return resolve(JSON.parse(l));
        const timer = setTimeout(() => reject(new Error(`no stdout line; stderr: ${err}`)), timeoutMs);
        waiters.push((line) => {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        });
      }),
  };
}

function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'collector.json');
  fs.writeFileSync(file, JSON.stringify(rawConfig('gk.sqlite', { listen: { host: '127.0.0.1', port: 7470 }, ...extra })));
  return file;
}

t.test('serve: listening line, alert lines, alerts follower, SIGTERM → exit 0', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir);
  const db = path.join(dir, 'cli.sqlite');
  const serve = run(['serve', '--config', cfg, '--listen', '127.0.0.1:0', '--db', db]);
  t.teardown(() => void serve.child.kill('SIGKILL'));
  const listening = await serve.nextLine();
  t.same(Object.keys(listening), ['event', 'host', 'port', 'tls']);
  t.equal(listening.event, 'listening');
  t.equal(listening.host, '127.0.0.1');
  const port = listening.port as number;
  t.ok(port > 0 && port !== 7470, '--listen overrides the file; port 0 is ephemeral');

  const follower = run(['alerts', '--url', `ws://127.0.0.1:${port}`, '--token', TOKENS.soc, '--since', '0']);
  t.teardown(() => void follower.child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 1500)); // let it subscribe

  const a = await TestAgent.ready(port, 'gw1');
  a.send(batchFrame(1, scanFlows(5, { src: '192.0.2.7', dst: '198.51.100.1' })));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  const line = await serve.nextLine();
  t.equal(line.event, 'alert');
  t.match(line.alert, { id: 1, category: 'port_scan', src_ip: '192.0.2.7', dst_ip: '198.51.100.1', score: 5 });
  const followed = await follower.nextLine();
  t.same(followed, line.alert, 'the follower prints the same alert object');
  a.close();
  t.ok(fs.existsSync(db), '--db overrides the file');

  serve.child.kill('SIGTERM');
  const { code } = await serve.exit;
  t.equal(code, 0, 'SIGTERM → exit 0');
  t.match(serve.stderr(), /"msg":"shutting down"/);
  for (const l of serve.stderr().trim().split('\n').filter((x) => x.startsWith('{'))) JSON.parse(l); // logs are JSON lines

  // The follower reconnects (with backoff) when the collector comes back on the same port, and
  // resumes after the last alert it printed.
  const again = run(['serve', '--config', cfg, '--listen', `127.0.0.1:${port}`, '--db', db]);
  t.teardown(() => void again.child.kill('SIGKILL'));
  t.equal((await again.nextLine()).port, port);
  const b = await TestAgent.ready(port, 'gw2');
  b.send(batchFrame(1, scanFlows(5, { src: '192.0.2.8', dst: '198.51.100.1' })));
  t.equal((await b.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  const next = await follower.nextLine(20_000);
  t.match(next, { id: 2, src_ip: '192.0.2.8', agent_id: 'gw2' }, 'no repeat of alert 1, alert 2 arrives');
  b.close();
  follower.child.kill('SIGTERM');
  t.equal((await follower.exit).code, 0);
  again.child.kill('SIGINT');
  t.equal((await again.exit).code, 0, 'SIGINT → exit 0');
});

t.test('bad config → exit 2 with a message naming the problem, no stack trace', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown key', { listen: { host: '127.0.0.1', port: 0, hots: 1 } }, /unknown key \\"listen\.hots\\"/],
    ['bad port', { listen: { host: '127.0.0.1', port: 65536 } }, /listen\.port must be an integer from 0 to 65535/],
  ];
  for (const [name, extra, re] of cases) {
    const file = writeConfig(dir, extra);
    const r = spawnSync(process.execPath, [...NODE_ARGS, 'serve', '--config', file], { cwd: ROOT, encoding: 'utf8' });
    t.equal(r.status, 2, `${name}: exit 2`);
    t.match(r.stderr, re, `${name}: names the key`);
    t.match(r.stderr, /COLL_ERR_CONFIG_INVALID/);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
  const missing = spawnSync(process.execPath, [...NODE_ARGS, 'serve', '--config', path.join(dir, 'nope.json')], { cwd: ROOT, encoding: 'utf8' });
  t.equal(missing.status, 2);
  t.match(missing.stderr, /cannot read config file/);
});

t.test('--help, hash-token, usage errors', async (t) => {
  const help = spawnSync(process.execPath, [...NODE_ARGS, '--help'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /serve --config FILE/);
  t.match(help.stdout, /alerts --url/);
  const h = spawnSync(process.execPath, [...NODE_ARGS, 'hash-token', 'secret'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(h.status, 0);
  t.equal(h.stdout, `${createHash('sha256').update('secret').digest('hex')}\n`);
  const bad = spawnSync(process.execPath, [...NODE_ARGS, 'serve', '--confg', 'x'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /unknown option --confg/);
  const none = spawnSync(process.execPath, [...NODE_ARGS], { cwd: ROOT, encoding: 'utf8' });
  t.equal(none.status, 2);
});

t.test('alerts with a wrong token stops with an error instead of retrying forever', async (t) => {
  const dir = tempDir(t);
  const serve = run(['serve', '--config', writeConfig(dir), '--listen', '127.0.0.1:0']);
  t.teardown(() => void serve.child.kill('SIGKILL'));
  const { port } = (await serve.nextLine()) as { port: number };
  const r = spawnSync(process.execPath, [...NODE_ARGS, 'alerts', '--url', `ws://127.0.0.1:${port}`, '--token', 'wrong'], {
    cwd: ROOT, encoding: 'utf8', timeout: 15_000,
  });
  t.equal(r.status, 1);
  t.match(r.stderr, /COLL_ERR_SUBSCRIBER_REJECTED/);
  serve.child.kill('SIGTERM');
  t.equal((await serve.exit).code, 0);
});
