// `npm run -s replay -- FILE...` as a real process: one JSON line per alert on stdout with the
// contract's fields, the same output on every run, coded exits on bad input.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(ROOT, '..', 'shared', 'pcaps', 'labeled');
const CATEGORIES = ['port_scan', 'host_scan', 'syn_flood', 'udp_flood', 'icmp_flood', 'brute_force', 'slow_dos', 'beaconing', 'exfiltration', 'dns_tunnel', 'threat_intel', 'anomaly'];

function replay(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'replay.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('alerts of several captures, one JSON line each, with the contract fields', async (t) => {
  const files = ['suricata_syn-flood.pcap', 'simplescan_port_scan.pcap', 'dnstun_dnscat2.pcap', 'zeek_benign_http_bro.org.pcap'].map((f) => path.join(FIX, f));
  const r = replay(...files);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const alerts = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(alerts.map((a) => [a.agent_id, a.category]), [
    ['suricata_syn-flood.pcap', 'syn_flood'], ['simplescan_port_scan.pcap', 'port_scan'], ['dnstun_dnscat2.pcap', 'dns_tunnel'],
  ], 'the benign capture adds nothing');
  for (const a of alerts) {
    for (const k of ['id', 'category', 'severity', 'attack_id', 'agent_id', 'src_ip', 'dst_ip', 'dst_port', 'first_ts', 'last_ts', 'score', 'threshold', 'evidence']) {
      t.ok(k in a, `${a.category} has ${k}`);
    }
    t.ok(CATEGORIES.includes(a.category as string));
    t.ok(Array.isArray((a.evidence as { flows: unknown[] }).flows));
  }
  t.match(alerts[0], { src_ip: '192.0.2.10', dst_ip: '198.51.100.5', dst_port: 443, severity: 'high', attack_id: 'T1499.001' });
  t.equal(replay(...files).stdout, r.stdout, 'stable: the same bytes on a second run');
});

t.test('--config takes the detect section: a detector switched off raises nothing', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gk-replay-${process.pid}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'c.json');
  fs.writeFileSync(cfg, JSON.stringify({ detect: { syn_flood: { enabled: false } } }));
  const r = replay('--config', cfg, path.join(FIX, 'suricata_syn-flood.pcap'));
  t.equal(r.code, 0);
  t.equal(r.stdout, '');
  fs.writeFileSync(cfg, JSON.stringify({ detect: { syn_flod: {} } }));
  const bad = replay('--config', cfg, path.join(FIX, 'suricata_syn-flood.pcap'));
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown key \\?"detect\.syn_flod/);
});

t.test('bad usage exits 2, an unreadable capture exits 1 with its path', async (t) => {
  t.equal(replay().code, 2);
  t.equal(replay('--nope', 'x').code, 2);
  const r = replay('/nonexistent/x.pcap');
  t.equal(r.code, 1);
  t.match(r.stderr, /\/nonexistent\/x\.pcap/);
});
