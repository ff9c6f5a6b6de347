// One immutable snapshot of threat-intel indicators: addresses and prefixes, domain names (a name
// matches itself and every name below it), JA4 TLS client fingerprints. Built by the loader from
// all sources, then swapped in whole, so a detector never sees a half-loaded set.
import { isIP } from 'node:net';
import { PrefixMap } from '../prefix-set';

export type IndicatorKind = 'ip' | 'domain' | 'ja4';

export interface IndicatorMeta {
  /** the indicator as written in the source (address, prefix, domain or fingerprint) */
  value: string;
  kind: IndicatorKind;
  /** detect.threat_intel.sources[].name */
  source: string;
  /** STIX indicator id and name, when it came from STIX */
  stix_id?: string;
  name?: string;
}

const JA4_RE = /^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/i;
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** The kind of a bare indicator string, or undefined when it is none we can match. */
export function classify(value: string): IndicatorKind | undefined {
  const v = value.trim();
  const slash = v.indexOf('/');
  if (isIP(slash < 0 ? v : v.slice(0, slash))) return 'ip';
  if (JA4_RE.test(v)) return 'ja4';
  if (DOMAIN_RE.test(v.replace(/\.$/, '')) && v.includes('.')) return 'domain';
  return undefined;
}

/** Label counts from here on share one slot in IndicatorSet's label-count table. */
const MAX_LABELS = 127;

/** Dots + 1. */
function labelCount(name: string): number {
  let n = 1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 46) n++;
  return n;
}

/**
 * A hash of the label before `end` in `name`, ASCII letters folded to lower case; -1 when it holds
 * a non-ASCII character (toLowerCase might fold that differently: no shortcut then).
 */
function lastLabelHash(name: string, end: number): number {
  let h = 0x811c9dc5;
  for (let i = end - 1; i >= 0; i--) {
    let c = name.charCodeAt(i);
    if (c === 46) break;
    if (c >= 128) return -1;
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 1;
}

export class IndicatorSet {
  readonly ips = new PrefixMap<IndicatorMeta>();
  readonly domains = new Map<string, IndicatorMeta>();
  readonly ja4 = new Map<string, IndicatorMeta>();
  /** [k]: some domain indicator has k labels (k ≥ MAX_LABELS counted at MAX_LABELS), so a name's
   * suffixes are looked up only at the label counts some indicator has */
  private readonly domainLabels = new Uint8Array(MAX_LABELS + 1);
  /** hashes of the domain indicators' last labels: a name whose last label hashes elsewhere cannot
   * match (checked on the name's char codes, before any string is made) */
  private readonly lastLabels = new Set<number>();

  get size(): number {
    return this.ips.size + this.domains.size + this.ja4.size;
  }

  /** Adds one indicator; false when the value is not of its kind. */
  add(meta: IndicatorMeta): boolean {
    switch (meta.kind) {
      case 'ip':
        return this.ips.set(meta.value.trim(), meta);
      case 'domain': {
        const name = meta.value.trim().toLowerCase().replace(/\.$/, '');
        this.domains.set(name, meta);
        this.domainLabels[Math.min(MAX_LABELS, labelCount(name))] = 1;
        this.lastLabels.add(lastLabelHash(name, name.length));
        return true;
      }
      case 'ja4':
        this.ja4.set(meta.value.trim().toLowerCase(), meta);
        return true;
    }
  }

  matchIp(ip: string): IndicatorMeta | undefined {
    return this.ips.size === 0 ? undefined : this.ips.get(ip);
  }

  /** As matchIp, for an IPv4 address given as its 32-bit value (flow-keys.ts). */
  matchIpV4(ip: number): IndicatorMeta | undefined {
    return this.ips.size === 0 ? undefined : this.ips.getV4(ip);
  }

  /** `name` or its closest listed parent domain. */
  matchDomain(name: string): IndicatorMeta | undefined {
    if (this.domains.size === 0) return undefined;
    const h = lastLabelHash(name, name.endsWith('.') ? name.length - 1 : name.length);
    if (h >= 0 && !this.lastLabels.has(h)) return undefined;
    let n = name.toLowerCase();
    if (n.endsWith('.')) n = n.slice(0, -1);
    // suffixes from the longest, each one label shorter; only those with a listed label count are looked up
    let labels = labelCount(n);
    let start = 0;
    for (;;) {
      if (this.domainLabels[Math.min(MAX_LABELS, labels)] === 1) {
        const hit = this.domains.get(start === 0 ? n : n.slice(start));
        if (hit) return hit;
      }
      const dot = n.indexOf('.', start);
      if (dot < 0) return undefined;
      start = dot + 1;
      labels--;
    }
  }

  matchJa4(fp: string): IndicatorMeta | undefined {
    return this.ja4.size === 0 ? undefined : this.ja4.get(fp.toLowerCase());
  }
}
