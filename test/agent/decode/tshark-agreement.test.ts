// Agreement with Wireshark: every dev capture read with readCaptureFile + decodeFrame and compared,
// packet by packet, with the tshark TSV beside it (addresses, protocol, TCP/UDP ports; see
// ../shared/pcaps/dev/README.md and tshark-compare.ts for how cells are read).
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../../../agent/capture/file-source';
import { decodeFrame } from '../../../agent/decode/decode';
import { DecodeEvent, PacketMeta } from '../../../agent/decode/packet-meta';
import { AgentError, AgentErrorCode } from '../../../agent/errors';
import { type Decoded, disagreement, readTsv, snapshot } from './tshark-compare';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');
const REQUIRED_AGREEMENT = 0.99;

interface ManifestRow { format: string; tsharkExit: string; nonPacketFrames: Set<number> }

function readManifest(): Map<string, ManifestRow> {
  const lines = readFileSync(join(DEV, 'MANIFEST.tsv'), 'utf8').split('\n');
  const cols = lines[0].split('\t');
  const at = (name: string) => cols.indexOf(name);
  const out = new Map<string, ManifestRow>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const c = line.split('\t');
    const np = c[at('tshark_nonpacket_frames')];
    out.set(c[at('file')], {
      format: c[at('format')],
      tsharkExit: c[at('tshark_exit')],
      nonPacketFrames: new Set(np ? np.split(',').map(Number) : []),
    });
  }
  return out;
}

t.test('every dev capture agrees with tshark', async (t) => {
  const manifest = readManifest();
  const files = readdirSync(DEV).filter((f) => f.endsWith('.tshark.tsv')).map((f) => f.slice(0, -'.tshark.tsv'.length)).sort();
  t.ok(files.length >= 200, `${files.length} captures`);
  const meta = new PacketMeta();
  let ipRows = 0;
  let agreeing = 0;
  let extraIp = 0;
  let frames = 0;
  let withPorts = 0;
  const perFile: Array<{ file: string; n: number; bad: number; first: string }> = [];

  for (const file of files) {
    const m = manifest.get(file);
    if (!m) { t.fail(`${file} missing from MANIFEST.tsv`); continue; }
    const decoded: Decoded[] = [];
    try {
      await readCaptureFile(join(DEV, file), (linkType, buf, start, caplen) => {
        decodeFrame(linkType, buf, start, caplen, meta);
        decoded.push(snapshot(meta));
      });
    } catch (err) {
      const allowed = m.tsharkExit === '2' || m.format === 'pcap-modified';
      t.ok(allowed && err instanceof AgentError && err.code === AgentErrorCode.FILE_FORMAT,
        `${file}: only a clean FILE_FORMAT for a file tshark refuses (${String(err)})`);
      continue;
    }
    frames += decoded.length;
    const rows = readTsv(join(DEV, file + '.tshark.tsv')).filter((r) => !m.nonPacketFrames.has(r.frame));
    if (m.tsharkExit === '0') t.equal(decoded.length, rows.length, `${file}: packet count`);

    let n = 0;
    let bad = 0;
    let first = '';
    for (let i = 0; i < rows.length && i < decoded.length; i++) {
      const r = rows[i];
      const d = decoded[i];
      if (!r.ipSrc && !r.ipv6Src) {
        if (d.ipVersion !== 0 && (d.event === DecodeEvent.OK || d.event === DecodeEvent.TRUNCATED_L4)) extraIp++;
        continue;
      }
      n++;
      if (d.l4Valid && !d.isFragment && (d.protocol === 6 || d.protocol === 17)) withPorts++;
      const why = disagreement(d, r);
      if (why) { bad++; if (!first) first = `frame ${r.frame}: ${why}`; }
    }
    ipRows += n;
    agreeing += n - bad;
    if (bad) perFile.push({ file, n, bad, first });
  }

  perFile.sort((a, b) => b.bad / b.n - a.bad / a.n);
  for (const p of perFile) t.comment(`${p.file}: ${p.n - p.bad}/${p.n} agree; first difference ${p.first}`);
  const share = agreeing / ipRows;
  t.comment(`overall: ${agreeing}/${ipRows} packets with an IP address agree (${(share * 100).toFixed(3)} %); ` +
    `${withPorts} of them with TCP/UDP ports compared; ${frames} frames read; ${extraIp} packets decoded as IP where tshark shows none`);
  t.ok(share >= REQUIRED_AGREEMENT, `agreement ${(share * 100).toFixed(3)} % ≥ ${REQUIRED_AGREEMENT * 100} %`);
  t.ok(extraIp <= ipRows * 0.001, 'almost no IP where tshark sees none');
});
