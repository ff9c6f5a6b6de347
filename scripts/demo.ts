// The demo: a collector (SQLite in ./demo-data) with its dashboard, an alert subscriber and an agent,
// all on loopback. The agent replays scripts/demo/gateway-scan.pcap — a minute of gateway traffic with a
// port scan in it — the collector stores the flows and raises the alert, the subscriber prints it, and
// the dashboard shows them. On a terminal the collector then keeps serving the dashboard until Ctrl-C;
// otherwise (scripts, CI) the demo ends there.
//
//   npm run demo            (after: bash scripts/setup.sh)
//   npm run demo -- --exit  (end after the check even on a terminal)
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';

const ROOT = resolve(__dirname, '..');
const DATA = join(ROOT, 'demo-data');
const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function start(name: string, args: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    // Logs are JSON lines; show warnings and errors, keep the demo's screen readable.
    if (/"level":"(warn|error)"/.test(line) || !line.startsWith('{')) process.stderr.write(`  [${name}] ${line}\n`);
  });
  return child;
}

function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code ?? 1)));
}

async function main(): Promise<number> {
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  const agentToken = randomBytes(24).toString('hex');
  const socToken = randomBytes(24).toString('hex');
  const operatorToken = randomBytes(24).toString('hex');
  writeFileSync(join(DATA, 'agent.token'), `${agentToken}\n`, { mode: 0o600 });
  writeFileSync(join(DATA, 'collector.json'), JSON.stringify({
    listen: { host: '127.0.0.1', port: 0 },
    store: { sqlite_path: 'goalkeeper.sqlite' },
    auth: {
      agents: [{ agent_id: 'demo-gateway', token_sha256: sha256(agentToken) }],
      subscribers: [{ name: 'demo-soc', token_sha256: sha256(socToken) }],
      operators: [{ name: 'demo-operator', token_sha256: sha256(operatorToken) }],
    },
  }, null, 2));

  console.log('goalkeeper demo: collector + dashboard + agent + alert subscriber on 127.0.0.1');
  let port = 0;
  const collector = start('collector', ['collector/main.ts', 'serve', '--config', join(DATA, 'collector.json')], (line) => {
    try {
      const msg = JSON.parse(line);
      if (msg.event === 'listening') port = msg.port;
    } catch {
      // not ours
    }
  });
  const children: ChildProcess[] = [collector];
  const cleanup = (): void => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const deadline = Date.now() + 30000;
    while (port === 0) {
      if (collector.exitCode !== null) throw new Error(`collector exited with status ${collector.exitCode}`);
      if (Date.now() > deadline) throw new Error('collector did not start listening within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`  collector listening on ws://127.0.0.1:${port} (SQLite: demo-data/goalkeeper.sqlite)`);

    const alerts: Array<Record<string, unknown>> = [];
    const subscriber = start('subscriber', ['collector/main.ts', 'alerts', '--url', `ws://127.0.0.1:${port}`, '--token', socToken], (line) => {
      try {
        alerts.push(JSON.parse(line));
        console.log(`  subscriber received alert: ${line}`);
      } catch {
        // not an alert line
      }
    });
    children.push(subscriber);
    await new Promise((r) => setTimeout(r, 1000)); // let the subscriber connect before the replay

    console.log(`  agent replaying ${CAPTURE.slice(ROOT.length + 1)}`);
    const agent = start('agent', ['agent/main.ts', '--read', CAPTURE, '--collector', `ws://127.0.0.1:${port}`,
      '--agent-id', 'demo-gateway', '--token-file', join(DATA, 'agent.token')], () => {});
    children.push(agent);
    const agentStatus = await exited(agent);
    if (agentStatus !== 0) throw new Error(`agent exited with status ${agentStatus}`);

    const until = Date.now() + 10000;
    while (alerts.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));

    const db = new Database(join(DATA, 'goalkeeper.sqlite'), { readonly: true, fileMustExist: true });
    const flows = (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    const stored = db.prepare('SELECT id, category, severity, src_ip, dst_ip, score FROM alerts ORDER BY id').all() as Array<Record<string, unknown>>;
    db.close();
    console.log(`  stored in SQLite: ${flows} flows, ${stored.length} alert(s)`);
    for (const a of stored) console.log(`    alert #${a.id}: ${a.category} (${a.severity}) from ${a.src_ip} against ${a.dst_ip}, ${a.score} ports`);
    if (alerts.length === 0 || stored.length === 0) {
      console.log('demo FAILED: no port-scan alert arrived');
      return 1;
    }
    // The dashboard's API sees the same: the agent and the alert.
    const api = async (what: string): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/${what}`, { headers: { authorization: `Bearer ${operatorToken}` } });
      if (!res.ok) throw new Error(`dashboard /api/${what} answered ${res.status}`);
      return res.json();
    };
    const shown = JSON.stringify([await api('agents'), await api('alerts')]);
    if (!shown.includes('demo-gateway') || !shown.includes('port_scan')) {
      console.log('demo FAILED: the dashboard does not show the agent and the alert');
      return 1;
    }
    console.log(`  dashboard: http://127.0.0.1:${port}/  (log in with the operator token ${operatorToken})`);
    console.log('demo done: the port scan was detected, stored, delivered and shown on the dashboard.');
    if (process.stdout.isTTY && !process.argv.includes('--exit')) {
      console.log('  the collector keeps serving the dashboard; Ctrl-C to stop.');
      await exited(collector);
    }
    return 0;
  } finally {
    cleanup();
    await Promise.all(children.map(exited));
  }
}

main().then((status) => { process.exitCode = status; }, (err) => {
  console.error(`demo failed: ${err.message}`);
  process.exitCode = 1;
});
