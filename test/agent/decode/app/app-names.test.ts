import t from 'tap';
import { moveNames, type AppNames } from '../../../../agent/decode/app/app-names';

// Every field, so that a field added to AppNames and forgotten in moveNames fails here (the type
// requires all of them).
const ALL: Required<AppNames> = {
  dnsQuery: 'example.org', dnsQtype: 1, dnsRcode: 0, dnsAnswers: ['192.0.2.1'], tlsSni: 'example.org',
  tlsAlpn: ['h2'], tlsVersion: 0x0304, ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1', httpMethod: 'GET',
  httpHost: 'example.org', httpUserAgent: 'curl/8', quicVersion: 1,
};

t.test('moveNames moves every field onto an empty flow and leaves the scratch empty', async (t) => {
  const from: AppNames = { ...ALL };
  const to: AppNames = {};
  moveNames(from, to);
  t.same(to, ALL);
  for (const k of Object.keys(ALL) as Array<keyof AppNames>) t.equal(from[k], undefined, `${k} cleared`);
});

t.test('the first name seen wins; fields the flow lacks are still added', async (t) => {
  const to: AppNames = { dnsQuery: 'first.example', dnsQtype: 28 };
  moveNames({ dnsQuery: 'second.example', dnsQtype: 1, dnsRcode: 3, dnsAnswers: [] }, to);
  t.same(to, { dnsQuery: 'first.example', dnsQtype: 28, dnsRcode: 3, dnsAnswers: [] });
});
