// Live capture through libpcap for real: two network namespaces joined by a veth pair; the agent
// captures in one of them while known traffic crosses the link, and its flows must match what was
// sent exactly (packets and IP bytes per direction). Needs root (CI runs as root).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, sh } from '../helpers/netns';
import { startTs, stop, tempDir } from '../helpers/processes';

const id = `${process.pid % 100000}`;
const NS_A = `gka${id}`;
const NS_B = `gkb${id}`;
const IF_A = `gva${id}`;
const IF_B = `gvb${id}`;
// Documentation addresses, inside namespaces this test creates and removes.
const ADDR_A = '192.0.2.1';
const ADDR_B = '192.0.2.2';

function setUp(): void {
  sh('ip', 'netns', 'add', NS_A);
  sh('ip', 'netns', 'add', NS_B);
  sh('ip', 'link', 'add', IF_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', IF_B, 'netns', NS_B);
  for (const [ns, ifc, addr] of [[NS_A, IF_A, ADDR_A], [NS_B, IF_B, ADDR_B]]) {
    // No IPv6 on the link: router solicitations and MLD reports would add flows we did not send.
    inNs(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
    inNs(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1');
    inNs(ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', ifc);
    inNs(ns, 'ip', 'link', 'set', ifc, 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  // Pre-resolve ARP both ways so ARP traffic is over before the capture's flows are counted.
  inNs(NS_B, 'ping', '-c', '1', '-W', '2', ADDR_A);
}

function tearDown(): void {
  for (const ns of [NS_A, NS_B]) {
    try { sh('ip', 'netns', 'del', ns); } catch { /* already gone */ }
  }
}

// Programs run inside the namespaces (plain Node, no TypeScript needed).
const SERVER = `
const dgram = require('dgram'), net = require('net');
const u = dgram.createSocket('udp4');
u.on('message', (msg, r) => u.send(Buffer.alloc(50), r.port, r.address));
u.bind(9999, '${ADDR_A}');
const s = net.createServer((c) => {
  let got = 0;
  c.on('data', (d) => { got += d.length; if (got === 5000) c.end(Buffer.alloc(20000, 7)); });
});
s.listen(8080, '${ADDR_A}', () => console.log('ready'));
`;

const CLIENT = `
const dgram = require('dgram'), net = require('net');
const sizes = [10, 100, 200, 300, 1000];
const u = dgram.createSocket('udp4');
u.bind(40000, '${ADDR_B}', async () => {
  let replies = 0;
  u.on('message', () => { replies++; });
  for (const n of sizes) { u.send(Buffer.alloc(n, 1), 9999, '${ADDR_A}'); await new Promise((r) => setTimeout(r, 20)); }
  // Outside the BPF filter the agent is given: must not show up at all.
  u.send(Buffer.alloc(33), 7777, '${ADDR_A}');
  while (replies < sizes.length) await new Promise((r) => setTimeout(r, 10));
  const c = net.connect({ host: '${ADDR_A}', port: 8080, localAddress: '${ADDR_B}', localPort: 40001 }, () => c.write(Buffer.alloc(5000, 3)));
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.on('end', () => { c.end(); u.close(); console.log('done ' + got); });
});
`;

t.test('flows captured live on a veth match the traffic sent, packet for packet', async (t) => {
  if (process.getuid && process.getuid() !== 0) throw new Error('the live-capture test needs root (network namespaces); run the suite as root');
  tearDown();
  setUp();
  t.teardown(tearDown);
  const dir = tempDir();
  const out = join(dir, 'flows.jsonl');

  const agent = startTs(['agent/main.ts', '--interface', IF_A, '--filter', 'ip and not udp port 7777', '--snaplen', '128',
    '--jsonl', out], { prefix: ['ip', 'netns', 'exec', NS_A] });
  await agent.waitFor(/"event":"capturing"/);

  const server = spawn('ip', ['netns', 'exec', NS_A, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => server.kill('SIGKILL'));
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));

  const client = inNs(NS_B, process.execPath, '-e', CLIENT);
  t.match(client, /done 20000/, 'the client got the whole TCP response');
  inNs(NS_B, 'ping', '-c', '3', '-i', '0.2', '-s', '100', ADDR_A);

  await new Promise((r) => setTimeout(r, 500)); // let libpcap's buffer timeout deliver the last frames
  t.equal(await stop(agent), 0, agent.stderr.join('\n'));
  const flows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  const udp = flows.filter((f) => f.proto === 17 && f.dst_port === 9999);
  t.equal(udp.length, 1, 'one UDP flow');
  t.match(udp[0], {
    src_ip: ADDR_B, src_port: 40000, dst_ip: ADDR_A,
    fwd_packets: 5, bwd_packets: 5,
    fwd_ip_bytes: [10, 100, 200, 300, 1000].reduce((a, n) => a + 28 + n, 0),
    bwd_ip_bytes: 5 * (28 + 50),
    fwd_payload_bytes: 1610, bwd_payload_bytes: 250,
    fwd_len_min: 38, fwd_len_max: 1028,
  });

  t.equal(flows.filter((f) => f.dst_port === 7777 || f.src_port === 7777).length, 0, 'the BPF filter kept port 7777 out');

  const tcp = flows.filter((f) => f.proto === 6);
  t.equal(tcp.length, 1, 'one TCP flow');
  t.match(tcp[0], { src_ip: ADDR_B, src_port: 40001, dst_ip: ADDR_A, dst_port: 8080, fwd_payload_bytes: 5000, bwd_payload_bytes: 20000,
    fwd_syn_count: 1, bwd_syn_count: 1, end_reason: 'end_of_flow' });
  t.ok(tcp[0].fwd_fin_count >= 1 && tcp[0].bwd_fin_count >= 1, 'FIN both ways');
  // With snaplen 128 every TCP segment was cut short, yet lengths come from the IP header.
  t.ok(tcp[0].bwd_ip_bytes >= 20000 + 40 * 3, 'byte counts use IP lengths, not captured lengths');

  const icmp = flows.filter((f) => f.proto === 1 && f.src_ip === ADDR_B);
  const echo = icmp.find((f) => f.fwd_packets === 3);
  t.ok(echo, `the 3-packet ping is one flow: ${JSON.stringify(flows.map((f) => [f.proto, f.src_ip, f.dst_ip, f.dst_port, f.fwd_packets, f.bwd_packets]))}`);
  t.match(echo, { dst_ip: ADDR_A, bwd_packets: 3, fwd_ip_bytes: 3 * 128, bwd_ip_bytes: 3 * 128 });
});

t.test('a capture on an interface that does not exist fails clearly', async (t) => {
  const agent = startTs(['agent/main.ts', '--interface', 'gk-no-such0', '--jsonl', '-']);
  t.equal(await agent.exited, 3);
  const line = agent.stderr.find((l) => l.includes('AGENT_ERR_INTERFACE'));
  t.ok(line, agent.stderr.join('\n'));
  t.match(line!, /gk-no-such0/);
});
