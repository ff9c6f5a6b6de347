// STIX 2.1 import: indicators from a bundle ({"type":"bundle","objects":[...]}) or a single
// indicator object. Used: objects of type "indicator" whose pattern_type is "stix" (or absent), not
// revoked, and whose valid_until (if any) lies after `nowMs`. From the STIX pattern we take the
// comparisons we can match on flows — joined only by OR (an AND, FOLLOWEDBY or a qualifier would
// need more context than one flow, so such a pattern is rejected, counted, not half-matched):
//   [ipv4-addr:value = '1.2.3.4'], [ipv6-addr:value = ...], ISSUBSET '10.0.0.0/8' for prefixes,
//   [network-traffic:dst_ref.value = ...] / src_ref.value, [domain-name:value = 'evil.example'],
//   [url:value = 'https://evil.example/x'] (its host), and any object path containing "ja4"
//   ([network-traffic:extensions.'tls-ext'.ja4 = 't13d...'], [x-ja4:value = ...]).
// IN ('a', 'b') lists are expanded. Anything else in a pattern rejects the whole indicator.
import { classify, type IndicatorKind, type IndicatorMeta } from './indicators';
import type { ParsedIndicators } from './list-format';

interface StixObject {
  type?: unknown;
  id?: unknown;
  name?: unknown;
  pattern?: unknown;
  pattern_type?: unknown;
  revoked?: unknown;
  valid_until?: unknown;
  objects?: unknown;
}

const COMPARISON = /^\s*([a-z0-9-]+):([A-Za-z0-9_.'\-[\]*]+)\s+(=|IN|ISSUBSET)\s+('(?:[^'\\]|\\.)*'|\((?:\s*'(?:[^'\\]|\\.)*'\s*,?)+\))\s*$/;

/** Throws SyntaxError when the text is not JSON or not a STIX bundle/indicator. */
export function parseStix(text: string, source: string, nowMs: number): ParsedIndicators {
  const doc = JSON.parse(text) as StixObject;
  if (typeof doc !== 'object' || doc === null) throw new SyntaxError('not a STIX object');
  let objects: StixObject[];
  if (doc.type === 'bundle') {
    if (!Array.isArray(doc.objects)) throw new SyntaxError('STIX bundle without an "objects" array');
    objects = doc.objects as StixObject[];
  } else if (doc.type === 'indicator') objects = [doc];
  else throw new SyntaxError(`expected a STIX bundle or indicator, got type ${JSON.stringify(doc.type)}`);
  const indicators: IndicatorMeta[] = [];
  let rejected = 0;
  for (const o of objects) {
    if (typeof o !== 'object' || o === null || o.type !== 'indicator') continue;
    if (o.revoked === true || (o.pattern_type !== undefined && o.pattern_type !== 'stix') || typeof o.pattern !== 'string') {
      rejected++;
      continue;
    }
    if (typeof o.valid_until === 'string' && Date.parse(o.valid_until) <= nowMs) {
      rejected++;
      continue;
    }
    const values = patternValues(o.pattern);
    if (!values) {
      rejected++;
      continue;
    }
    for (const [kind, value] of values) {
      indicators.push({
        value, kind, source,
        stix_id: typeof o.id === 'string' ? o.id : undefined,
        name: typeof o.name === 'string' ? o.name : undefined,
      });
    }
  }
  return { indicators, rejected };
}

/** The matchable (kind, value) pairs of a STIX pattern, or undefined when it has anything else. */
export function patternValues(pattern: string): Array<[IndicatorKind, string]> | undefined {
  const out: Array<[IndicatorKind, string]> = [];
  for (const obs of splitOutsideQuotes(pattern.trim(), /^\s*OR\s+/)) {
    const m = /^\[(.*)\]$/s.exec(obs.trim());
    if (!m) return undefined;
    for (const cmp of splitOutsideQuotes(m[1], /^\s*OR\s+/)) {
      const c = COMPARISON.exec(cmp);
      if (!c) return undefined;
      const [, objectType, path, op, rhs] = c;
      const values = rhs.startsWith('(') ? [...rhs.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((x) => unquote(x[1])) : [unquote(rhs.slice(1, -1))];
      for (const v of values) {
        const pair = toIndicator(objectType, path, op, v);
        if (!pair) return undefined;
        out.push(pair);
      }
    }
  }
  return out.length ? out : undefined;
}

function toIndicator(objectType: string, path: string, op: string, v: string): [IndicatorKind, string] | undefined {
  if (path.toLowerCase().includes('ja4')) return classify(v) === 'ja4' ? ['ja4', v] : undefined;
  if ((objectType === 'ipv4-addr' || objectType === 'ipv6-addr') && path === 'value') return classify(v) === 'ip' ? ['ip', v] : undefined;
  if (objectType === 'network-traffic' && (path === 'dst_ref.value' || path === 'src_ref.value')) return classify(v) === 'ip' ? ['ip', v] : undefined;
  if (op === 'ISSUBSET') return undefined;
  if (objectType === 'domain-name' && path === 'value') return classify(v) === 'domain' ? ['domain', v] : undefined;
  if (objectType === 'url' && path === 'value') {
    let host: string;
    try {
      host = new URL(v).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return undefined;
    }
    const kind = classify(host);
    return kind === 'ip' || kind === 'domain' ? [kind, host] : undefined;
  }
  return undefined;
}

function unquote(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/**
 * Splits `s` at the separator `sep` (matched at a position) when outside quotes and brackets; returns
 * undefined-free parts. Any other top-level keyword (AND, FOLLOWEDBY, WITHIN…) stays in a part and
 * makes it fail to parse later.
 */
function splitOutsideQuotes(s: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
      continue;
    }
    if (c === "'") quoted = true;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const m = sep.exec(s.slice(i));
      if (m) {
        parts.push(s.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts;
}
