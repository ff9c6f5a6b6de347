// HTTP/1.x requests: method, Host, User-Agent; header names in any case; bounded scan; cut lines.
import t from 'tap';
import { MAX_SCAN } from '../../../../agent/decode/app/http';
import { ascii, bytes, consistent, inspect } from './app-helpers';

const TCP = 6;
const req = (s: string) => bytes(ascii(s));

const GET = 'GET /index.html?q=1 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';

t.test('GET with Host and User-Agent', async (t) => {
  t.same(inspect(TCP, 50000, 80, req(GET)), {
    found: true, out: { httpMethod: 'GET', httpHost: 'www.example.com:8080', httpUserAgent: 'curl/8.5.0' },
  });
});

t.test('every method of the list, header names in any case, values trimmed, LF-only lines, any port', async (t) => {
  for (const m of ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']) {
    t.equal(inspect(TCP, 1, 8080, req(`${m} / HTTP/1.0\r\n\r\n`)).out.httpMethod, m);
  }
  const odd = 'POST /api HTTP/1.1\nuser-AGENT:\t Mozilla/5.0 (X11)  \nHOST:a.b\nhost: second.example\n\nbody';
  t.same(inspect(TCP, 1, 3128, req(odd)).out, { httpMethod: 'POST', httpUserAgent: 'Mozilla/5.0 (X11)', httpHost: 'a.b' });
  // Headers after the empty line are body.
  t.same(inspect(TCP, 1, 80, req('GET / HTTP/1.1\r\n\r\nHost: body.example\r\n')).out, { httpMethod: 'GET' });
});

t.test('not an HTTP/1.x request', async (t) => {
  for (const s of [
    'SSH-2.0-OpenSSH_9.6\r\n', 'GETX / HTTP/1.1\r\n', 'get / HTTP/1.1\r\n', 'GET / HTTP/2.0\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'GET /\r\n', 'HTTP/1.1 200 OK\r\nServer: x\r\n\r\n', 'BREW /pot HTTP/1.1\r\n', 'G',
  ]) {
    t.same(inspect(TCP, 1, 80, req(s)), { found: false, out: {} }, JSON.stringify(s));
  }
  t.same(inspect(TCP, 1, 80, bytes('00ff10')), { found: false, out: {} });
});

t.test(`only the first ${MAX_SCAN} bytes are looked at`, async (t) => {
  const filler = 'X-Pad: ' + 'p'.repeat(MAX_SCAN) + '\r\n';
  const late = `GET / HTTP/1.1\r\n${filler}Host: late.example\r\n\r\n`;
  t.same(inspect(TCP, 1, 80, req(late)).out, { httpMethod: 'GET' });
  const longLine = `GET /${'a'.repeat(MAX_SCAN)} HTTP/1.1\r\nHost: x\r\n\r\n`;
  t.equal(inspect(TCP, 1, 80, req(longLine)).found, false, 'request line longer than the scan');
});

t.test('cut at every length: the method once the request line is whole, headers once their line is', async (t) => {
  const b = req(GET);
  const full = inspect(TCP, 1, 80, b).out;
  const hostLineEnd = GET.indexOf('\r\nUser-Agent');
  let failures = 0;
  for (let len = 0; len <= b.length; len++) {
    let r;
    try { r = inspect(TCP, 1, 80, b, len); } catch (err) { failures++; t.fail(`threw at ${len}: ${String(err)}`); continue; }
    if (!consistent(r.out, full)) { failures++; t.fail(`at ${len}: ${JSON.stringify(r.out)}`); }
    if ((r.out.httpHost !== undefined) !== (len > hostLineEnd + 1)) { failures++; t.fail(`Host at ${len}`); }
  }
  t.equal(failures, 0, `${b.length + 1} lengths`);
});
