// STIX 2.1 export: the bundle's structure against the spec's required properties, patterns in the
// STIX pattern grammar's comparison form, deterministic ids, and the `stix-export` command on a real store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { alertsToStixBundle, parseSince, type StixBundle } from '../../../collector/alerts';
import { uuidv5 } from '../../../collector/alerts/uuid5';
import { validateConfig } from '../../../collector/config';
import { startCollector } from '../../../collector/main';
import type { Alert, NewAlert } from '../../../collector/model';
import { silentLogger } from '../../../collector/obs';
import { startTs } from '../../helpers/processes';
import { rawConfig, tempDir } from '../helpers';

const UUID5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** [type:value = 'literal'] with the grammar's string escaping (\' and \\). */
const PATTERN = /^\[(ipv4-addr|ipv6-addr|domain-name):value = '((?:[^'\\]|\\['\\])*)'\]$/;

const REQUIRED: Record<string, string[]> = {
  identity: ['name', 'created', 'modified'],
  indicator: ['created', 'modified', 'pattern', 'pattern_type', 'valid_from', 'created_by_ref'],
  'observed-data': ['created', 'modified', 'first_observed', 'last_observed', 'number_observed', 'object_refs'],
  sighting: ['created', 'modified', 'sighting_of_ref'],
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'domain-name': ['value'],
  'network-traffic': ['protocols'],
};

/** Every check a STIX 2.1 consumer makes on what we produce; returns the problems found. */
function problems(b: StixBundle): string[] {
  const out: string[] = [];
  if (b.type !== 'bundle' || !/^bundle--/.test(b.id) || !UUID5.test(b.id.slice(8))) out.push('bundle type/id');
  const ids = new Set(b.objects.map((o) => o.id));
  if (ids.size !== b.objects.length) out.push('duplicate ids');
  for (const o of b.objects) {
    const [type, uuid] = o.id.split('--');
    if (type !== o.type || !UUID5.test(uuid ?? '')) out.push(`${o.id}: id must be ${o.type}--<uuid v5>`);
    if (o.spec_version !== '2.1') out.push(`${o.id}: spec_version`);
    const req = REQUIRED[o.type];
    if (!req) out.push(`${o.id}: unexpected type`);
    for (const k of req ?? []) if (o[k] === undefined) out.push(`${o.id}: missing ${k}`);
    for (const k of ['created', 'modified', 'valid_from', 'first_observed', 'last_observed', 'first_seen', 'last_seen', 'start', 'end']) {
      if (o[k] !== undefined && !TIMESTAMP.test(String(o[k]))) out.push(`${o.id}: ${k} is not a STIX timestamp`);
    }
    for (const [k, v] of Object.entries(o)) {
      const refs = k.endsWith('_ref') ? [v] : k.endsWith('_refs') ? (v as unknown[]) : [];
      for (const r of refs) if (!ids.has(String(r))) out.push(`${o.id}: ${k} → ${String(r)} not in the bundle`);
    }
    if (o.type === 'indicator') {
      if (o.pattern_type !== 'stix' || !PATTERN.test(String(o.pattern))) out.push(`${o.id}: pattern ${String(o.pattern)}`);
      if (!Array.isArray(o.indicator_types) || !(o.indicator_types as string[]).every((x) => ['anomalous-activity', 'malicious-activity'].includes(x))) out.push(`${o.id}: indicator_types`);
    }
    if (o.type === 'observed-data') {
      const n = o.number_observed as number;
      if (!Number.isInteger(n) || n < 1 || n > 999_999_999) out.push(`${o.id}: number_observed`);
      if (String(o.last_observed) < String(o.first_observed)) out.push(`${o.id}: last_observed before first_observed`);
      if (!(o.object_refs as string[]).length) out.push(`${o.id}: empty object_refs`);
    }
    if (o.type === 'sighting' && !String(o.sighting_of_ref).startsWith('indicator--')) out.push(`${o.id}: sighting_of_ref`);
  }
  return out;
}

function alert(id: number, over: Partial<Alert> = {}): Alert {
  return {
    id, ts: 1_700_000_100 + id, category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1',
    src_ip: '172.16.0.9', dst_ip: '10.0.0.20', dst_port: null, first_ts: 1_700_000_000, last_ts: 1_700_000_060,
    score: 6, threshold: 5, evidence: { flow_count: 6, flow_ids: [1, 2] }, ...over,
  };
}

const producer = { name: 'Campus A SOC', identityClass: 'organization', collectorId: 'collector-a' };

t.test('uuidv5 matches the RFC test vector', async (t) => {
  // RFC 9562 appendix A.4: www.example.com in the DNS namespace
  t.equal(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

t.test('bundle: indicators, sightings, observed-data and the producer identity, all well formed', async (t) => {
  const alerts = [
    alert(1),
    alert(2, { dst_ip: '10.0.0.21', severity: 'high' }), // same scanner: same indicator, second sighting
    alert(3, { category: 'threat_intel', src_ip: '10.0.0.5', dst_ip: '203.0.113.7', dst_port: 443, attack_id: null }),
    alert(4, { src_ip: '2001:db8::66', dst_ip: '2001:db8::1', evidence: {} }),
    alert(5, { category: 'dns_tunnel', evidence: { domain: 'exfil.example.org', flow_count: 40 } }),
  ];
  const b = alertsToStixBundle(alerts, producer);
  t.same(problems(b), []);
  const of = (type: string): Array<Record<string, unknown>> => b.objects.filter((o) => o.type === type);
  t.equal(of('identity').length, 1);
  t.match(of('identity')[0], { name: 'Campus A SOC', identity_class: 'organization' });
  t.same(of('indicator').map((o) => o.pattern).sort(), [
    "[domain-name:value = 'exfil.example.org']",
    "[ipv4-addr:value = '172.16.0.9']",
    "[ipv4-addr:value = '203.0.113.7']",
    "[ipv6-addr:value = '2001:db8::66']",
  ]);
  const scanner = of('indicator').find((o) => String(o.pattern).includes('172.16.0.9'))!;
  t.same(scanner.indicator_types, ['anomalous-activity']);
  t.match(scanner, { external_references: [{ source_name: 'mitre-attack', external_id: 'T1046' }], valid_from: '2023-11-14T22:13:20.000Z' });
  t.equal(of('sighting').length, 5);
  t.equal(of('sighting').filter((s) => s.sighting_of_ref === scanner.id).length, 2, 'two alerts, one indicator');
  t.equal(of('observed-data').length, 5);
  const od = of('observed-data')[0];
  t.match(od, { number_observed: 6, first_observed: '2023-11-14T22:13:20.000Z', last_observed: '2023-11-14T22:14:20.000Z' });
  t.equal(of('network-traffic').length, 4, 'alerts 1 and 5 share src, dst and start: one SCO');
  t.same(of('ipv4-addr').find((o) => o.value === '172.16.0.9')!.id, `ipv4-addr--${uuidv5('{"value":"172.16.0.9"}', '00abedb4-aa42-466c-9c01-fed23315a9b7')}`, 'SCO id per STIX 2.1 §2.9');
  t.same(alertsToStixBundle(alerts, producer), b, 'deterministic');
  t.not(alertsToStixBundle(alerts, { ...producer, collectorId: 'collector-b' }).objects[0].id, b.objects[0].id, 'ids depend on the producer');
});

t.test('parseSince: RFC 3339, unix seconds, ages; nonsense refused', async (t) => {
  t.equal(parseSince('2023-11-14T22:13:20Z'), 1_700_000_000);
  t.equal(parseSince('1700000000'), 1_700_000_000);
  t.equal(parseSince('24h', 100_000), 100_000 - 86400);
  t.equal(parseSince('yesterday'), undefined);
});

t.test('stix-export command on a real store: --since and --min-severity select alerts', async (t) => {
  const dir = tempDir(t);
  const raw = { ...rawConfig(path.join(dir, 'gk.sqlite')), stix: { producer_name: 'Campus A SOC' } };
  const cfgPath = path.join(dir, 'collector.json');
  fs.writeFileSync(cfgPath, JSON.stringify(raw));
  const c = await startCollector(validateConfig(raw, dir), { log: silentLogger });
  const mk = (i: number, severity: NewAlert['severity']): NewAlert => ({
    category: 'port_scan', severity, attack_id: 'T1046', agent_id: 'gw1', src_ip: `172.16.1.${i}`, dst_ip: '10.0.0.1', dst_port: null,
    first_ts: 1_700_000_000, last_ts: 1_700_000_001, score: 5, threshold: 5, evidence: { flow_count: 5 },
  });
  for (let i = 1; i <= 4; i++) await c.hub.raise(mk(i, i % 2 ? 'medium' : 'critical'));
  await c.close();
  const run = async (...args: string[]): Promise<StixBundle> => {
    const p = startTs(['collector/main.ts', 'stix-export', '--config', cfgPath, ...args]);
    t.equal(await p.exited, 0, p.stderr.join('\n'));
    return JSON.parse(p.stdout.join('\n')) as StixBundle;
  };
  const all = await run('--since', '1h');
  t.same(problems(all), []);
  t.equal(all.objects.filter((o) => o.type === 'sighting').length, 4);
  t.equal(all.objects.find((o) => o.type === 'identity')!.name, 'Campus A SOC');
  const crit = await run('--min-severity', 'critical');
  t.same(crit.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern).sort(), ["[ipv4-addr:value = '172.16.1.2']", "[ipv4-addr:value = '172.16.1.4']"]);
  t.same(crit.objects.filter((o) => o.type === 'indicator').map((o) => o.indicator_types), [['malicious-activity'], ['malicious-activity']]);
  const none = await run('--since', '2999-01-01T00:00:00Z');
  t.same(none.objects.map((o) => o.type), ['identity']);
  const again = await run('--since', '1h');
  t.same(again, all, 'the same export twice is the same bundle');
  const bad = startTs(['collector/main.ts', 'stix-export', '--config', cfgPath, '--since', 'soon']);
  t.equal(await bad.exited, 2);
});
