// Plain indicator lists: one indicator per line — an IPv4/IPv6 address or prefix, a domain name, or
// a JA4 fingerprint (the kind is recognised from the text). Blank lines and text after '#' are
// ignored. A line that is none of these is counted as rejected and skipped.
import { classify, type IndicatorMeta } from './indicators';

export interface ParsedIndicators {
  indicators: IndicatorMeta[];
  /** entries we could not use (bad lines, unsupported STIX patterns, expired/revoked indicators) */
  rejected: number;
}

export function parseList(text: string, source: string): ParsedIndicators {
  const indicators: IndicatorMeta[] = [];
  let rejected = 0;
  for (const raw of text.split(/\r?\n/)) {
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (line === '') continue;
    const kind = classify(line);
    if (kind) indicators.push({ value: line, kind, source });
    else rejected++;
  }
  return { indicators, rejected };
}
