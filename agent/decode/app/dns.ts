// DNS messages (RFC 1035) over UDP and TCP port 53 and mDNS (RFC 6762, UDP 5353): the first question's
// name and type, the response code, and the A/AAAA addresses and CNAME/PTR targets of the answer
// section. Names follow compression pointers; a pointer chain longer than MAX_POINTERS or a name longer
// than 255 bytes is garbage. Everything is bounded by the bytes given; a message cut short yields what
// was complete before the cut.
import type { AppNames } from './app-names';
import { addressText } from './text';

export const DNS_PORT = 53;
export const MDNS_PORT = 5353;

/** Answers kept from one response. */
export const MAX_DNS_ANSWERS = 8;
/** Compression pointers followed in one name (a loop guard; real names need a few). */
const MAX_POINTERS = 16;
const MAX_NAME_BYTES = 255;
/** More questions than this is not a DNS message we believe (real ones have 1; mDNS a few). */
const MAX_QUESTIONS = 64;

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_PTR = 12;
const TYPE_AAAA = 28;

/** Reusable holder for a name read by readName (one per call of parseDns: never per packet). */
interface NameOut { text: string }

/**
 * A name's text is assembled here as bytes and decoded once: built a character at a time, each name
 * cost a string per byte, and DNS names were the largest allocation of the offline meter's capture
 * thread. Room for the longest name with every byte escaped (\DDD) and a dot per label.
 */
const nameBytes = Buffer.alloc(4 * MAX_NAME_BYTES + 2);
const BACKSLASH = 0x5c;

/**
 * Reads the name at buf[off] of the message starting at buf[msg] (pointers are relative to msg);
 * returns the offset after it (after the first pointer when compressed), or -1 for garbage or a cut.
 * With `out`, the name is built into out.text: labels
 * lower-cased, joined by '.', no trailing dot ('.' for the root); bytes outside printable ASCII and
 * '.' or '\' inside a label are escaped as \DDD / \. as in zone files.
 */
function readName(buf: Uint8Array, msg: number, off: number, end: number, out: NameOut | null): number {
  const t = nameBytes;
  let p = off;
  let after = -1;
  let pointers = 0;
  let total = 0;
  let n = 0;
  for (;;) {
    if (p >= end) return -1;
    const len = buf[p];
    if (len === 0) {
      if (after < 0) after = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end || ++pointers > MAX_POINTERS) return -1;
      if (after < 0) after = p + 2;
      p = msg + (((len & 0x3f) << 8) | buf[p + 1]);
      continue;
    }
    if (kind !== 0) return -1;                           // 0x40 / 0x80: extended label types, obsolete
    total += len + 1;
    if (total > MAX_NAME_BYTES || p + 1 + len > end) return -1;
    if (out !== null) {
      if (n > 0) t[n++] = 0x2e;
      for (let i = p + 1; i <= p + len; i++) {
        const c = buf[i];
        if (c >= 0x41 && c <= 0x5a) t[n++] = c + 0x20;
        else if (c === 0x2e || c === BACKSLASH) { t[n++] = BACKSLASH; t[n++] = c; }
        else if (c > 0x20 && c < 0x7f) t[n++] = c;
        else {
          t[n++] = BACKSLASH;
          t[n++] = 0x30 + ((c / 100) | 0);
          t[n++] = 0x30 + (((c / 10) | 0) % 10);
          t[n++] = 0x30 + (c % 10);
        }
      }
    }
    p += 1 + len;
  }
  if (out !== null) out.text = n > 0 ? t.toString('latin1', 0, n) : '.';
  return after;
}

/**
 * Parses a DNS message at buf[off..end) (for TCP, after its 2-byte length). Returns true when it added
 * something to `out`: the first question (dnsQuery, dnsQtype), for a response dnsRcode and up to
 * MAX_DNS_ANSWERS dnsAnswers. False for anything that does not look like DNS.
 */
export function parseDns(buf: Uint8Array, off: number, end: number, out: AppNames): boolean {
  if (end - off < 12) return false;
  const flags = (buf[off + 2] << 8) | buf[off + 3];
  const opcode = (flags >> 11) & 0x0f;
  if (opcode > 6 || opcode === 3) return false;          // 0 query … 6 DSO; 3 is unassigned
  const qd = (buf[off + 4] << 8) | buf[off + 5];
  const an = (buf[off + 6] << 8) | buf[off + 7];
  if (qd > MAX_QUESTIONS) return false;
  const response = (flags & 0x8000) !== 0;
  let added = false;
  let p = off + 12;
  const name: NameOut = { text: '' };
  for (let q = 0; q < qd; q++) {
    const after = readName(buf, off, p, end, q === 0 ? name : null);
    if (after < 0 || end - after < 4) return added;
    if (q === 0) {
      out.dnsQuery = name.text;
      out.dnsQtype = (buf[after] << 8) | buf[after + 1];
      added = true;
    }
    p = after + 4;
  }
  if (!response) return added;
  out.dnsRcode = flags & 0x0f;
  added = true;
  let answers: string[] | null = null;
  for (let a = 0; a < an; a++) {
    const after = readName(buf, off, p, end, null);
    if (after < 0 || end - after < 10) break;
    const type = (buf[after] << 8) | buf[after + 1];
    const rdlen = (buf[after + 8] << 8) | buf[after + 9];
    const rdata = after + 10;
    if (end - rdata < rdlen) break;
    let text: string | null = null;
    if ((type === TYPE_A && rdlen === 4) || (type === TYPE_AAAA && rdlen === 16)) text = addressText(buf, rdata, rdlen);
    else if (type === TYPE_CNAME || type === TYPE_PTR) {
      const nameEnd = readName(buf, off, rdata, end, name);
      if (nameEnd >= 0 && nameEnd <= rdata + rdlen) text = name.text;
    }
    if (text !== null) {
      (answers ??= []).push(text);
      if (answers.length >= MAX_DNS_ANSWERS) break;
    }
    p = rdata + rdlen;
  }
  if (answers !== null) out.dnsAnswers = answers;
  return added;
}
