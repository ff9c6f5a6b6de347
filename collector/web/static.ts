// The dashboard's files (public/: index.html, app.js, style.css), read once at start and served from
// memory with a strict Content-Security-Policy: scripts and styles from this origin only, fetch and
// WebSocket to this origin only, no framing.
import * as fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** public/ beside this file, or in the source tree when running from the dist/ build. */
function publicDir(): string {
  const here = path.join(__dirname, 'public');
  if (fs.existsSync(here)) return here;
  return path.resolve(__dirname, '..', '..', '..', 'collector', 'web', 'public');
}

export class StaticFiles {
  private readonly files = new Map<string, { body: Buffer; type: string }>();

  constructor(dir = publicDir()) {
    for (const name of fs.readdirSync(dir)) {
      const type = TYPES[path.extname(name)];
      if (type) this.files.set(`/${name}`, { body: fs.readFileSync(path.join(dir, name)), type });
    }
  }

  /** Serves `/` as index.html and `/static/<name>`; false when there is no such file. */
  serve(pathname: string, head: boolean, res: ServerResponse): boolean {
    const name = pathname === '/' ? '/index.html' : pathname.startsWith('/static/') ? pathname.slice('/static'.length) : undefined;
    const file = name === undefined ? undefined : this.files.get(name);
    if (!file) return false;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.body.length,
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    res.end(head ? undefined : file.body);
    return true;
  }
}
