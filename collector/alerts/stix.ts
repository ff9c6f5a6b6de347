// Alerts as a STIX 2.1 bundle, so one SOC can hand its findings to another (TAXII servers, MISP,
// OpenCTI read it). Per alert:
//   indicator      the remote address behind the alert, as a pattern [ipv4-addr:value = '…'] (or
//                  ipv6-addr, or domain-name when the evidence names a domain); one per address, shared
//                  by every alert about it
//   observed-data  what was seen: the addresses and the network-traffic between them, the alert's time
//                  window, number_observed = the flows counted in the evidence
//   sighting       "this indicator was seen here": sighting_of_ref → indicator, observed_data_refs →
//                  observed-data, where_sighted_refs → the producer's identity
// plus the SCOs the observed-data refers to and one identity (the producer), which every SDO names in
// created_by_ref.
//
// Ids are UUIDv5, so exporting the same alerts twice gives the same ids: SCOs by the spec's own rule
// (§2.9: namespace 00abedb4-…, name = canonical JSON of the ID-contributing properties), SDOs from
// Goalkeeper's namespace and (producer, what). An indicator's id depends only on its pattern and the
// producer, so a receiver merges the sightings of one address from several exports.
import { isIPv6 } from 'node:net';
import { canonicalJson } from '../audit/canonical';
import type { Alert } from '../model';
import type { AlertFilter, Store } from '../store';
import { uuidv5 } from './uuid5';

/** STIX 2.1 §2.9: the namespace for deterministic SCO ids. */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** Goalkeeper's namespace for the SDO/SRO ids it derives. */
export const GOALKEEPER_NAMESPACE = '5b0b4e36-5a3e-4f0e-9d54-2c1a7d6c9e10';

/**
 * Which side of an alert is the remote party an indicator should name. Scans, floods and brute force
 * come FROM the source; beaconing, exfiltration, DNS tunnelling and threat-intel hits go TO the
 * destination (the source is the campus host). Other categories: the source.
 */
const REMOTE_SIDE: Record<string, 'src' | 'dst'> = {
  beaconing: 'dst',
  exfiltration: 'dst',
  dns_tunnel: 'dst',
  dns_tunneling: 'dst',
  threat_intel: 'dst',
};

export interface StixProducer {
  name: string;
  identityClass: string;
  /** the collector's id: names the producer in derived ids */
  collectorId: string;
  /** the identity's `created` (constant across exports: the collector's first recorded start) */
  sinceSecs?: number;
}

export type StixObject = Record<string, unknown> & { type: string; id: string };

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

function stixTime(secs: number): string {
  return new Date(Math.round(secs * 1000)).toISOString();
}

/** A STIX pattern string literal: backslash and quote escaped. */
function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function addressSco(ip: string): StixObject {
  const type = isIPv6(ip) ? 'ipv6-addr' : 'ipv4-addr';
  return { type, spec_version: '2.1', id: `${type}--${uuidv5(canonicalJson({ value: ip }), STIX_SCO_NAMESPACE)}`, value: ip };
}

function domainOf(a: Alert): string | undefined {
  const d = a.evidence.domain ?? a.evidence.query_name;
  return typeof d === 'string' && /^[A-Za-z0-9._-]{1,253}$/.test(d) ? d : undefined;
}

/** The indicator pattern for an alert, or undefined when it names no remote party. */
export function indicatorPattern(a: Alert): { pattern: string; value: string; type: string } | undefined {
  const domain = domainOf(a);
  if (domain) return { pattern: `[domain-name:value = ${literal(domain)}]`, value: domain, type: 'domain-name' };
  const ip = (REMOTE_SIDE[a.category] ?? 'src') === 'dst' ? a.dst_ip ?? a.src_ip : a.src_ip ?? a.dst_ip;
  if (!ip) return undefined;
  const type = isIPv6(ip) ? 'ipv6-addr' : 'ipv4-addr';
  return { pattern: `[${type}:value = ${literal(ip)}]`, value: ip, type };
}

export function alertsToStixBundle(alerts: readonly Alert[], producer: StixProducer, nowSecs = Date.now() / 1000): StixBundle {
  const ns = (what: string): string => uuidv5(`${producer.collectorId}\u0000${what}`, GOALKEEPER_NAMESPACE);
  const byId = new Map<string, StixObject>();
  const put = (o: StixObject): void => void byId.set(o.id, o);
  const firstTs = producer.sinceSecs ?? (alerts.length ? Math.min(...alerts.map((a) => a.ts)) : nowSecs);
  const identity: StixObject = {
    type: 'identity', spec_version: '2.1', id: `identity--${ns('identity')}`,
    created: stixTime(firstTs), modified: stixTime(firstTs),
    name: producer.name, identity_class: producer.identityClass,
    description: `Goalkeeper network sensor collector ${producer.collectorId}`,
  };
  put(identity);
  const indicators = new Map<string, StixObject>();
  for (const a of alerts) {
    const ind = indicatorPattern(a);
    const created = stixTime(a.ts);
    const refs: string[] = [];
    let src: StixObject | undefined;
    let dst: StixObject | undefined;
    if (a.src_ip) put((src = addressSco(a.src_ip)));
    if (a.dst_ip) put((dst = addressSco(a.dst_ip)));
    if (src) refs.push(src.id);
    if (dst) refs.push(dst.id);
    if (src && dst) {
      const protocols = [src.type === 'ipv6-addr' ? 'ipv6' : 'ipv4'];
      const contributing: Record<string, unknown> = { src_ref: src.id, dst_ref: dst.id, protocols, start: stixTime(a.first_ts) };
      if (a.dst_port !== null) contributing.dst_port = a.dst_port;
      const traffic: StixObject = { type: 'network-traffic', spec_version: '2.1', id: `network-traffic--${uuidv5(canonicalJson(contributing), STIX_SCO_NAMESPACE)}`, ...contributing, end: stixTime(a.last_ts) };
      put(traffic);
      refs.push(traffic.id);
    }
    if (ind?.type === 'domain-name') {
      const d: StixObject = { type: 'domain-name', spec_version: '2.1', id: `domain-name--${uuidv5(canonicalJson({ value: ind.value }), STIX_SCO_NAMESPACE)}`, value: ind.value };
      put(d);
      refs.push(d.id);
    }
    if (refs.length === 0 || !ind) continue; // nothing observable to share
    const flowCount = Number(a.evidence.flow_count);
    const observed: StixObject = {
      type: 'observed-data', spec_version: '2.1', id: `observed-data--${ns(`observed-data:${a.id}`)}`,
      created_by_ref: identity.id, created, modified: created,
      first_observed: stixTime(a.first_ts), last_observed: stixTime(Math.max(a.first_ts, a.last_ts)),
      number_observed: Number.isInteger(flowCount) && flowCount >= 1 && flowCount <= 999_999_999 ? flowCount : 1,
      object_refs: refs,
    };
    put(observed);
    let indicator = indicators.get(ind.pattern);
    if (!indicator) {
      indicator = {
        type: 'indicator', spec_version: '2.1', id: `indicator--${ns(`indicator:${ind.pattern}`)}`,
        created_by_ref: identity.id, created, modified: created,
        name: `${ind.value} (${a.category})`,
        description: `Seen by Goalkeeper as the remote party of ${a.category} alerts.`,
        indicator_types: [a.severity === 'high' || a.severity === 'critical' ? 'malicious-activity' : 'anomalous-activity'],
        pattern: ind.pattern, pattern_type: 'stix', pattern_version: '2.1',
        valid_from: stixTime(a.first_ts),
        labels: [a.category],
      };
      if (a.attack_id) {
        indicator.external_references = [{ source_name: 'mitre-attack', external_id: a.attack_id, url: `https://attack.mitre.org/techniques/${a.attack_id.replace('.', '/')}/` }];
      }
      indicators.set(ind.pattern, indicator);
      put(indicator);
    } else {
      // Later alerts about the same address widen the indicator (modified is the latest alert's time).
      if (created > String(indicator.modified)) indicator.modified = created;
      if (stixTime(a.first_ts) < String(indicator.valid_from)) indicator.valid_from = stixTime(a.first_ts);
      const labels = indicator.labels as string[];
      if (!labels.includes(a.category)) labels.push(a.category);
    }
    put({
      type: 'sighting', spec_version: '2.1', id: `sighting--${ns(`sighting:${a.id}`)}`,
      created_by_ref: identity.id, created, modified: created,
      first_seen: stixTime(a.first_ts), last_seen: stixTime(Math.max(a.first_ts, a.last_ts)), count: 1,
      sighting_of_ref: indicator.id, observed_data_refs: [observed.id], where_sighted_refs: [identity.id],
      external_references: [{ source_name: 'goalkeeper', external_id: `alert-${a.id}`, description: `${a.category} ${a.severity} score ${a.score}/${a.threshold} seen by ${a.agent_id}` }],
    });
  }
  const objects = [...byId.values()];
  return { type: 'bundle', id: `bundle--${uuidv5(objects.map((o) => o.id).sort().join(','), GOALKEEPER_NAMESPACE)}`, objects };
}

/**
 * `--since` / `?since=`: an RFC 3339 time, unix seconds, or an age like 30m, 24h, 7d. Returns seconds
 * since the epoch, or undefined when the text is none of these.
 */
export function parseSince(s: string, nowSecs = Date.now() / 1000): number | undefined {
  const age = /^(\d{1,9})([smhd])$/.exec(s);
  if (age) return nowSecs - Number(age[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[age[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d{1,12}(\.\d+)?$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

export interface StixExportOptions {
  sinceTs?: number;
  filter?: AlertFilter;
  /** most alerts in one bundle (the newest are kept) */
  limit: number;
}

/** Reads the alerts from the store (oldest first) and builds the bundle. */
export async function exportStix(store: Store, producer: StixProducer, opts: StixExportOptions): Promise<StixBundle> {
  const alerts = (await store.queryAlerts({ sinceTs: opts.sinceTs, filter: opts.filter, limit: opts.limit })).reverse();
  const first = await store.auditEntries(0, 1);
  return alertsToStixBundle(alerts, { ...producer, sinceSecs: producer.sinceSecs ?? first[0]?.ts });
}
