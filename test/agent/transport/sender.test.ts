// The sender against small real WebSocket servers on loopback that speak the collector's side.
import t, { type Test } from 'tap';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sender, type SenderOptions } from '../../../agent/transport/sender';
import { Spool, type SpoolOptions } from '../../../agent/transport/spool';
import { AgentErrorCode, type AgentError } from '../../../agent/errors';
import {
  AckStatus, decodeAgentMessage, encodeCollectorMessage, ErrorCode, type IAgentMessage,
} from '../../../proto';
import { Batcher, type EncodedBatch } from '../../../agent/export/batcher';

interface FakeCollector {
  url: string;
  received: IAgentMessage[];
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

/** A collector stand-in: checks the token, welcomes, acks every batch (or answers with `reply`). */
async function fakeCollector(opts: { token?: string; port?: number; reply?: (m: IAgentMessage, ws: WebSocket) => boolean } = {}): Promise<FakeCollector> {
  const received: IAgentMessage[] = [];
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    verifyClient: (info: { req: { headers: Record<string, string | string[] | undefined> } }) =>
      info.req.headers.authorization === `Bearer ${opts.token ?? 'secret'}`,
  });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      const m = decodeAgentMessage(data);
      received.push(m);
      if (opts.reply && opts.reply(m, ws)) return;
      if (m.hello) ws.send(encodeCollectorMessage({ welcome: { protocolVersion: 1, collectorId: 'fake' } }));
      if (m.batch) ws.send(encodeCollectorMessage({ ack: { seq: m.batch.seq, bootId: m.batch.bootId, status: AckStatus.ACK_STATUS_STORED } }));
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    sockets,
    close: () => new Promise((r) => {
      for (const s of sockets) s.terminate();
      wss.close(() => r());
    }),
  };
}

function options(url: string, more: Partial<SenderOptions> = {}): SenderOptions {
  return {
    url,
    token: 'secret',
    hello: { protocolVersion: 1, agentId: 'gw1', bootId: 'boot-1' },
    windowBatches: 4,
    connectTimeoutMs: 2000,
    backoffInitialMs: 20,
    backoffMaxMs: 100,
    pingIntervalMs: 60000,
    ...more,
  };
}

function batches(n: number, flowsEach = 2): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  const b = new Batcher({ bootId: 'boot-1', maxFlowsPerBatch: flowsEach, flushIntervalMs: 1000 }, (x) => out.push({ ...x, bytes: Uint8Array.from(x.bytes) }));
  for (let i = 0; i < n * flowsEach; i++) b.add({ flowId: i + 1, protocol: 17, srcAddr: new Uint8Array(4), dstAddr: new Uint8Array(4) });
  return out;
}

/** A fresh spool in its own temporary directory, closed and removed when the test ends. */
function spoolFor(t: Test, more: Partial<SpoolOptions> = {}): Spool {
  const dir = mkdtempSync(join(tmpdir(), 'gk-sender-'));
  const spool = Spool.open({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 1024 * 1024, fullPolicy: 'block', ...more });
  t.teardown(() => { spool.close(); rmSync(dir, { recursive: true, force: true }); });
  return spool;
}

const quiet = { onTrouble: () => {}, onConnected: () => {}, onDisconnected: () => {} };

t.test('hello first, then every batch in order, each kept until acknowledged', async (t) => {
  const fc = await fakeCollector();
  t.teardown(() => fc.close());
  const sender = new Sender(options(fc.url), spoolFor(t), quiet);
  t.teardown(() => sender.stop());
  sender.start();
  for (const b of batches(10)) sender.enqueue(b);
  t.equal(await sender.drain(5000), true);
  t.ok(fc.received[0].hello, 'first message is hello');
  t.equal(fc.received[0].hello!.agentId, 'gw1');
  t.same(fc.received.slice(1).map((m) => Number(m.batch!.seq)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.equal(sender.counters.flowsAcked, 20);
  t.equal(sender.queuedBatches, 0);
});

t.test('unacknowledged batches are sent again after the collector comes back', async (t) => {
  // The first collector acks nothing and goes away; a new one on the same port acks all.
  let fc = await fakeCollector({ reply: (m) => Boolean(m.batch) });
  const port = Number(new URL(fc.url).port);
  const sender = new Sender(options(fc.url, { windowBatches: 100 }), spoolFor(t), quiet);
  t.teardown(() => sender.stop());
  sender.start();
  for (const b of batches(5)) sender.enqueue(b);
  while (fc.received.filter((m) => m.batch).length < 5) await new Promise((r) => setTimeout(r, 10));
  t.equal(sender.queuedBatches, 5, 'nothing acked, nothing forgotten');
  await fc.close();
  fc = await fakeCollector({ port });
  t.teardown(() => fc.close());
  t.equal(await sender.drain(5000), true);
  t.same(fc.received.filter((m) => m.batch).map((m) => Number(m.batch!.seq)), [1, 2, 3, 4, 5]);
  t.equal(sender.counters.batchesResent, 5);
  t.equal(sender.counters.flowsAcked, 10);
});

t.test('a wrong token is reported as COLLECTOR_REJECTED naming HTTP 401', async (t) => {
  const fc = await fakeCollector({ token: 'other' });
  t.teardown(() => fc.close());
  const troubles: AgentError[] = [];
  const sender = new Sender(options(fc.url), spoolFor(t), { onTrouble: (e) => troubles.push(e), onConnected: () => {}, onDisconnected: () => {} });
  t.teardown(() => sender.stop());
  sender.start();
  while (troubles.length === 0) await new Promise((r) => setTimeout(r, 10));
  t.equal(troubles[0].code, AgentErrorCode.COLLECTOR_REJECTED);
  t.match(troubles[0].message, /HTTP 401/);
});

t.test('an unreachable collector is reported and retried with growing delays', async (t) => {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r)); // nothing listens there now
  const delays: number[] = [];
  const troubles: AgentError[] = [];
  const sender = new Sender(options(`ws://127.0.0.1:${port}`), spoolFor(t), { onTrouble: (e, d) => { troubles.push(e); delays.push(d); }, onConnected: () => {}, onDisconnected: () => {} });
  t.teardown(() => sender.stop());
  sender.start();
  while (troubles.length < 4) await new Promise((r) => setTimeout(r, 10));
  t.equal(troubles[0].code, AgentErrorCode.COLLECTOR_UNREACHABLE);
  t.match(troubles[0].message, /ECONNREFUSED/);
  t.ok(delays.every((d) => d >= 20 && d <= 100), `delays within [initial, max]: ${delays}`);
});

t.test('a batch the collector calls invalid is dropped and counted, the rest go on', async (t) => {
  const fc = await fakeCollector({
    reply: (m, ws) => {
      if (m.batch && Number(m.batch.seq) === 2) {
        ws.send(encodeCollectorMessage({ error: { code: ErrorCode.ERROR_CODE_INVALID_BATCH, seq: 2, message: 'flow 0: bad address' } }));
        return true;
      }
      return false;
    },
  });
  t.teardown(() => fc.close());
  const spool = spoolFor(t);
  const sender = new Sender(options(fc.url), spool, quiet);
  t.teardown(() => sender.stop());
  sender.start();
  for (const b of batches(3, 5)) sender.enqueue(b);
  t.equal(await sender.drain(5000), true);
  t.equal(sender.counters.batchesRejected, 1);
  t.equal(spool.counters.flowsDropped, 5);
  t.equal(sender.counters.flowsAcked, 10);
});

t.test('memory is bounded: a collector that never answers leaves the batches on disk, window_batches on the wire', async (t) => {
  const fc = await fakeCollector({ reply: (m) => Boolean(m.batch) });
  t.teardown(() => fc.close());
  const spool = spoolFor(t, { maxBytes: 1024 * 1024, segmentBytes: 128 * 1024 });
  const sender = new Sender(options(fc.url, { windowBatches: 3 }), spool, quiet);
  t.teardown(() => sender.stop());
  sender.start();
  const all = batches(400, 200);
  let gated = false;
  for (const b of all) {
    if (!gated && sender.gate() !== null) gated = true;
    sender.enqueue(b);
  }
  await new Promise((r) => setTimeout(r, 300));
  t.equal(fc.received.filter((m) => m.batch).length, 3, 'only the window went out');
  t.ok(gated, 'gate() asked a pausable source to wait');
  t.ok(spool.bytes <= 1024 * 1024, `spool holds ${spool.bytes} bytes`);
  const dropped = spool.counters.flowsDropped;
  t.ok(dropped > 0, 'past max_bytes under block the new batches are refused');
  t.equal(dropped + sender.queuedBatches * 200, 400 * 200, 'every flow is either spooled or counted as dropped');
});

t.test('a half-open connection (no pong) is noticed and replaced', async (t) => {
  // A raw TCP server that completes the WebSocket handshake and then ignores everything.
  const { createHash } = await import('node:crypto');
  const sockets: Array<import('node:net').Socket> = [];
  const srv = createServer((sock) => {
    sockets.push(sock);
    sock.once('data', (buf) => {
      const key = /sec-websocket-key: (.+)\r\n/i.exec(buf.toString())![1].trim();
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      // Welcome (so the sender starts pinging), then silence.
      const welcome = encodeCollectorMessage({ welcome: { protocolVersion: 1 } });
      sock.write(Buffer.concat([Buffer.from([0x82, welcome.length]), Buffer.from(welcome)]));
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); srv.close(); });
  const port = (srv.address() as AddressInfo).port;
  const troubles: AgentError[] = [];
  const sender = new Sender(options(`ws://127.0.0.1:${port}`, { pingIntervalMs: 100 }), spoolFor(t), { onTrouble: (e) => troubles.push(e), onConnected: () => {}, onDisconnected: () => {} });
  t.teardown(() => sender.stop());
  const started = Date.now();
  sender.start();
  while (troubles.length === 0) await new Promise((r) => setTimeout(r, 10));
  const took = Date.now() - started;
  t.ok(took >= 150 && took < 2000, `dropped after ${took} ms (two ping intervals)`);
  t.match(troubles[0].message, /closed/);
});
