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
