import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { validateConfig } from '../../../collector/config';
import { buildDetectors, DetectRunner } from '../../../collector/detect';
import { IndicatorSet } from '../../../collector/detect/intel/indicators';
import { parseList } from '../../../collector/detect/intel/list-format';
import { parseStix, patternValues } from '../../../collector/detect/intel/stix';
import { ThreatIntelDetector } from '../../../collector/detect/threat-intel';
import { createLogger, Registry } from '../../../collector/obs';
import { assertAlertShape, detectConfig, established, flow, run, T0 } from './flows';

const JA4 = 't13d1516h2_8daaf6152771_e5627efa2ab1';

function tmp(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gk-intel-${process.pid}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function stixBundle(patterns: Array<Record<string, unknown>>): string {
  return JSON.stringify({
    type: 'bundle', id: 'bundle--1',
    objects: patterns.map((p, i) => ({ type: 'indicator', spec_version: '2.1', id: `indicator--${i}`, name: `ind ${i}`, pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z', ...p })),
  });
}

function setOf(list: string): IndicatorSet {
  const s = new IndicatorSet();
  for (const m of parseList(list, 'test').indicators) s.add(m);
  return s;
}

t.test('plain lists: addresses, prefixes, domains and JA4 are recognised; junk is counted', async (t) => {
  const parsed = parseList(`# comment\n203.0.113.7\n198.51.100.0/24  # a prefix\n2001:db8::/32\nevil.example\n${JA4}\nnot an indicator!\n\n`, 'l');
  t.same(parsed.indicators.map((i) => i.kind), ['ip', 'ip', 'ip', 'domain', 'ja4']);
  t.equal(parsed.rejected, 1);
});

t.test('STIX patterns: the comparisons we can match, and what we refuse', async (t) => {
  t.same(patternValues("[ipv4-addr:value = '203.0.113.7']"), [['ip', '203.0.113.7']]);
  t.same(patternValues("[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [domain-name:value = 'evil.example']"), [['ip', '198.51.100.0/24'], ['domain', 'evil.example']]);
  t.same(patternValues("[url:value = 'https://c2.evil.example:8443/x?y=1']"), [['domain', 'c2.evil.example']]);
  t.same(patternValues(`[network-traffic:extensions.'tls-ext'.ja4 = '${JA4}']`), [['ja4', JA4]]);
  t.same(patternValues("[domain-name:value IN ('a.example', 'b.example')]"), [['domain', 'a.example'], ['domain', 'b.example']]);
  t.equal(patternValues("[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 443]"), undefined, 'AND needs more than one flow field');
  t.equal(patternValues("[file:hashes.'SHA-256' = 'abc']"), undefined, 'not observable in flows');
  t.equal(patternValues("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS"), undefined, 'qualifiers');

  const now = Date.parse('2026-01-01T00:00:00Z');
  const parsed = parseStix(stixBundle([
    { pattern: "[ipv4-addr:value = '203.0.113.7']" },
    { pattern: "[domain-name:value = 'old.example']", valid_until: '2025-01-01T00:00:00Z' },
    { pattern: "[domain-name:value = 'revoked.example']", revoked: true },
    { pattern: 'rule x { }', pattern_type: 'yara' },
  ]), 'feed', now);
  t.same(parsed.indicators.map((i) => [i.kind, i.value, i.stix_id]), [['ip', '203.0.113.7', 'indicator--0']]);
  t.equal(parsed.rejected, 3, 'expired, revoked and non-STIX patterns are skipped and counted');
  t.throws(() => parseStix('{"type":"report"}', 'feed', now), SyntaxError);
});

t.test('matching: addresses, names (and their subdomains) from DNS/SNI/Host, JA4; benign traffic is silent', async (t) => {
  const set = setOf(`203.0.113.7\n198.51.100.0/24\nevil.example\n${JA4}\n2001:db8::/32\n`);
  const d = new ThreatIntelDetector(detectConfig().threat_intel, () => set);
  const cases: Array<[string, Parameters<typeof flow>[0]]> = [
    ['dst_ip', { dstIp: '203.0.113.7' }],
    ['dst_ip', { dstIp: '198.51.100.200' }],
    ['src_ip', { srcIp: '2001:db8:1::5', dstIp: '2001:4860::1' }],
    ['tls_sni', { dstIp: '192.0.2.1', app: { tls_sni: 'cdn.EVIL.example' } }],
    ['http_host', { dstIp: '192.0.2.2', app: { http_host: 'evil.example' } }],
    ['dns_query', { dstIp: '10.0.0.53', app: { dns_query: 'x.y.evil.example' } }],
    ['dns_answers', { dstIp: '10.0.0.53', app: { dns_query: 'innocent.example', dns_answers: ['203.0.113.7'] } }],
    ['ja4', { dstIp: '192.0.2.3', app: { ja4: JA4 } }],
  ];
  for (const [i, [field, p]] of cases.entries()) {
    const alerts = run(d, [flow({ srcIp: `10.0.${i + 1}.9`, ...established(10, 10), ...p })]);
    t.equal(alerts.length, 1, field);
    assertAlertShape(t, alerts[0]);
    t.match(alerts[0], { category: 'threat_intel', severity: 'high', evidence: { matched_field: field } });
  }
  const benign = [
    flow({ dstIp: '203.0.113.8', app: { tls_sni: 'notevil.example', ja4: 't13d1516h2_000000000000_e5627efa2ab1' } }),
    flow({ dstIp: '192.0.2.9', app: { dns_query: 'evil.example.com' } }),
  ];
  t.same(run(d, benign), []);
});

t.test('repeats of one (source, indicator) are raised once per suppress_secs of flow time', async (t) => {
  const d = new ThreatIntelDetector(detectConfig().threat_intel, () => setOf('203.0.113.7'));
  const flows = [0, 60, 120].map((s) => flow({ dstIp: '203.0.113.7', firstUs: T0 + s * 1e6 }));
  t.equal(run(d, flows).length, 1);
  t.equal(run(d, [flow({ dstIp: '203.0.113.7', firstUs: T0 + 4000 * 1e6 })]).length, 1, 'after the hour');
});

async function startServer(t: Test, body: () => [number, string]): Promise<string> {
  const server = http.createServer((_req, res) => {
    const [status, text] = body();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.json`;
}

t.test('loaded from a file and a URL; reloaded on mtime change, on reload(), and a failing source keeps its indicators', async (t) => {
  const dir = tmp(t);
  const listPath = path.join(dir, 'bad-hosts.txt');
  fs.writeFileSync(listPath, '203.0.113.7\n');
  let feed: [number, string] = [200, stixBundle([{ pattern: "[domain-name:value = 'evil.example']" }])];
  const url = await startServer(t, () => feed);
  const cfg = validateConfig({
    auth: { agents: [] },
    detect: { threat_intel: { reload_secs: 1, sources: [{ path: 'bad-hosts.txt' }, { name: 'feed', url, format: 'stix' }] } },
  }, dir).detect;
  const metrics = new Registry();
  const set = await buildDetectors(cfg, { log: createLogger({ level: 'silent' }), metrics });
  t.teardown(() => set.close());
  const runner = new DetectRunner(set.detectors, metrics, createLogger({ level: 'silent' }));
  let n = 0;
  const hits = (p: Parameters<typeof flow>[0]) => runner.run([flow({ srcIp: `10.7.0.${++n}`, ...p })]).filter((a) => a.category === 'threat_intel');

  t.equal(hits({ dstIp: '203.0.113.7' }).length, 1, 'from the file');
  t.equal(hits({ app: { dns_query: 'a.evil.example' } }).length, 1, 'from the URL');
  t.match(metrics.render(), /intel_indicators\{kind="ip"\} 1/);

  // the file changes: picked up by the mtime poll within reload_secs
  fs.writeFileSync(listPath, '203.0.113.7\n192.0.2.66\n');
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(listPath, later, later);
  const deadline = Date.now() + 5000;
  while (hits({ dstIp: '192.0.2.66' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(Date.now() < deadline, 'the new address matched without a restart');

  // the feed breaks: its last indicators stay, the failure is counted
  feed = [500, 'oops'];
  await set.reloadIntel();
  t.equal(hits({ app: { dns_query: 'b.evil.example' } }).length, 1, 'kept after a failed fetch');
  t.match(metrics.render(), /intel_load_failures_total\{source="feed"\} [1-9]/);

  // the feed changes: reload() (what SIGHUP calls) swaps it in
  feed = [200, stixBundle([{ pattern: "[domain-name:value = 'other.example']" }])];
  await set.reloadIntel();
  t.equal(hits({ app: { dns_query: 'c.evil.example' } }).length, 0, 'the old domain is gone');
  t.equal(hits({ app: { tls_sni: 'other.example' } }).length, 1, 'the new one matches');
});

t.test('config: a source needs exactly one of path and url', async (t) => {
  t.throws(() => detectConfig({ threat_intel: { sources: [{ format: 'list' }] } }), /exactly one of "path" and "url"/);
  t.throws(() => detectConfig({ threat_intel: { sources: [{ path: 'a', url: 'http://x/' }] } }), /exactly one/);
  t.throws(() => detectConfig({ threat_intel: { sources: [{ url: 'ftp://x/' }] } }), /http:\/\/ or https:\/\/ URL/);
});
