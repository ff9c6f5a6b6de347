// Hand-built frames shared by the decoder tests. `|` marks layer boundaries; comments give the
// fields. Addresses: 192.168.0.104 → 192.168.0.1, 2001:db8::1 → 2001:db8::2.

export const ETH_DST_SRC = '001122334455 66778899aabb';

/** IPv4 (20 B, DF, ttl 64, TCP, total 60) + TCP SYN|ECE|CWR 50000→80, window 29200, 20 B of options. */
export const IPV4_TCP_SYN_OPTS =
  '45 00 003c 1c46 4000 40 06 b1e6 c0a80068 c0a80001 |' +
  'c350 0050 00000001 00000000 a0 c2 7210 0000 0000 |' +
  '020405b4 0402080a 00000001 00000000 01030307';

/** IPv4 (total 45) + TCP PSH|ACK 50000→80, window 65535, no options, 5 payload bytes. */
export const IPV4_TCP_DATA =
  '45 00 002d 0001 0000 80 06 0000 c0a80068 c0a80001 |' +
  'c350 0050 00000002 00000003 50 18 ffff 0000 0000 |' +
  '68656c6c6f';

/** IPv4 (ttl 1, total 40) + UDP 1234→53 with 12 payload bytes. */
export const IPV4_UDP =
  '45 00 0028 0002 0000 01 11 0000 c0a80068 c0a80001 |' +
  '04d2 0035 0014 0000 |' +
  '000102030405060708090a0b';

/** IPv4 + ICMP echo request (type 8 code 0), 4 payload bytes: total 32. */
export const IPV4_ICMP_ECHO =
  '45 00 0020 0003 0000 40 01 0000 c0a80068 c0a80001 |' +
  '08 00 f7fe 0001 0001 |' +
  'deadbeef';

export const IPV6_SRC_DST = '20010db8000000000000000000000001 20010db8000000000000000000000002';

/**
 * IPv6 (payload 36, hop limit 64) → hop-by-hop (8) → destination options (8) → routing (8) → UDP
 * 1234→53 (8) + 4 payload bytes. ipTotalLen 76, ipHeaderLen 64.
 */
export const IPV6_EXT_UDP =
  '6000 0000 0024 00 40 ' + IPV6_SRC_DST + ' |' +
  '3c 00 0104 00000000 | 2b 00 0104 00000000 | 11 00 0000 00000000 |' +
  '04d2 0035 000c 0000 | deadbeef';

/** IPv6 → AH (payload len 4: (4+2)*4 = 24 B) → TCP ACK 443→50000, window 1024. ipHeaderLen 64. */
export const IPV6_AH_TCP =
  '6000 0000 002c 33 40 ' + IPV6_SRC_DST + ' |' +
  '06 04 0000 00001000 00000001 000000000000000000000000 |' +
  '01bb c350 00000001 00000001 50 10 0400 0000 0000';

/** IPv6 + ICMPv6 echo request (128/0), 4 payload bytes: payload length 12, hop limit 255. */
export const IPV6_ICMPV6_ECHO =
  '6000 0000 000c 3a ff ' + IPV6_SRC_DST + ' |' +
  '80 00 0000 0001 0002 | 01020304';

/** IPv6 → fragment header (offset 181, M=0, next UDP) + 8 data bytes: a non-first fragment. */
export const IPV6_FRAG_LATER =
  '6000 0000 0010 2c 40 ' + IPV6_SRC_DST + ' |' +
  '11 00 05a8 12345678 | 0001020304050607';

/** IPv6 → fragment header (offset 0, M=1, next UDP) → UDP 1234→53 + 8 data bytes: a first fragment. */
export const IPV6_FRAG_FIRST =
  '6000 0000 0018 2c 40 ' + IPV6_SRC_DST + ' |' +
  '11 00 0001 12345678 | 04d2 0035 0100 0000 | 0001020304050607';

/** Ethernet + IPv4 TCP SYN with options: the reference frame. */
export const ETH_IPV4_TCP_SYN = ETH_DST_SRC + ' 0800 |' + IPV4_TCP_SYN_OPTS;

// Builders for tunnel carriers: lengths are computed, checksums left 0 (nothing verifies them).

const hx = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** Bytes in a hex string written with spaces and `|`. */
export function hexLen(h: string): number {
  return h.replace(/[\s|]/g, '').length / 2;
}

/** IPv4 header (ttl 64, no options) carrying `body`; addresses as 8 hex digits (10.0.0.1 → 10.0.0.2 by default). */
export function ipv4(proto: number, body: string, src = '0a000001', dst = '0a000002'): string {
  return `45 00 ${hx(20 + hexLen(body), 2)} 0000 0000 40 ${hx(proto, 1)} 0000 ${src} ${dst} |${body}`;
}

/** IPv6 header (hop limit 64) carrying `body`; 2001:db8::a → 2001:db8::b by default. */
export function ipv6(next: number, body: string,
  src = '20010db800000000000000000000000a', dst = '20010db800000000000000000000000b'): string {
  return `6000 0000 ${hx(hexLen(body), 2)} ${hx(next, 1)} 40 ${src} ${dst} |${body}`;
}

/** UDP header carrying `body`. */
export function udp(srcPort: number, dstPort: number, body: string): string {
  return `${hx(srcPort, 2)} ${hx(dstPort, 2)} ${hx(8 + hexLen(body), 2)} 0000 |${body}`;
}
