// Alert outputs against real local receivers: an HTTP server checking the webhook signature and
// answering with failures to force retries and dead letters, a UDP socket and a TCP server reading
// RFC 5424 syslog (octet-counted on TCP) with CEF or ECS JSON inside.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { cefHeaderEscape, cefValueEscape } from '../../../collector/alerts/outputs/cef';
import { sdParamEscape } from '../../../collector/alerts/outputs/syslog';
import type { NewAlert, Severity } from '../../../collector/model';
import { fetchText, metricValue, startTestCollector, tempDir } from '../helpers';

const SECRET = 'webhook-secret-0123456789';

function alert(i: number, over: Partial<NewAlert> = {}): NewAlert {
  return {
    category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: `172.16.0.${i}`, dst_ip: '10.0.0.20',
    dst_port: null, first_ts: 1_700_000_000, last_ts: 1_700_000_005, score: 6, threshold: 5, evidence: { flow_ids: [i] }, ...over,
  };
}

interface Received { headers: http.IncomingHttpHeaders; body: string }

/** An HTTP receiver whose answers come from `answer(n)` (n = 1, 2, ... per request). */
async function receiver(t: Tap, answer: (n: number) => number | Promise<number>): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', async () => {
      got.push({ headers: req.headers, body });
      res.writeHead(await answer(got.length)).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`, got };
}
type Tap = { teardown(fn: () => unknown): void };

/** The verification recipe of docs/outputs.md. */
function verify(secret: string, r: Received, nowSecs: number, toleranceSecs = 300): boolean {
  const ts = Number(r.headers['x-goalkeeper-timestamp']);
  const sig = String(r.headers['x-goalkeeper-signature'] ?? '');
  if (!Number.isInteger(ts) || Math.abs(nowSecs - ts) > toleranceSecs) return false;
  const want = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`);
  const have = Buffer.from(sig);
  return want.length === have.length && timingSafeEqual(want, have);
}

function secretFile(t: Tap): string {
  const f = path.join(tempDir(t), 'hook.secret');
  fs.writeFileSync(f, `${SECRET}\n`);
  return f;
}

function webhook(url: string, secret_file: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'soc-hook', url, secret_file, initial_backoff_ms: 10, max_backoff_ms: 40, ...over };
}

async function metrics(port: number): Promise<string> {
  return (await fetchText(`http://127.0.0.1:${port}/metrics`)).body;
}

t.test('webhook: signed body, retried after 503s with backoff, delivered once', async (t) => {
  const rx = await receiver(t, (n) => (n <= 2 ? 503 : 200));
  const c = await startTestCollector(t, { extra: { alerts: { outputs: { webhooks: [webhook(rx.url, secretFile(t))] } } } });
  const stored = await c.collector.hub.raise(alert(1));
  await c.collector.outputs.drained();
  t.equal(rx.got.length, 3, 'two failures then success');
  for (const r of rx.got) {
    t.ok(verify(SECRET, r, Math.floor(Date.now() / 1000)), 'signature verifies');
    t.notOk(verify('another-secret-value', r, Math.floor(Date.now() / 1000)), 'not with another secret');
    t.equal(r.headers['x-goalkeeper-alert-id'], String(stored!.id));
    t.equal(r.headers['content-type'], 'application/json');
  }
  const tampered = { ...rx.got[2], body: rx.got[2].body.replace('"medium"', '"low"') };
  t.notOk(verify(SECRET, tampered, Math.floor(Date.now() / 1000)), 'an edited body fails');
  t.notOk(verify(SECRET, rx.got[2], Math.floor(Date.now() / 1000) + 3600), 'an old timestamp fails');
  t.match(JSON.parse(rx.got[2].body), { id: stored!.id, category: 'port_scan', src_ip: '172.16.0.1', evidence: { flow_ids: [1] } });
  const m = await metrics(c.port);
  t.equal(metricValue(m, 'output_sent_total{output="soc-hook"}'), 1);
  t.equal(metricValue(m, 'output_retries_total{output="soc-hook"}'), 2);
  t.equal(metricValue(m, 'output_dead_letters_total{output="soc-hook"}'), 0);
});

t.test('webhook: dead letter after max_attempts, at once on a 4xx; the queue moves on', async (t) => {
  const rx = await receiver(t, (n) => (n <= 3 ? 500 : n === 4 ? 400 : 204));
  const c = await startTestCollector(t, { extra: { alerts: { outputs: { webhooks: [webhook(rx.url, secretFile(t), { max_attempts: 3 })] } } } });
  await c.collector.hub.raise(alert(1));
  await c.collector.hub.raise(alert(2));
  await c.collector.hub.raise(alert(3));
  await c.collector.outputs.drained();
  t.same(rx.got.map((r) => JSON.parse(r.body).id), [1, 1, 1, 2, 3], 'alert 1 tried 3 times, alert 2 once (400), alert 3 delivered');
  const m = await metrics(c.port);
  t.equal(metricValue(m, 'output_dead_letters_total{output="soc-hook"}'), 2);
  t.equal(metricValue(m, 'output_retries_total{output="soc-hook"}'), 2);
  t.equal(metricValue(m, 'output_sent_total{output="soc-hook"}'), 1);
  t.ok(c.logLines.some((l) => l.msg === 'alert dead-lettered' && l.alert_id === 1 && l.attempts === 3));
});

t.test('webhook: bounded queue drops the newest (counted); filter and ECS format', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const rx = await receiver(t, async () => {
    await gate;
    return 200;
  });
  const hooks = [
    webhook(rx.url, secretFile(t), { max_queue: 2 }),
    webhook(rx.url, secretFile(t), { name: 'ecs-high', format: 'ecs', min_severity: 'high', hosts: ['172.16.0.9'] }),
  ];
  const c = await startTestCollector(t, { extra: { alerts: { outputs: { webhooks: hooks } } } });
  for (let i = 1; i <= 5; i++) await c.collector.hub.raise(alert(i));
  await c.collector.hub.raise(alert(9, { severity: 'critical', dst_port: 22 }));
  await c.collector.hub.raise(alert(8, { severity: 'critical' }));
  release();
  await c.collector.outputs.drained();
  const m = await metrics(c.port);
  t.equal(metricValue(m, 'output_drops_total{output="soc-hook"}'), 5, 'max_queue 2: alert 1 in flight + alert 2 queued, the rest dropped');
  const bodies = rx.got.map((r) => JSON.parse(r.body));
  const ecs = bodies.filter((b) => b['@timestamp']);
  t.equal(ecs.length, 1, 'only critical alerts about host 172.16.0.9 pass the ecs-high filter');
  t.match(ecs[0], {
    event: { kind: 'alert', category: ['network', 'intrusion_detection'], severity: 99, id: '6', dataset: 'goalkeeper.alert' },
    rule: { name: 'port_scan' },
    source: { ip: '172.16.0.9' },
    destination: { ip: '10.0.0.20', port: 22 },
    threat: { framework: 'MITRE ATT&CK', technique: { id: ['T1046'] } },
    observer: { name: 'gw1', type: 'sensor' },
    goalkeeper: { score: 6, threshold: 5, evidence: { flow_ids: [9] } },
  });
  t.equal(ecs[0]['@timestamp'], new Date(ecs[0]['@timestamp']).toISOString());
});

t.test('webhook: an unreadable secret file stops the start with a coded error naming the key', async (t) => {
  await t.rejects(
    startTestCollector(t, { extra: { alerts: { outputs: { webhooks: [webhook('http://127.0.0.1:9/x', '/nonexistent/secret')] } } } }),
    { code: 'COLL_ERR_CONFIG_UNREADABLE', message: /alerts\.outputs\.webhooks\[0\]\.secret_file/ },
  );
});

/** Parses one RFC 5424 message: header fields, SD params (unescaped) and MSG. */
function parse5424(msg: string): { pri: number; ts: string; host: string; app: string; procid: string; msgid: string; sdId: string; sd: Record<string, string>; text: string } {
  const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[([^ \]]+)((?: [^=\s]+="(?:[^"\\\]]|\\["\\\]])*")*)\] (.*)$/s.exec(msg);
  if (!m) throw new Error(`not RFC 5424: ${msg}`);
  const sd: Record<string, string> = {};
  for (const p of m[8].matchAll(/ ([^=\s]+)="((?:[^"\\\]]|\\["\\\]])*)"/g)) sd[p[1]] = p[2].replace(/\\(["\\\]])/g, '$1');
  return { pri: Number(m[1]), ts: m[2], host: m[3], app: m[4], procid: m[5], msgid: m[6], sdId: m[7], sd, text: m[9] };
}

/** Splits a CEF line into its 7 header fields (unescaped) and extension map (unescaped). */
function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let i = 0;
  let cur = '';
  while (header.length < 7) {
    const ch = line[i++];
    if (ch === '\\') cur += line[i++];
    else if (ch === '|') {
      header.push(cur);
      cur = '';
    } else cur += ch;
  }
  const ext: Record<string, string> = {};
  const rest = line.slice(i);
  for (const m of rest.matchAll(/(\w+)=((?:[^=\\]|\\.)*?)(?= \w+=|$)/g)) {
    ext[m[1]] = m[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  }
  return { header, ext };
}

t.test('escaping helpers: CEF header and value, RFC 5424 SD-PARAM', async (t) => {
  t.equal(cefHeaderEscape('a|b\\c'), 'a\\|b\\\\c');
  t.equal(cefValueEscape('a=b\\c\nd|e'), 'a\\=b\\\\c\\nd|e');
  t.equal(sdParamEscape('say "hi"] \\ ok'), 'say \\"hi\\"\\] \\\\ ok');
});

t.test('syslog over UDP: RFC 5424 with SD escaping and a CEF message with escaping', async (t) => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.teardown(() => sock.close());
  const got: string[] = [];
  sock.on('message', (b) => got.push(b.toString('utf8')));
  const port = (sock.address() as AddressInfo).port;
  const c = await startTestCollector(t, {
    extra: { collector_id: 'campus collector', alerts: { outputs: { syslog: [{ name: 'siem-udp', host: '127.0.0.1', port }] } } },
  });
  const odd = alert(7, { category: 'odd|cat\\x', agent_id: 'gw="1"]', severity: 'high', dst_port: 443 });
  const stored = await c.collector.hub.raise(odd);
  await c.collector.outputs.drained();
  for (let i = 0; i < 50 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(got.length, 1);
  const s = parse5424(got[0]);
  t.equal(s.pri, 16 * 8 + 3, 'local0.err for high');
  t.equal(s.host, 'campus_collector', 'spaces are not allowed in HOSTNAME');
  t.equal(s.app, 'goalkeeper');
  t.equal(s.procid, String(process.pid));
  t.equal(s.msgid, 'odd|cat\\x');
  t.equal(s.sdId, 'goalkeeper@32473');
  t.equal(new Date(s.ts).getTime(), Math.round(stored!.ts * 1000));
  t.same(s.sd, { id: String(stored!.id), category: 'odd|cat\\x', severity: 'high', agent: 'gw="1"]', src: '172.16.0.7', dst: '10.0.0.20', dport: '443', attack: 'T1046', score: '6' });
  const cef = parseCef(s.text);
  t.same(cef.header, ['CEF:0', 'Goalkeeper', 'Goalkeeper', cef.header[3], 'odd|cat\\x', 'odd|cat\\x (high)', '8']);
  t.ok(s.text.startsWith('CEF:0|Goalkeeper|Goalkeeper|'));
  t.ok(s.text.includes('|odd\\|cat\\\\x|'), 'pipe and backslash escaped in the header');
  t.ok(s.text.includes('dvchost=gw\\="1"]'), 'equals escaped in an extension value');
  t.match(cef.ext, { externalId: String(stored!.id), src: '172.16.0.7', dst: '10.0.0.20', dpt: '443', cat: 'odd|cat\\x', dvchost: 'gw="1"]', cs1: 'T1046', cn1: '6', cn2: '5' });
  t.equal(cef.ext.rt, String(Math.round(stored!.ts * 1000)));
});

t.test('syslog over TCP: octet-counted frames (byte lengths), ECS JSON, reconnect after the receiver drops', async (t) => {
  const frames: string[] = [];
  let connections = 0;
  const srv = net.createServer((s) => {
    connections++;
    const mine = connections;
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (buf.length < sp + 1 + len) break;
        frames.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
        if (mine === 1) s.destroy(); // the first connection dies after one message
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as AddressInfo).port;
  const c = await startTestCollector(t, {
    extra: {
      alerts: { outputs: { syslog: [{ name: 'siem-tcp', transport: 'tcp', host: '127.0.0.1', port, format: 'ecs_json', initial_backoff_ms: 10, max_backoff_ms: 50, facility: 4 }] } },
    },
  });
  await c.collector.hub.raise(alert(1, { agent_id: 'gw-ü' }));
  await c.collector.outputs.drained();
  await new Promise((r) => setTimeout(r, 50));
  for (const sev of ['low', 'critical'] as Severity[]) await c.collector.hub.raise(alert(2, { severity: sev }));
  await c.collector.outputs.drained();
  for (let i = 0; i < 100 && frames.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(frames.length, 3, 'every alert arrived, the ones after the drop on a new connection');
  t.ok(connections >= 2, 'reconnected');
  const parsed = frames.map(parse5424);
  t.same(parsed.map((p) => p.pri), [4 * 8 + 4, 4 * 8 + 5, 4 * 8 + 2], 'facility 4, severities warning/notice/crit');
  t.equal(parsed[0].sd.agent, 'gw-ü', 'multi-byte UTF-8 counted in bytes');
  const ecs = JSON.parse(parsed[2].text);
  t.match(ecs, { event: { kind: 'alert', severity: 99 }, source: { ip: '172.16.0.2' } });
  const m = await metrics(c.port);
  t.equal(metricValue(m, 'output_sent_total{output="siem-tcp"}'), 3);
});

/** A self-signed certificate for 127.0.0.1, made by openssl in a temp folder. */
function selfSigned(t: Tap): { key: string; cert: string; certFile: string } {
  const dir = tempDir(t);
  const key = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=goalkeeper-test-syslog', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certFile], { stdio: 'ignore' });
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

t.test('syslog over TLS (RFC 5425): verified against ca_file; an untrusted receiver gets nothing', async (t) => {
  const good = selfSigned(t);
  const other = selfSigned(t);
  const frames: string[] = [];
  const srv = tls.createServer({ key: good.key, cert: good.cert }, (s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (sp < 0 || buf.length < sp + 1 + len) break;
        frames.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as AddressInfo).port;
  const out = (name: string, ca_file: string): Record<string, unknown> =>
    ({ name, transport: 'tls', host: '127.0.0.1', port, ca_file, max_attempts: 2, initial_backoff_ms: 10, max_backoff_ms: 20 });
  const c = await startTestCollector(t, { extra: { alerts: { outputs: { syslog: [out('siem-tls', good.certFile), out('wrong-ca', other.certFile)] } } } });
  await c.collector.hub.raise(alert(3));
  await c.collector.outputs.drained();
  for (let i = 0; i < 100 && frames.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(frames.length, 1, 'only the output that trusts the receiver delivered');
  t.match(parse5424(frames[0]), { msgid: 'port_scan', sd: { src: '172.16.0.3' }, text: /^CEF:0\|Goalkeeper\|/ });
  const m = await metrics(c.port);
  t.equal(metricValue(m, 'output_sent_total{output="siem-tls"}'), 1);
  t.equal(metricValue(m, 'output_dead_letters_total{output="wrong-ca"}'), 1, 'certificate refused on both attempts');
  t.ok(c.logLines.some((l) => l.output === 'wrong-ca' && /self[- ]signed|certificate/i.test(String(l.err))));
});
