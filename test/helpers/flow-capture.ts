// Writes a pcap of many short flows, fast: flow i is one UDP packet from 10.a.b.c (a.b.c = i) to
// 172.16.0.1:53, `gapUs` after the previous one. Every 5-tuple is distinct, so the agent exports
// exactly one record per packet once the flow idles out. 100,000 flows are about 6.6 MB.
import { writeFileSync } from 'node:fs';

const FRAME_BYTES = 14 + 20 + 8 + 8;

function ipChecksum(b: Buffer, at: number): number {
  let sum = 0;
  for (let i = at; i < at + 20; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function writeFlowCapture(path: string, flows: number, opts: { startSec?: number; gapUs?: number; netByte?: number } = {}): void {
  const startUs = (opts.startSec ?? 1_710_234_000) * 1e6;
  const gapUs = opts.gapUs ?? 1000;
  const buf = Buffer.alloc(24 + flows * (16 + FRAME_BYTES));
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(65535, 16);
  buf.writeUInt32LE(1, 20); // Ethernet
  let at = 24;
  for (let i = 0; i < flows; i++) {
    const ts = startUs + i * gapUs;
    buf.writeUInt32LE(Math.floor(ts / 1e6), at);
    buf.writeUInt32LE(ts % 1e6, at + 4);
    buf.writeUInt32LE(FRAME_BYTES, at + 8);
    buf.writeUInt32LE(FRAME_BYTES, at + 12);
    const f = at + 16;
    buf.writeUIntBE(0x02_00_00_00_00_01, f, 6);
    buf.writeUIntBE(0x02_00_00_00_00_02, f + 6, 6);
    buf.writeUInt16BE(0x0800, f + 12);
    const ip = f + 14;
    buf[ip] = 0x45;
    buf.writeUInt16BE(20 + 8 + 8, ip + 2);
    buf[ip + 8] = 64;
    buf[ip + 9] = 17;
    buf[ip + 12] = opts.netByte ?? 10;
    buf[ip + 13] = (i >>> 16) & 255;
    buf[ip + 14] = (i >>> 8) & 255;
    buf[ip + 15] = i & 255;
    buf.writeUInt32BE(0xac100001, ip + 16);
    buf.writeUInt16BE(ipChecksum(buf, ip), ip + 10);
    const udp = ip + 20;
    buf.writeUInt16BE(1024 + (i % 60000), udp);
    buf.writeUInt16BE(53, udp + 2);
    buf.writeUInt16BE(16, udp + 4);
    at += 16 + FRAME_BYTES;
  }
  writeFileSync(path, buf);
}
