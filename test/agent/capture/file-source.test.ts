// The pcap/pcapng file reader: both byte orders and precisions, pcapng sections/interfaces/blocks,
// chunk boundaries, truncation and corruption, coded errors, backpressure.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { type FileReadStats, type FileSourceOptions, readCaptureFile } from '../../../agent/capture/file-source';
import { AgentError, AgentErrorCode } from '../../../agent/errors';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');
const tmp = mkdtempSync(join(tmpdir(), 'gk-file-source-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

interface Frame { linkType: number; data: string; caplen: number; wirelen: number; tsSec: number; tsUsec: number }

async function readAll(path: string, opts?: FileSourceOptions): Promise<{ frames: Frame[]; stats: FileReadStats }> {
  const frames: Frame[] = [];
  const stats = await readCaptureFile(path, (linkType, buf, start, caplen, wirelen, tsSec, tsUsec) => {
    frames.push({ linkType, data: Buffer.from(buf.subarray(start, start + caplen)).toString('hex'), caplen, wirelen, tsSec, tsUsec });
  }, opts);
  return { frames, stats };
}

/** Reads `file` through a named pipe that another process writes (this one blocks in readSync until bytes arrive). */
async function readPiped(t: tap.Test, file: string, opts?: FileSourceOptions): Promise<{ frames: Frame[]; stats: FileReadStats }> {
  const fifo = join(tmp, 'pipe');
  rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, fifo], { stdio: 'ignore' });
  const written = new Promise((resolve) => writer.on('exit', resolve));
  const got = await readAll(fifo, opts);
  t.equal(await written, 0, 'the writer finished');
  return got;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

async function rejects(t: tap.Test, p: Promise<unknown>, code: string, parts: string[]): Promise<void> {
  try {
    await p;
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof AgentError, 'an AgentError');
    t.equal((err as AgentError).code, code);
    for (const part of parts) t.match((err as Error).message, part);
  }
}

// ---- builders for synthetic files -------------------------------------------------------------

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0);
  return b;
}
function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v);
  return b;
}
function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

interface PcapRecord { sec: number; frac: number; data: Buffer; wirelen?: number }

function pcapFile(le: boolean, magic: number, linkType: number, records: PcapRecord[], extraHeader = 0): Buffer {
  const parts = [u32(magic, le), u16(2, le), u16(4, le), u32(0, le), u32(0, le), u32(65535, le), u32(linkType, le)];
  for (const r of records) {
    parts.push(u32(r.sec, le), u32(r.frac, le), u32(r.data.length, le), u32(r.wirelen ?? r.data.length, le), Buffer.alloc(extraHeader), r.data);
  }
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer, le: boolean): Buffer {
  const b = pad4(body);
  return Buffer.concat([u32(type, le), u32(b.length + 12, le), b, u32(b.length + 12, le)]);
}
function option(code: number, value: Buffer, le: boolean): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), pad4(value)]);
}
function shb(le: boolean, major = 1): Buffer {
  return block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, le), u16(major, le), u16(0, le), Buffer.from('ffffffffffffffff', 'hex')]), le);
}
function idb(le: boolean, linkType: number, snaplen: number, tsresol?: number, tsoffset?: bigint): Buffer {
  const opts: Buffer[] = [];
  if (tsresol !== undefined) opts.push(option(9, Buffer.from([tsresol]), le));
  if (tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (le) v.writeBigInt64LE(tsoffset); else v.writeBigInt64BE(tsoffset);
    opts.push(option(14, v, le));
  }
  if (opts.length) opts.push(option(0, Buffer.alloc(0), le));
  return block(1, Buffer.concat([u16(linkType, le), u16(0, le), u32(snaplen, le), ...opts]), le);
}
function epb(le: boolean, ifId: number, ts: bigint, data: Buffer, wirelen = data.length): Buffer {
  return block(6, Buffer.concat([u32(ifId, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le),
    u32(data.length, le), u32(wirelen, le), data, option(1, Buffer.from('comment'), le)]), le);
}
function spb(le: boolean, data: Buffer, wirelen = data.length): Buffer {
  return block(3, Buffer.concat([u32(wirelen, le), data]), le);
}
function pb(le: boolean, ifId: number, ts: bigint, data: Buffer): Buffer {
  return block(2, Buffer.concat([u16(ifId, le), u16(0, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le),
    u32(data.length, le), u32(data.length, le), data]), le);
}

const PKT = (n: number, len = 60) => Buffer.alloc(len, n);

// ---- pcap --------------------------------------------------------------------------------------

t.test('pcap in both byte orders, µs and ns', async (t) => {
  const records = [
    { sec: 1700000000, frac: 123456, data: PKT(1), wirelen: 1514 },
    { sec: 1700000001, frac: 999999, data: PKT(2, 1) },
    { sec: 4294967295, frac: 0, data: PKT(3, 0) },
  ];
  for (const le of [true, false]) {
    const us = await readAll(write(`us-${le}.pcap`, pcapFile(le, 0xa1b2c3d4, 1, records)));
    t.same(us.frames.map((f) => [f.linkType, f.tsSec, f.tsUsec, f.caplen, f.wirelen, f.data.slice(0, 2)]),
      [[1, 1700000000, 123456, 60, 1514, '01'], [1, 1700000001, 999999, 1, 1, '02'], [1, 4294967295, 0, 0, 0, '']], `µs ${le ? 'LE' : 'BE'}`);
    t.same(us.stats, { file: join(tmp, `us-${le}.pcap`), format: 'pcap', frames: 3, bytes: 61, truncatedRecords: 0, skippedBlocks: 0, warnings: [] });

    const nsRecords = records.map((r) => ({ ...r, frac: r.frac * 1000 + 999 }));
    const ns = await readAll(write(`ns-${le}.pcap`, pcapFile(le, 0xa1b23c4d, 113, nsRecords)));
    t.same(ns.frames.map((f) => [f.linkType, f.tsSec, f.tsUsec]), [[113, 1700000000, 123456], [113, 1700000001, 999999], [113, 4294967295, 0]], `ns ${le ? 'LE' : 'BE'}`);
  }
});

t.test('pcap link type: the upper FCS bits are masked off', async (t) => {
  const { frames } = await readAll(write('fcs.pcap', pcapFile(true, 0xa1b2c3d4, 0x14000001, [{ sec: 1, frac: 2, data: PKT(1) }])));
  t.equal(frames[0].linkType, 1);
});

t.test('Kuznetzov modified pcap (0xa1b2cd34): 24-byte record headers', async (t) => {
  const { frames, stats } = await readAll(write('mod.pcap', pcapFile(true, 0xa1b2cd34, 101, [{ sec: 5, frac: 6, data: PKT(7, 40) }, { sec: 8, frac: 9, data: PKT(8, 20) }], 8)));
  t.same(frames.map((f) => [f.tsSec, f.tsUsec, f.caplen, f.data.slice(0, 2)]), [[5, 6, 40, '07'], [8, 9, 20, '08']]);
  t.equal(stats.format, 'pcap');
  const fritz = await readAll(join(DEV, 'fpcap__fritzbox-ip.pcap'));
  t.equal(fritz.frames.length, 5);
  t.ok(fritz.frames.every((f) => f.linkType === 101 && (f.data.startsWith('4') || f.data.startsWith('6'))), 'raw IP frames');
});

t.test('real pcap files: BE ns and BE µs timestamps as tcpdump prints them', async (t) => {
  const ns = await readAll(join(DEV, 'pcapplusplus__C__nanosecs_big_endian.pcap'));
  t.equal(ns.frames.length, 10);
  t.same([ns.frames[0].tsSec, ns.frames[0].tsUsec], [1766361926, 167647]);   // tcpdump: 1766361926.167647291
  t.same([ns.frames[9].tsSec, ns.frames[9].tsUsec], [1766361926, 168451]);   // 1766361926.168451894
  const us = await readAll(join(DEV, 'tcpdump__pptp.pcap'));
  t.equal(us.frames.length, 23);
  t.same([us.frames[1].tsSec, us.frames[1].tsUsec, us.frames[1].caplen], [954147395, 148207, 62]);
});

// ---- pcapng ------------------------------------------------------------------------------------

t.test('pcapng: sections in both byte orders, several interfaces, tsresol, tsoffset, EPB/SPB/PB, skipped blocks', async (t) => {
  const ts = 1700000000123456789n;   // ns
  const file = Buffer.concat([
    shb(true),
    idb(true, 1, 65535),                                   // if 0: µs by default
    idb(true, 113, 128, 9),                                // if 1: ns
    idb(true, 101, 0, 0x80 | 20, 1000n),                   // if 2: 2^-20 s, +1000 s offset
    idb(true, 0, 0, 0),                                    // if 3: whole seconds
    epb(true, 0, 1700000000654321n, PKT(1), 1514),
    block(4, Buffer.alloc(16), true),                      // NRB
    epb(true, 1, ts, PKT(2)),
    epb(true, 2, (5n << 20n) + (1n << 19n), PKT(3)),       // 5.5 s
    epb(true, 3, 1700000000n, PKT(4)),
    block(5, Buffer.alloc(20), true),                      // ISB
    block(0x40000bad, Buffer.alloc(40), true),             // custom block
    spb(true, PKT(5, 100), 300),                           // interface 0 snaplen 65535 → 100 captured
    pb(true, 1, ts, PKT(6)),
    epb(true, 9, ts, PKT(9)),                              // no interface 9: skipped with a warning
    shb(false),                                            // new section, big-endian: interfaces reset
    idb(false, 228, 64, 6),
    spb(false, PKT(7, 100), 300),                          // snaplen 64 applies
    epb(false, 0, 1600000000000001n, PKT(8, 10)),
  ]);
  const { frames, stats } = await readAll(write('multi.pcapng', file));
  t.same(frames.map((f) => [f.linkType, f.tsSec, f.tsUsec, f.caplen, f.wirelen, f.data.slice(0, 2)]), [
    [1, 1700000000, 654321, 60, 1514, '01'],
    [113, 1700000000, 123456, 60, 60, '02'],
    [101, 1005, 500000, 60, 60, '03'],
    [0, 1700000000, 0, 60, 60, '04'],
    [1, 0, 0, 100, 300, '05'],
    [113, 1700000000, 123456, 60, 60, '06'],
    [228, 0, 0, 64, 300, '07'],
    [228, 1600000000, 1, 10, 10, '08'],
  ]);
  t.equal(stats.format, 'pcapng');
  t.equal(stats.frames, 8);
  t.equal(stats.bytes, 60 * 5 + 100 + 64 + 10);
  t.equal(stats.truncatedRecords, 0);
  t.equal(stats.skippedBlocks, 4, 'NRB, ISB, custom, and the packet for an unknown interface');
  t.equal(stats.warnings.length, 1);
  t.match(stats.warnings[0], 'interface 9');
});

t.test('pcapng: a later section of an unknown major version is skipped; a first one is FILE_FORMAT', async (t) => {
  const file = Buffer.concat([
    shb(true), idb(true, 1, 0), epb(true, 0, 1n, PKT(1)),
    shb(true, 2), idb(true, 1, 0), epb(true, 0, 2n, PKT(2)),
    shb(false), idb(false, 1, 0), epb(false, 0, 3n, PKT(3)),
  ]);
  const { frames, stats } = await readAll(write('v2.pcapng', file));
  t.same(frames.map((f) => f.data.slice(0, 2)), ['01', '03']);
  t.match(stats.warnings[0], 'unsupported pcapng version 2.0');
  await rejects(t, readAll(write('v2first.pcapng', Buffer.concat([shb(true, 2), idb(true, 1, 0)]))),
    AgentErrorCode.FILE_FORMAT, ['v2first.pcapng', 'version 2.0', 'byte offset 12']);
  const gopacket = await readAll(join(DEV, 'gopacket__pcapgo__le__test901.pcapng'));
  t.equal(gopacket.frames.length, 2);
});

t.test('pcapng multi-interface dev files: counts and link types as the MANIFEST says', async (t) => {
  const cases: Array<[string, number, number[]]> = [
    ['pcapng-test-generator__le__difficult__test201.pcapng', 4, [0, 1]],
    ['pcapng-test-generator__be__difficult__test201.pcapng', 4, [0, 1]],
    ['pcapng-test-generator__le__difficult__test202.pcapng', 8, [0, 1]],
    ['pcapng-test-generator__le__basic__test004.pcapng', 4, [1]],
    ['pcapplusplus__C__many_interfaces-1.pcapng', 64, [0, 1]],   // 11 IDBs; packets on if 0 (EN10MB) and 10 (NULL)
    ['zeek__ldap__gap-data-missing.pcapng', 18, [1]],
  ];
  for (const [file, count, linkTypes] of cases) {
    const { frames, stats } = await readAll(join(DEV, file));
    t.equal(frames.length, count, `${file}: frames`);
    t.same([...new Set(frames.map((f) => f.linkType))].sort((a, b) => a - b), linkTypes, `${file}: link types`);
    t.equal(stats.truncatedRecords, 0);
  }
  // if_tsresol 9 (ns): tcpdump prints 1727444552.946162628 for the first packet.
  const ns = await readAll(join(DEV, 'zeek__ldap__ldap_escaping_test.pcapng'));
  t.same([ns.frames[0].tsSec, ns.frames[0].tsUsec], [1727444552, 946162]);
  t.same([ns.frames[1].tsSec, ns.frames[1].tsUsec], [1727444552, 946173]);
});

// ---- chunking ----------------------------------------------------------------------------------

t.test('any chunk size reads the same frames as the default', async (t) => {
  for (const file of ['pcapplusplus__C__many_interfaces-1.pcapng', 'fpcap__linux-cooked-unsw-nb15.pcap', 'pcapng-test-generator__le__difficult__test202.pcapng']) {
    const digest = (frames: Frame[]) => createHash('sha256').update(JSON.stringify(frames)).digest('hex');
    const whole = await readAll(join(DEV, file));
    for (const chunkBytes of [64, 100, 1000, 4097]) {
      const chunked = await readAll(join(DEV, file), { chunkBytes });
      t.equal(digest(chunked.frames), digest(whole.frames), `${file} in ${chunkBytes}-byte chunks`);
      t.same({ ...chunked.stats, warnings: [] }, { ...whole.stats, warnings: [] });
    }
  }
});

t.test('a pipe is read in sequence: the same frames as the file, skipped blocks read and dropped', async (t) => {
  const digest = (frames: Frame[]) => createHash('sha256').update(JSON.stringify(frames)).digest('hex');
  for (const file of ['pcapplusplus__C__many_interfaces-1.pcapng', 'fpcap__linux-cooked-unsw-nb15.pcap', 'pcapng-test-generator__le__difficult__test202.pcapng']) {
    const whole = await readAll(join(DEV, file));
    for (const chunkBytes of [100, 4097, undefined]) {
      const piped = await readPiped(t, join(DEV, file), { chunkBytes });
      t.equal(digest(piped.frames), digest(whole.frames), `${file} through a pipe, ${chunkBytes ?? 'default'}-byte chunks`);
      t.same({ ...piped.stats, file: '', warnings: [] }, { ...whole.stats, file: '', warnings: [] });
    }
  }
});

t.test('one buffer, reused; it grows only for a record larger than itself', async (t) => {
  const file = write('grow.pcap', pcapFile(true, 0xa1b2c3d4, 1, [
    { sec: 1, frac: 0, data: PKT(1, 40) }, { sec: 2, frac: 0, data: PKT(2, 40) }, { sec: 3, frac: 0, data: PKT(3, 5000) }, { sec: 4, frac: 0, data: PKT(4, 40) },
  ]));
  const buffers: Uint8Array[] = [];
  const lens: number[] = [];
  await readCaptureFile(file, (_lt, buf, start, caplen) => {
    buffers.push(buf);
    lens.push(caplen);
    t.ok(buf.subarray(start, start + caplen).every((b) => b === buf[start]), 'record bytes intact');
  }, { chunkBytes: 128 });
  t.same(lens, [40, 40, 5000, 40]);
  t.equal(buffers[0], buffers[1], 'same buffer for records in one chunk');
  t.ok(buffers[2].length >= 5000 + 16, 'grown for the big record');
  t.ok(new Set(buffers).size <= 3, 'no buffer per chunk');
  // Many chunks of a real capture: the same buffer over and over.
  const seen = new Set<Uint8Array>();
  let frames = 0;
  await readCaptureFile(join(DEV, 'tcpdump__pptp.pcap'), (_lt, buf) => { seen.add(buf); frames++; }, { chunkBytes: 512 });
  t.ok(frames > 20);
  t.equal(seen.size, 1, 'one buffer');
});

t.test('reads are synchronous, but the event loop gets a turn every few MiB of a large file', async (t) => {
  const records = [];
  for (let i = 0; i < 12_000; i++) records.push({ sec: 1 + i, frac: 0, data: PKT(i & 0xff, 1000) });
  const file = write('large.pcap', pcapFile(true, 0xa1b2c3d4, 1, records));
  let turns = 0;
  let reading = true;
  const tick = (): void => { turns++; if (reading) setImmediate(tick); };
  setImmediate(tick);
  let atFirst = -1, atLast = -1, frames = 0;
  await readCaptureFile(file, () => { if (atFirst < 0) atFirst = turns; atLast = turns; frames++; });
  reading = false;
  t.equal(frames, 12_000);
  t.ok(atLast - atFirst >= 2, `${atLast - atFirst} turns of the event loop while 12 MB were read`);
});

// ---- damaged files -----------------------------------------------------------------------------

t.test('file cut mid-record: truncatedRecords 1, the whole records delivered, a warning', async (t) => {
  const src = readFileSync(join(DEV, 'tcpdump__pptp.pcap'));
  const whole = await readAll(join(DEV, 'tcpdump__pptp.pcap'));
  // Cut 10 bytes into the data of record 6, then 5 bytes into the header of record 6.
  let off = 24;
  for (let i = 0; i < 5; i++) off += 16 + src.readUInt32BE(off + 8);
  for (const cut of [off + 16 + 10, off + 5]) {
    const { frames, stats } = await readAll(write(`cut-${cut}.pcap`, src.subarray(0, cut)));
    t.equal(frames.length, 5);
    t.same(frames, whole.frames.slice(0, 5));
    t.equal(stats.truncatedRecords, 1);
    t.equal(stats.warnings.length, 1);
    t.match(stats.warnings[0], `byte offset ${off}`);
  }
  // pcapng cut 40 bytes into its last EPB (the file is little-endian).
  const ng = readFileSync(join(DEV, 'zeek__ldap__ldap_escaping_test.pcapng'));
  const ngWhole = await readAll(join(DEV, 'zeek__ldap__ldap_escaping_test.pcapng'));
  let lastEpb = -1;
  for (let p = 0; p + 12 <= ng.length; p += ng.readUInt32LE(p + 4)) if (ng.readUInt32LE(p) === 6) lastEpb = p;
  const cutNg = await readAll(write('cut.pcapng', ng.subarray(0, lastEpb + 40)));
  t.equal(cutNg.stats.truncatedRecords, 1);
  t.equal(cutNg.frames.length, ngWhole.frames.length - 1);
  t.same(cutNg.frames, ngWhole.frames.slice(0, -1));
  t.match(cutNg.stats.warnings[0], `byte offset ${lastEpb}`);
});

t.test('corrupt lengths end reading with a warning, not a throw', async (t) => {
  const big = await readAll(write('big.pcap', pcapFile(true, 0xa1b2c3d4, 1, [{ sec: 1, frac: 0, data: PKT(1) }, { sec: 2, frac: 0, data: PKT(2, 2000) }])), { maxRecordBytes: 1024 });
  t.equal(big.frames.length, 1);
  t.equal(big.stats.truncatedRecords, 1);
  t.match(big.stats.warnings[0], 'exceeds 1024');

  const huge = Buffer.concat([pcapFile(false, 0xa1b2c3d4, 1, [{ sec: 1, frac: 0, data: PKT(1) }]), Buffer.from('00000001 00000000 7fffffff 7fffffff'.replace(/ /g, ''), 'hex')]);
  const h = await readAll(write('huge.pcap', huge));
  t.equal(h.frames.length, 1);
  t.equal(h.stats.truncatedRecords, 1);

  const ok = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 1n, PKT(1))]);
  const badLen = Buffer.concat([ok, u32(6, true), u32(13, true), Buffer.alloc(16)]);
  const b1 = await readAll(write('badlen.pcapng', badLen));
  t.equal(b1.frames.length, 1);
  t.equal(b1.stats.truncatedRecords, 1);
  t.match(b1.stats.warnings[0], 'impossible block length 13');

  const wrongTrailer = Buffer.concat([ok, epb(true, 0, 2n, PKT(2))]);
  wrongTrailer.writeUInt32LE(999, wrongTrailer.length - 4);
  const b2 = await readAll(write('trailer.pcapng', wrongTrailer));
  t.equal(b2.frames.length, 1);
  t.match(b2.stats.warnings[0], 'trailer length 999');

  const capTooBig = Buffer.concat([ok, epb(true, 0, 2n, PKT(2))]);
  capTooBig.writeUInt32LE(500, ok.length + 20);   // caplen beyond the block
  const b3 = await readAll(write('caplen.pcapng', capTooBig));
  t.equal(b3.frames.length, 1);
  t.equal(b3.stats.truncatedRecords, 1);
});

t.test('a huge non-packet block is skipped without buffering it', async (t) => {
  const file = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 1n, PKT(1)), block(0x00000bad, Buffer.alloc(200_000), true), epb(true, 0, 2n, PKT(2))]);
  const { frames, stats } = await readAll(write('skip.pcapng', file), { chunkBytes: 4096, maxRecordBytes: 1024 });
  t.same(frames.map((f) => f.data.slice(0, 2)), ['01', '02']);
  t.equal(stats.skippedBlocks, 1);
  const cut = await readAll(write('skipcut.pcapng', file.subarray(0, file.length - 100_000)), { chunkBytes: 4096, maxRecordBytes: 1024 });
  t.equal(cut.frames.length, 1);
  t.equal(cut.stats.truncatedRecords, 1);
  // The same through a pipe: the block's bytes are read and dropped, never buffered.
  const piped = await readPiped(t, join(tmp, 'skip.pcapng'), { chunkBytes: 4096, maxRecordBytes: 1024 });
  t.same(piped.frames.map((f) => f.data.slice(0, 2)), ['01', '02']);
  t.equal(piped.stats.skippedBlocks, 1);
  const pipedCut = await readPiped(t, join(tmp, 'skipcut.pcapng'), { chunkBytes: 4096, maxRecordBytes: 1024 });
  t.equal(pipedCut.frames.length, 1);
  t.equal(pipedCut.stats.truncatedRecords, 1);
  t.match(pipedCut.stats.warnings.join('\n'), /inside a block/);
});

// ---- coded errors ------------------------------------------------------------------------------

t.test('missing file, directory: FILE_UNREADABLE naming the path and the reason', async (t) => {
  const missing = join(tmp, 'no-such-file.pcap');
  await rejects(t, readAll(missing), AgentErrorCode.FILE_UNREADABLE, [missing, 'ENOENT']);
  const dir = join(tmp, 'a-directory');
  mkdirSync(dir);
  await rejects(t, readAll(dir), AgentErrorCode.FILE_UNREADABLE, [dir, 'EISDIR']);
  t.equal(AgentErrorCode.FILE_UNREADABLE, 'AGENT_ERR_FILE_UNREADABLE');
});

t.test('not a capture: FILE_FORMAT naming the file and the byte offset', async (t) => {
  const text = write('notes.txt', Buffer.from('hello, this is a text file\n'));
  await rejects(t, readAll(text), AgentErrorCode.FILE_FORMAT, [text, 'byte offset 0', '0x68656c6c']);
  await rejects(t, readAll(write('empty.pcap', Buffer.alloc(0))), AgentErrorCode.FILE_FORMAT, ['empty.pcap', 'empty file']);
  await rejects(t, readAll(write('gz.pcap', Buffer.from('1f8b0800000000000003', 'hex'))), AgentErrorCode.FILE_FORMAT, ['gzip']);
  await rejects(t, readAll(write('short.pcap', Buffer.from('d4c3b2a102000400', 'hex'))), AgentErrorCode.FILE_FORMAT, ['short.pcap', 'cut short', 'byte offset 8']);
  const badBom = shb(true);
  badBom.writeUInt32LE(0x12345678, 8);
  await rejects(t, readAll(write('bom.pcapng', badBom)), AgentErrorCode.FILE_FORMAT, ['bom.pcapng', 'byte-order magic', 'byte offset 8']);
  await rejects(t, readAll(write('shbcut.pcapng', shb(true).subarray(0, 20))), AgentErrorCode.FILE_FORMAT, ['shbcut.pcapng', 'cut short']);
  t.equal(AgentErrorCode.FILE_FORMAT, 'AGENT_ERR_FILE_FORMAT');
});

t.test('an error thrown by onFrame propagates', async (t) => {
  await t.rejects(readCaptureFile(join(DEV, 'tcpdump__pptp.pcap'), () => { throw new Error('boom'); }), { message: 'boom' });
});

// ---- backpressure ------------------------------------------------------------------------------

t.test('gate: reading waits for the promise it returns', async (t) => {
  const file = join(DEV, 'fpcap__linux-cooked-unsw-nb15.pcap');   // 1000 frames, 300 KB
  let frames = 0;
  let gateCalls = 0;
  let release: (() => void) | null = null;
  const reading = readCaptureFile(file, () => { frames++; }, {
    chunkBytes: 16 * 1024,
    gate: () => {
      gateCalls++;
      if (gateCalls !== 3) return null;
      return new Promise<void>((resolve) => { release = resolve; });
    },
  });
  // Let the reader run into the third gate and stop there.
  for (let i = 0; i < 50 && !release; i++) await new Promise((r) => setTimeout(r, 5));
  t.ok(release, 'the gate was reached and returned a promise');
  const held = frames;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(frames, held, 'no frames while the gate holds');
  t.ok(held > 0 && held < 1000, `stopped part-way (${held} frames)`);
  (release as unknown as () => void)();
  const stats = await reading;
  t.equal(stats.frames, 1000);
  t.equal(frames, 1000);
  t.ok(gateCalls > 3, 'called between every chunk');
});
