// Agreement with Wireshark: every dev capture read with readCaptureFile + decodeFrame and compared,
// packet by packet, with the tshark TSV beside it (scripts/lib/tshark-compare.ts says what is
// compared; scripts/decode-agreement.ts prints the same comparison in full).
import t from 'tap';
import { join } from 'node:path';
import { compareWithTshark } from '../../../scripts/lib/tshark-compare';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');
const REQUIRED_AGREEMENT = 0.999;

t.test('every dev capture agrees with tshark', async (t) => {
  const r = await compareWithTshark(DEV);
  t.ok(r.files.length >= 200, `${r.files.length} captures`);
  for (const f of r.files) {
    if (f.differences.length > 0) {
      const d = f.differences[0];
      t.comment(`${f.file}: ${f.agreed}/${f.compared} agree; first difference frame ${d.frame} [${d.category}] ${d.detail}`);
    }
  }
  const share = r.agreed / r.compared;
  t.comment(`overall: ${r.agreed}/${r.compared} packets with an IP address agree (${(share * 100).toFixed(3)} %); ` +
    `${r.withPorts} of them with TCP/UDP ports compared; ${r.packets} frames read; ${r.extraIp} packets decoded as IP where tshark shows none`);
  t.equal(r.exceptions, 0, `no exception (${r.exceptionMessages.join('; ')})`);
  t.same(r.countMismatches, [], 'same frame count as tshark wherever tshark read the whole file');
  t.ok(share >= REQUIRED_AGREEMENT, `agreement ${(share * 100).toFixed(3)} % ≥ ${REQUIRED_AGREEMENT * 100} %`);
  t.ok(r.extraIp <= r.compared * 0.001, 'almost no IP where tshark sees none');
  // Tunnels and ICMP errors: decoded as such (inner / quoted tuples compared) and agreeing.
  const inner = new Map(r.files.map((f) => [f.file, f]));
  const check = (file: string, what: 'tunnelled' | 'quoted', n: number) => {
    const f = inner.get(file);
    t.ok(f && f[what] >= n && f.agreed === f.compared, `${file}: ${f?.[what]} ${what}, ${f?.agreed}/${f?.compared} agree`);
  };
  check('packetnet__vxlan.pcap', 'tunnelled', 1);
  check('packetnet__gre_custom_protocol.pcap', 'tunnelled', 1);           // ERSPAN II
  check('zeek__tunnels__gre-erspan3-dot1q.pcap', 'tunnelled', 2);         // ERSPAN III
  check('pcapplusplus__C__GrePackets.cap', 'tunnelled', 2);               // GRE with IPv4
  check('tcpdump__geneve-gcp.pcap', 'tunnelled', 1);
  check('tcpdump__gso-ipv6-vxlan-ipv4.pcap', 'tunnelled', 1);
  check('zeek__tunnels__6in4.pcap', 'tunnelled', 1);
  check('zeek__tunnels__6in6.pcap', 'tunnelled', 1);
  check('zeek__tunnels__gtp__gtp7_ipv6.pcap', 'tunnelled', 2);
  check('zeek__tunnels__gtp__gtp8_teredo.pcap', 'tunnelled', 10);         // GTP-U, then Teredo inside
  check('zeek__doc-plugin__vxlan-overlapping-http-get.pcap', 'tunnelled', 28);
  check('zeek__icmp__icmp-destunreach-udp.pcap', 'quoted', 1);
  check('zeek__icmp__icmp6-destunreach-ip6ext.pcap', 'quoted', 1);
  check('pcap4j__IcmpV6TimeExceededPacketTest.pcap', 'quoted', 1);
  check('zeek__smtp.pcap', 'quoted', 4);
});
