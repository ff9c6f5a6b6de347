// Community ID v1 (corelight/community-id-spec): one string per flow that Zeek, Suricata and Arkime
// compute the same way, so an analyst can pivot from our flow to their logs.
//   "1:" + base64(sha1(seed:2 ‖ saddr ‖ daddr ‖ proto:1 ‖ 0:1 ‖ sport:2 ‖ dport:2))
// with the endpoints ordered (smaller address, or equal addresses and smaller port, first). ICMP uses
// type and code as ports, the type mapped to its counterpart for request/reply pairs.
import { hash } from 'node:crypto';

const ICMP4_PAIRS: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17, 10: 9, 9: 10 };
const ICMP6_PAIRS: Record<number, number> = { 128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144 };

/** The hash input, rebuilt for every flow (one-shot hash() of a reused buffer: no Hash object per record). */
const scratch = Buffer.alloc(2 + 16 * 2 + 2 + 4);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * `srcPort`/`dstPort` for ICMP are the initiator's type and code. The spec's one-way case: a type with
 * no counterpart is hashed as sent (src→dst, ports type/code), without reordering.
 */
export function communityId(src: Uint8Array, dst: Uint8Array, protocol: number, srcPort: number, dstPort: number, seed = 0): string {
  let sa = src, da = dst, sp = srcPort, dp = dstPort;
  let oneWay = false;
  if (protocol === 1 || protocol === 58) {
    const pairs = protocol === 1 ? ICMP4_PAIRS : ICMP6_PAIRS;
    const peer = pairs[srcPort];
    if (peer === undefined) oneWay = true;
    else dp = peer;
  }
  if (!oneWay) {
    const c = compare(sa, da);
    if (c > 0 || (c === 0 && sp > dp)) {
      [sa, da] = [da, sa];
      [sp, dp] = [dp, sp];
    }
  }
  const ports = protocol === 6 || protocol === 17 || protocol === 132 || protocol === 1 || protocol === 58;
  const buf = scratch.subarray(0, 2 + sa.length * 2 + 2 + (ports ? 4 : 0));
  let o = 0;
  buf.writeUInt16BE(seed, o); o += 2;
  buf.set(sa, o); o += sa.length;
  buf.set(da, o); o += da.length;
  buf[o++] = protocol;
  buf[o++] = 0;
  if (ports) {
    buf.writeUInt16BE(sp, o); o += 2;
    buf.writeUInt16BE(dp, o);
  }
  return `1:${hash('sha1', buf, 'base64')}`;
}
