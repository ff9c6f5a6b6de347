// Application names seen in the first packets of a flow. Only these names leave the agent, never
// payload. One object per flow, created when the first name is found (not per packet).
export interface AppNames {
  dnsQuery?: string;          // first question name, lower case, no trailing dot
  dnsQtype?: number;
  dnsRcode?: number;          // from the first response
  dnsAnswers?: string[];      // A/AAAA addresses and CNAME/PTR targets of the first response (at most 8)
  tlsSni?: string;
  tlsAlpn?: string[];
  tlsVersion?: number;        // highest version offered by the ClientHello (supported_versions or legacy)
  ja4?: string;               // JA4-style ClientHello fingerprint (t/q prefix)
  httpMethod?: string;
  httpHost?: string;
  httpUserAgent?: string;
  quicVersion?: number;
}

/**
 * Moves what `from` has onto `to`, keeping what `to` already has (the first name seen wins), and clears
 * `from` by assignment (a `delete` would turn it into a slow dictionary object). Field by field: a loop
 * over the key names made every access a megamorphic keyed lookup, ~1 µs per packet that named something.
 */
export function moveNames(from: AppNames, to: AppNames): void {
  if (from.dnsQuery !== undefined) { to.dnsQuery ??= from.dnsQuery; from.dnsQuery = undefined; }
  if (from.dnsQtype !== undefined) { to.dnsQtype ??= from.dnsQtype; from.dnsQtype = undefined; }
  if (from.dnsRcode !== undefined) { to.dnsRcode ??= from.dnsRcode; from.dnsRcode = undefined; }
  if (from.dnsAnswers !== undefined) { to.dnsAnswers ??= from.dnsAnswers; from.dnsAnswers = undefined; }
  if (from.tlsSni !== undefined) { to.tlsSni ??= from.tlsSni; from.tlsSni = undefined; }
  if (from.tlsAlpn !== undefined) { to.tlsAlpn ??= from.tlsAlpn; from.tlsAlpn = undefined; }
  if (from.tlsVersion !== undefined) { to.tlsVersion ??= from.tlsVersion; from.tlsVersion = undefined; }
  if (from.ja4 !== undefined) { to.ja4 ??= from.ja4; from.ja4 = undefined; }
  if (from.httpMethod !== undefined) { to.httpMethod ??= from.httpMethod; from.httpMethod = undefined; }
  if (from.httpHost !== undefined) { to.httpHost ??= from.httpHost; from.httpHost = undefined; }
  if (from.httpUserAgent !== undefined) { to.httpUserAgent ??= from.httpUserAgent; from.httpUserAgent = undefined; }
  if (from.quicVersion !== undefined) { to.quicVersion ??= from.quicVersion; from.quicVersion = undefined; }
}
