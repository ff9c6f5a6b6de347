// HTTP/1.x requests at the start of a TCP payload: request line `METHOD SP target SP HTTP/1.x`, then
// header lines up to the empty line. Method from a fixed list; Host and User-Agent (names compared
// case-insensitively, values trimmed of spaces and tabs). Only the first MAX_SCAN bytes of the segment
// are looked at, and only whole lines count: a header cut by the segment or the scan limit is not
// reported (its value could be cut too).
import type { AppNames } from './app-names';
import { latin1, latin1Lower } from './text';

/** Bytes of the segment looked at. */
export const MAX_SCAN = 2048;

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const METHOD_CODES = METHODS.map((m) => Array.from(m, (c) => c.charCodeAt(0)));
const HTTP_1 = Array.from('HTTP/1.', (c) => c.charCodeAt(0));
const HOST = Array.from('host', (c) => c.charCodeAt(0));
const USER_AGENT = Array.from('user-agent', (c) => c.charCodeAt(0));

/** Index into METHODS of the method buf[off..] starts with (followed by a space), or -1. */
function methodAt(buf: Uint8Array, off: number, end: number): number {
  const first = buf[off];
  for (let m = 0; m < METHOD_CODES.length; m++) {
    const code = METHOD_CODES[m];
    if (code[0] !== first || end - off <= code.length || buf[off + code.length] !== 0x20) continue;
    let i = 1;
    while (i < code.length && buf[off + i] === code[i]) i++;
    if (i === code.length) return m;
  }
  return -1;
}

/** True when buf[from..] starts with `text` exactly. */
function startsWith(buf: Uint8Array, from: number, text: number[]): boolean {
  for (let i = 0; i < text.length; i++) if (buf[from + i] !== text[i]) return false;
  return true;
}

/** True when buf[from..to) equals `name` ignoring ASCII case (name is lower case). */
function nameIs(buf: Uint8Array, from: number, to: number, name: number[]): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = buf[from + i];
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== name[i]) return false;
  }
  return true;
}

/** End of the line starting at p (index of its LF), or -1 when no LF before `end`. */
function lineEnd(buf: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) if (buf[i] === 0x0a) return i;
  return -1;
}

/** Parses an HTTP/1.x request at buf[off..end); true when it set something in `out`. */
export function parseHttpRequest(buf: Uint8Array, off: number, end: number, out: AppNames): boolean {
  if (end - off > MAX_SCAN) end = off + MAX_SCAN;
  const m = methodAt(buf, off, end);
  if (m < 0) return false;
  const first = lineEnd(buf, off, end);
  if (first < 0) return false;
  // The request line must end with " HTTP/1.x" (CR optional).
  let e = first > off && buf[first - 1] === 0x0d ? first - 1 : first;
  if (e - off < 9 || buf[e - 9] !== 0x20 || !startsWith(buf, e - 8, HTTP_1) || buf[e - 1] < 0x30 || buf[e - 1] > 0x39) return false;
  out.httpMethod = METHODS[m];
  let host = false;
  let userAgent = false;
  for (let p = first + 1; p < end;) {
    const lf = lineEnd(buf, p, end);
    if (lf < 0) break;                                   // a line cut by the segment or the scan limit
    e = lf > p && buf[lf - 1] === 0x0d ? lf - 1 : lf;
    if (e === p) break;                                  // the empty line: end of headers
    let colon = p;
    while (colon < e && buf[colon] !== 0x3a) colon++;
    if (colon < e) {
      const isHost = nameIs(buf, p, colon, HOST);
      if (isHost || nameIs(buf, p, colon, USER_AGENT)) {
        let v = colon + 1;
        let w = e;
        while (v < w && (buf[v] === 0x20 || buf[v] === 0x09)) v++;
        while (w > v && (buf[w - 1] === 0x20 || buf[w - 1] === 0x09)) w--;
        if (w > v && isHost && !host) { out.httpHost = latin1Lower(buf, v, w); host = true; }
        if (w > v && !isHost && !userAgent) { out.httpUserAgent = latin1(buf, v, w); userAgent = true; }
      }
    }
    p = lf + 1;
  }
  return true;
}
