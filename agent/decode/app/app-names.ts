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

/** Every field of AppNames (the type checks that none is missing or misspelt). */
export const APP_NAME_KEYS: ReadonlyArray<keyof AppNames> = Object.keys({
  dnsQuery: 0, dnsQtype: 0, dnsRcode: 0, dnsAnswers: 0, tlsSni: 0, tlsAlpn: 0, tlsVersion: 0, ja4: 0,
  httpMethod: 0, httpHost: 0, httpUserAgent: 0, quicVersion: 0,
} satisfies Record<keyof AppNames, 0>) as Array<keyof AppNames>;
