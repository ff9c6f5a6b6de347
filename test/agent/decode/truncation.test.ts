// Every valid frame cut at every length: never a throw, and the event names the layer the cut is in.
// Once the transport header's fixed part is captured the decode is complete and equals the full one,
// except for what depends on the captured bytes: capturedPayloadLen, and TCP options, which are either
// absent or right (never a wrong value) and, once seen, stay seen at every longer length.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { type MetaView, RESET_VIEW, decodeBytes, hex, view } from './helpers';
import {
  ETH_DST_SRC, ETH_IPV4_TCP_SYN, IPV4_ICMP_ECHO, IPV4_TCP_SYN_OPTS, IPV4_UDP, IPV6_AH_TCP, IPV6_EXT_UDP,
  IPV6_ICMPV6_ECHO,
} from './frames';

const L2 = DecodeEvent.TRUNCATED_L2;
const L3 = DecodeEvent.TRUNCATED_L3;
const L4 = DecodeEvent.TRUNCATED_L4;
const OK = DecodeEvent.OK;

interface Case {
  name: string;
  linkType: number;
  frame: string;
  /** [first length at which the event stops applying, event] in increasing order; the rest is OK. */
  below: Array<[number, DecodeEvent]>;
}

const cases: Case[] = [
  { name: 'Ethernet IPv4 TCP+options', linkType: LinkType.ETHERNET, frame: ETH_IPV4_TCP_SYN, below: [[14, L2], [34, L3], [54, L4]] },
  { name: 'Ethernet 802.1Q IPv4 UDP', linkType: LinkType.ETHERNET, frame: ETH_DST_SRC + ' 8100 0064 0800' + IPV4_UDP, below: [[18, L2], [38, L3], [46, L4]] },
  { name: 'Ethernet QinQ IPv4 TCP', linkType: LinkType.ETHERNET, frame: ETH_DST_SRC + ' 88a8 00c8 8100 0064 0800' + IPV4_TCP_SYN_OPTS, below: [[22, L2], [42, L3], [62, L4]] },
  { name: 'Ethernet IPv6 ext headers UDP', linkType: LinkType.ETHERNET, frame: ETH_DST_SRC + ' 86dd' + IPV6_EXT_UDP, below: [[14, L2], [78, L3], [86, L4]] },
  { name: 'Ethernet MPLS IPv4 TCP', linkType: LinkType.ETHERNET, frame: ETH_DST_SRC + ' 8847 00010040 00011140' + IPV4_TCP_SYN_OPTS, below: [[22, L2], [42, L3], [62, L4]] },
  { name: 'Ethernet PPPoE IPv4 TCP', linkType: LinkType.ETHERNET, frame: ETH_DST_SRC + ' 8864 1100 1234 003e 0021' + IPV4_TCP_SYN_OPTS, below: [[22, L2], [42, L3], [62, L4]] },
  { name: 'SLL IPv4 ICMP', linkType: LinkType.LINUX_SLL, frame: '0000 0001 0006 0011223344550000 0800' + IPV4_ICMP_ECHO, below: [[16, L2], [36, L3], [44, L4]] },
  { name: 'SLL2 IPv6 ICMPv6', linkType: LinkType.LINUX_SLL2, frame: '86dd 0000 00000002 0001 00 06 0011223344550000' + IPV6_ICMPV6_ECHO, below: [[20, L2], [60, L3], [68, L4]] },
  { name: 'NULL IPv6 AH TCP', linkType: LinkType.NULL, frame: '1e000000' + IPV6_AH_TCP, below: [[4, L2], [68, L3], [88, L4]] },
  { name: 'raw IPv4 TCP', linkType: LinkType.RAW, frame: IPV4_TCP_SYN_OPTS, below: [[20, L3], [40, L4]] },
  { name: 'PPP IPv4 UDP', linkType: LinkType.PPP, frame: 'ff03 0021' + IPV4_UDP, below: [[4, L2], [24, L3], [32, L4]] },
];

const OPTION_FIELDS = ['tcpMss', 'tcpWscale', 'tcpSackOk', 'tcpTimestamps'] as const;

/**
 * Bit set of the TCP option fields that are present in `got`, or null when one has a value other than
 * absent or the full decode's, or one seen at a shorter length is gone.
 */
function optionsSeen(got: MetaView, full: MetaView, _len: number, prev: number): number | null {
  let seen = 0;
  OPTION_FIELDS.forEach((f, i) => {
    if (got[f] === full[f] && got[f] !== RESET_VIEW[f]) seen |= 1 << i;
    else if (got[f] !== RESET_VIEW[f]) seen |= 1 << 8;
  });
  if ((seen & (1 << 8)) !== 0 || (prev & ~seen) !== 0) return null;
  return seen;
}

for (const c of cases) {
  t.test(`${c.name}: cut at every length`, async (t) => {
    const bytes = hex(c.frame);
    const full = view(decodeBytes(c.linkType, bytes));
    t.equal(full.event, OK, 'the whole frame decodes');
    t.equal(full.l4Valid, true);
    let failures = 0;
    let prevOptions = 0;
    for (let len = 0; len <= bytes.length; len++) {
      let want: DecodeEvent = OK;
      for (const [limit, ev] of c.below) if (len < limit) { want = ev; break; }
      let got;
      try {
        got = view(decodeBytes(c.linkType, bytes, len));
      } catch (err) {
        t.fail(`threw at length ${len}: ${String(err)}`);
        continue;
      }
      if (got.event !== want) { failures++; t.equal(got.event, want, `event at length ${len}`); }
      if (want === OK) {
        const captured = Math.max(0, Math.min(full.payloadLen, len - full.payloadOffset));
        if (got.capturedPayloadLen !== captured) { failures++; t.equal(got.capturedPayloadLen, captured, `capturedPayloadLen at length ${len}`); }
        const seen = optionsSeen(got, full, len, prevOptions);
        if (seen === null) { failures++; t.fail(`TCP options at length ${len}: ${JSON.stringify(got)}`); continue; }
        prevOptions = seen;
        const same = { ...got, capturedPayloadLen: full.capturedPayloadLen, tcpMss: full.tcpMss, tcpWscale: full.tcpWscale,
          tcpSackOk: full.tcpSackOk, tcpTimestamps: full.tcpTimestamps };
        if (JSON.stringify(same) !== JSON.stringify(full)) { failures++; t.same(got, full, `complete decode at length ${len}`); }
      } else if (got.l4Valid) { failures++; t.fail(`l4Valid at length ${len} with event ${got.event}`); }
    }
    t.equal(failures, 0, `all ${bytes.length + 1} lengths as expected`);
  });
}
