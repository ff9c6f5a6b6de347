// Writes the capture the demo replays (scripts/demo/gateway-scan.pcap): a minute of ordinary
// traffic at a campus gateway — web and SSH sessions, DNS, NTP, a ping — with one host running a
// TCP SYN port scan of a server in the middle of it. Deterministic: the same bytes every run.
// Addresses are from the documentation ranges (RFC 5737), so nothing in it points at a real host.
//
//   npx tsx scripts/demo/make-capture.ts [OUT]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const START_US = Date.UTC(2026, 10, 2, 9, 0, 0) * 1000;

interface Frame {
  tsUs: number;
  bytes: Buffer;
}

const frames: Frame[] = [];
let seed = 12345;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}

function ip4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const MAC_GW = Buffer.from('02005e000001', 'hex');
const MAC_HOSTS = Buffer.from('02005e000002', 'hex');

function packet(tsUs: number, src: string, dst: string, proto: number, l4: Buffer, outbound: boolean): void {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(Math.floor(rand() * 65535), 4);
  ip[6] = 0x40; // DF
  ip[8] = 64;
  ip[9] = proto;
  ip4(src).copy(ip, 12);
  ip4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  if (proto === 6 || proto === 17) {
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, proto, l4.length >> 8, l4.length & 255]), l4]);
    l4.writeUInt16BE(checksum(pseudo) || (proto === 17 ? 0xffff : 0), proto === 6 ? 16 : 6);
  } else {
    l4.writeUInt16BE(checksum(l4), 2);
  }
  const eth = Buffer.concat([outbound ? MAC_GW : MAC_HOSTS, outbound ? MAC_HOSTS : MAC_GW, Buffer.from([0x08, 0x00])]);
  frames.push({ tsUs, bytes: Buffer.concat([eth, ip, l4]) });
}

const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload = 0, options = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20 + options.length + payload);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(64240, 14);
  options.copy(h, 20);
  for (let i = 20 + options.length; i < h.length; i++) h[i] = Math.floor(rand() * 256);
  return h;
}

const SYN_OPTIONS = Buffer.from('020405b40402080a000000000000000001030307', 'hex'); // MSS, SACK-perm, TS, NOP, WS

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8 + payload.length);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(h.length, 4);
  payload.copy(h, 8);
  return h;
}

/** A whole TCP session: handshake, request/response exchanges, FIN teardown. */
function session(t: number, c: string, s: string, sport: number, dport: number, exchanges: Array<[number, number]>): void {
  let cs = Math.floor(rand() * 2 ** 32), ss = Math.floor(rand() * 2 ** 32);
  const out = !s.startsWith('192.0.2.');
  packet(t, c, s, 6, tcp(sport, dport, cs, 0, SYN, 0, SYN_OPTIONS), out);
  packet(t += 900, s, c, 6, tcp(dport, sport, ss, cs + 1, SYN | ACK, 0, SYN_OPTIONS), !out);
  cs++; ss++;
  packet(t += 150, c, s, 6, tcp(sport, dport, cs, ss, ACK), out);
  for (const [up, down] of exchanges) {
    packet(t += 200, c, s, 6, tcp(sport, dport, cs, ss, PSH | ACK, up), out);
    cs += up;
    let left = down;
    while (left > 0) {
      const n = Math.min(1448, left);
      packet(t += 800, s, c, 6, tcp(dport, sport, ss, cs, left === n ? PSH | ACK : ACK, n), !out);
      ss += n;
      left -= n;
    }
    packet(t += 100, c, s, 6, tcp(sport, dport, cs, ss, ACK), out);
    t += Math.floor(rand() * 400_000);
  }
  packet(t += 1000, c, s, 6, tcp(sport, dport, cs, ss, FIN | ACK), out);
  packet(t += 900, s, c, 6, tcp(dport, sport, ss, cs + 1, FIN | ACK), !out);
  packet(t += 100, c, s, 6, tcp(sport, dport, cs + 1, ss + 1, ACK), out);
}

function dnsName(name: string): Buffer {
  return Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

function dns(t: number, client: string, resolver: string, sport: number, name: string, answer: string): void {
  const id = Math.floor(rand() * 65535);
  const q = Buffer.concat([Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), dnsName(name), Buffer.from([0, 1, 0, 1])]);
  const r = Buffer.concat([Buffer.from([id >> 8, id & 255, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), dnsName(name), Buffer.from([0, 1, 0, 1]),
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]), ip4(answer)]);
  packet(t, client, resolver, 17, udp(sport, 53, q), true);
  packet(t + 12_000, resolver, client, 17, udp(53, sport, r), false);
}

const S = 1_000_000;
const CLIENTS = ['192.0.2.21', '192.0.2.34', '192.0.2.57', '192.0.2.88'];
const RESOLVER = '198.51.100.53';
const WEB = ['198.51.100.80', '198.51.100.81', '198.51.100.44'];

// Ordinary traffic over 60 s.
for (let i = 0; i < 24; i++) {
  const c = CLIENTS[i % CLIENTS.length];
  const t = START_US + i * 2.5 * S + Math.floor(rand() * S);
  dns(t, c, RESOLVER, 30000 + i, `www${i % 5}.example.org`, WEB[i % WEB.length]);
  session(t + 20_000, c, WEB[i % WEB.length], 41000 + i, i % 3 === 0 ? 80 : 443,
    Array.from({ length: 1 + (i % 4) }, () => [300 + Math.floor(rand() * 400), 2000 + Math.floor(rand() * 30000)] as [number, number]));
}
session(START_US + 5 * S, '192.0.2.34', '192.0.2.10', 51000, 22, Array.from({ length: 12 }, () => [52 + Math.floor(rand() * 100), 52 + Math.floor(rand() * 300)] as [number, number]));
for (let i = 0; i < 4; i++) {
  const t = START_US + (10 + i) * S;
  packet(t, '192.0.2.88', '198.51.100.7', 1, Buffer.concat([Buffer.from([8, 0, 0, 0, 0x12, 0x34, 0, i]), Buffer.alloc(56, 0x61)]), true);
  packet(t + 9_000, '198.51.100.7', '192.0.2.88', 1, Buffer.concat([Buffer.from([0, 0, 0, 0, 0x12, 0x34, 0, i]), Buffer.alloc(56, 0x61)]), false);
}
for (let i = 0; i < 3; i++) {
  const t = START_US + (2 + i * 20) * S;
  const ntp = Buffer.alloc(48);
  ntp[0] = 0x23;
  packet(t, '192.0.2.10', '198.51.100.123', 17, udp(123, 123, ntp), true);
  ntp[0] = 0x24;
  packet(t + 30_000, '198.51.100.123', '192.0.2.10', 17, udp(123, 123, ntp), false);
}

// The attack: 203.0.113.66 probes 40 ports of the campus server 192.0.2.10 with bare SYNs.
// Closed ports answer RST-ACK; 22 and 80 are open, answer SYN-ACK, and the scanner resets.
const SCANNER = '203.0.113.66';
const TARGET = '192.0.2.10';
const PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1723, 3306, 3389, 5432,
  5900, 6379, 8080, 8443, 9200, 11211, 27017, 161, 389, 636, 873, 2049, 2375, 5000, 5601, 6443, 7001, 8000, 8888, 9090];
PORTS.forEach((port, i) => {
  const t = START_US + 30 * S + i * 25_000;
  const seq = Math.floor(rand() * 2 ** 32);
  const sport = 61000 + i;
  packet(t, SCANNER, TARGET, 6, tcp(sport, port, seq, 0, SYN, 0, Buffer.from('020405b4', 'hex')), false);
  if (port === 22 || port === 80) {
    packet(t + 300, TARGET, SCANNER, 6, tcp(port, sport, Math.floor(rand() * 2 ** 32), seq + 1, SYN | ACK, 0, Buffer.from('020405b4', 'hex')), true);
    packet(t + 600, SCANNER, TARGET, 6, tcp(sport, port, seq + 1, 0, RST), false);
  } else {
    packet(t + 300, TARGET, SCANNER, 6, tcp(port, sport, 0, seq + 1, RST | ACK), true);
  }
});

frames.sort((a, b) => a.tsUs - b.tsUs);
const header = Buffer.alloc(24);
header.writeUInt32LE(0xa1b2c3d4, 0);
header.writeUInt16LE(2, 4);
header.writeUInt16LE(4, 6);
header.writeUInt32LE(262144, 16);
header.writeUInt32LE(1, 20); // Ethernet
const records = frames.map(({ tsUs, bytes }) => {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Math.floor(tsUs / S), 0);
  h.writeUInt32LE(tsUs % S, 4);
  h.writeUInt32LE(bytes.length, 8);
  h.writeUInt32LE(bytes.length, 12);
  return Buffer.concat([h, bytes]);
});
const out = process.argv[2] ?? join(__dirname, 'gateway-scan.pcap');
writeFileSync(out, Buffer.concat([header, ...records]));
process.stdout.write(`wrote ${out}: ${frames.length} packets\n`);
