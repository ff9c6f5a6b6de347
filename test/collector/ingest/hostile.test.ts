// Hostile clients at the collector, over real sockets: each is refused with a coded reason, counted in
// /metrics, and a well-behaved agent is served meanwhile.
import t from 'tap';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { makePki } from '../../helpers/certs';
import { tempDir as tmp } from '../../helpers/processes';
import {
  TOKENS, TestAgent, batchFrame, delay, fetchText, helloFrame, metricValue, scanFlows, startTestCollector, upgradeStatus,
  type TestCollector,
} from '../helpers';

const LIMITS = { handshake_timeout_secs: 1, max_pending_connections_per_ip: 8, max_connections_per_ip: 10, max_frame_bytes: 65536 };

async function metric(c: TestCollector, series: string): Promise<number> {
  return metricValue((await fetchText(`http://127.0.0.1:${c.port}/metrics`)).body, series) ?? 0;
}

/** A TCP connection from `localAddress` that records what it receives and when it is closed. */
function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<{ sock: net.Socket; data: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    const t0 = Date.now();
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('error', () => undefined);
    const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now() - t0)));
    sock.once('connect', () => resolve({ sock, data: () => data, closed }));
    sock.once('error', reject);
  });
}

/** An upgraded agent connection on a raw socket (for frames ws itself would never send). */
async function rawAgent(port: number): Promise<{ sock: net.Socket; data: () => Buffer; closed: Promise<number> }> {
  const s = await rawSocket(port);
  const chunks: Buffer[] = [];
  s.sock.removeAllListeners('data');
  s.sock.on('data', (d: Buffer) => chunks.push(d));
  s.sock.write([
    'GET /v1/agent HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits', `Authorization: Bearer ${TOKENS.gw1}`, '', '',
  ].join('\r\n'));
  for (let i = 0; i < 100 && !Buffer.concat(chunks).includes('\r\n\r\n'); i++) await delay(20);
  const head = Buffer.concat(chunks).toString('latin1');
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`not upgraded: ${head}`);
  if (/sec-websocket-extensions/i.test(head)) throw new Error('permessage-deflate was negotiated');
  chunks.length = 0;
  return { sock: s.sock, data: () => Buffer.concat(chunks), closed: s.closed };
}

/** A masked client frame; `declaredLength` lies about the payload size when given. */
function clientFrame(opcode: number, payload: Buffer, opts: { rsv1?: boolean; declaredLength?: number } = {}): Buffer {
  const len = opts.declaredLength ?? payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | (opts.rsv1 ? 0x40 : 0) | opcode, 0x80 | len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | (opts.rsv1 ? 0x40 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | (opts.rsv1 ? 0x40 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([header, mask, body]);
}

/** Close code of a server close frame in `buf` (unmasked, as servers send), or undefined. */
function closeCode(buf: Buffer): number | undefined {
  for (let i = 0; i + 3 < buf.length; i++) if (buf[i] === 0x88 && buf[i + 1] >= 2 && buf[i + 1] < 126) return buf.readUInt16BE(i + 2);
  return undefined;
}

/** A batch acked for gw2 within `ms`: the collector is still serving well-behaved agents. */
async function servedWithin(c: TestCollector, ms: number, localAddress = '127.0.0.1'): Promise<number> {
  const t0 = Date.now();
  const ws = new WebSocket(`ws://127.0.0.1:${c.port}/v1/agent`, { headers: { Authorization: `Bearer ${TOKENS.gw2}` }, localAddress });
  const replies: Buffer[] = [];
  ws.on('message', (d: Buffer) => replies.push(d));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(helloFrame('gw2', `b-${Date.now()}`));
  ws.send(batchFrame(1, scanFlows(2), `b-${Date.now()}`));
  while (replies.length < 2 && Date.now() - t0 < ms) await delay(10);
  ws.close();
  if (replies.length < 2) throw new Error(`not served within ${ms} ms`);
  return Date.now() - t0;
}

t.test('unauthenticated and malformed upgrades: 401 / 400 / 431, counted', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: LIMITS } });
  t.equal(await upgradeStatus(c.url('/v1/agent')), 401, 'no credential');
  t.equal(await upgradeStatus(c.url('/v1/agent'), { Authorization: 'Bearer nope' }), 401, 'wrong credential');
  t.equal(await metric(c, 'auth_failures_total{endpoint="agent"}'), 2);
  t.equal(await metric(c, 'agent_refusals_total{reason="unknown_credential"}'), 2);

  const garbage = await rawSocket(c.port);
  garbage.sock.write('\x16\x03\x01\x00\xff not http at all\r\n\r\n');
  await garbage.closed;
  t.match(garbage.data(), /^HTTP\/1\.1 400/, 'garbage → 400');
  t.equal(await metric(c, 'connections_rejected_total{reason="bad_request"}'), 1);

  const huge = await rawSocket(c.port);
  huge.sock.write(`GET /v1/agent HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
  await huge.closed;
  t.match(huge.data(), /^HTTP\/1\.1 431/, 'oversized headers → 431');
  t.equal(await metric(c, 'connections_rejected_total{reason="headers_too_large"}'), 1);
});

t.test('slow and silent clients are cut at the handshake deadline; others are served meanwhile', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: LIMITS } });
  const slow = await rawSocket(c.port);
  slow.sock.write('GET /v1/agent HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => slow.sock.writable && slow.sock.write('X-Drip: 1\r\n'), 200);
  t.teardown(() => clearInterval(drip));
  const silent = await rawSocket(c.port);
  t.ok((await servedWithin(c, 2000)) < 2000, 'an agent is served while they dawdle');
  const [slowMs, silentMs] = await Promise.all([slow.closed, silent.closed]);
  clearInterval(drip);
  t.ok(slowMs >= 900 && slowMs < 4000, `header drip cut after ${slowMs} ms (deadline 1 s)`);
  t.ok(silentMs >= 900 && silentMs < 4000, `silent socket cut after ${silentMs} ms`);
  t.match(slow.data(), /^HTTP\/1\.1 408/);
  t.ok((await metric(c, 'connections_rejected_total{reason="handshake_timeout"}')) >= 1, 'counted as handshake_timeout');

  // Upgraded, authenticated, but never says Hello.
  const mute = await TestAgent.connect(c.port, TOKENS.gw1);
  const closed = await mute.closed;
  t.same(closed, { code: 1008, reason: 'HELLO_TIMEOUT' });
  t.equal(await metric(c, 'agent_refusals_total{reason="hello_timeout"}'), 1);
});

t.test('a flood from one address: pending connections capped, upgraded ones capped (429); other addresses served', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: LIMITS } });
  const idle = await Promise.all(Array.from({ length: 8 }, () => rawSocket(c.port, '127.0.0.5')));
  const extra = await rawSocket(c.port, '127.0.0.5');
  const cut = await Promise.race([extra.closed, delay(500).then(() => -1)]);
  t.ok(cut >= 0 && cut < 500, 'the 9th handshaking connection from one address is dropped at once');
  t.equal(await metric(c, 'connections_rejected_total{reason="pending_per_ip_limit"}'), 1);
  t.ok((await servedWithin(c, 2000, '127.0.0.6')) < 2000, 'another address is served during the flood');
  for (const s of idle) s.sock.destroy();

  // Upgraded connections no longer count as pending: 10 fit (the upgrade limit), the 11th gets 429.
  const agents: WebSocket[] = [];
  for (let i = 0; i < 10; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}/v1/agent`, { headers: { Authorization: `Bearer ${TOKENS.gw1}` }, localAddress: '127.0.0.7' });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    agents.push(ws);
  }
  t.pass('10 upgraded connections from one address (more than the pending limit of 8)');
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}/v1/agent`, { headers: { Authorization: `Bearer ${TOKENS.gw1}` }, localAddress: '127.0.0.7' });
    ws.once('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => undefined);
  });
  t.equal(status, 429);
  t.equal(await metric(c, 'connections_rejected_total{reason="per_ip_limit"}'), 1);
  for (const ws of agents) ws.terminate();
});

t.test('frames: compression refused, oversized and lying lengths closed 1009, all counted', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: LIMITS } });
  const bomb = await rawAgent(c.port);
  // A tiny deflate stream that would inflate to 16 MiB, sent as a compressed (RSV1) frame.
  const { deflateRawSync } = await import('node:zlib');
  bomb.sock.write(clientFrame(2, deflateRawSync(Buffer.alloc(16 * 1024 * 1024)), { rsv1: true }));
  await bomb.closed;
  t.equal(closeCode(bomb.data()), 1002, 'RSV1 (compressed) frame → protocol error, nothing inflated');

  const big = await rawAgent(c.port);
  big.sock.write(clientFrame(2, Buffer.alloc(65537)));
  await big.closed;
  t.equal(closeCode(big.data()), 1009, 'frame over max_frame_bytes → 1009');

  const liar = await rawAgent(c.port);
  liar.sock.write(clientFrame(2, Buffer.alloc(10), { declaredLength: 2 ** 40 }));
  const liarMs = await liar.closed;
  t.equal(closeCode(liar.data()), 1009, 'a length of 2^40 is refused from the header alone');
  t.ok(liarMs < 2000, `without waiting for the bytes (${liarMs} ms)`);

  t.equal(await metric(c, 'bad_frames_total{code="WS_PROTOCOL"}'), 1);
  t.equal(await metric(c, 'bad_frames_total{code="TOO_LARGE"}'), 2);
  t.ok((await servedWithin(c, 2000)) < 2000, 'still serving');
});

t.test('TLS listener: a client that never starts the TLS handshake is cut and counted', async (t) => {
  const pki = makePki(tmp('gk-hostile-pki-'));
  const c = await startTestCollector(t, { extra: { limits: LIMITS, listen: { host: '127.0.0.1', port: 0, tls: { cert_file: pki.serverCert, key_file: pki.serverKey } } } });
  const silent = await rawSocket(c.port);
  const ms = await silent.closed;
  t.ok(ms >= 900 && ms < 4000, `cut after ${ms} ms`);
  const s = tls.connect({ port: c.port, host: '127.0.0.1', ca: (await import('node:fs')).readFileSync(pki.caCert) });
  await new Promise((r, j) => { s.once('secureConnect', r); s.once('error', j); });
  s.end('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  let body = '';
  s.on('data', (d) => (body += d));
  await new Promise((r) => s.on('close', r));
  t.ok((metricValue(body.slice(body.indexOf('\r\n\r\n') + 4), 'connections_rejected_total{reason="handshake_timeout"}') ?? 0) >= 1, 'counted');

  // Upgraded wss connections leave the pending count too (the TLS socket's raw socket is released).
  const ca = (await import('node:fs')).readFileSync(pki.caCert);
  const open: WebSocket[] = [];
  for (let i = 0; i < 10; i++) {
    const ws = new WebSocket(`wss://127.0.0.1:${c.port}/v1/agent`, { ca, headers: { Authorization: `Bearer ${TOKENS.gw1}` } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    open.push(ws);
  }
  t.pass('10 wss connections from one address, more than the pending limit of 8');
  for (const ws of open) ws.terminate();
});
