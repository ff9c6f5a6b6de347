// Goalkeeper dashboard: plain DOM, no build step. Every value from the collector is put in the page as
// text (textContent / attribute), never as HTML: alert fields can carry names an attacker chose.
'use strict';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const PROTOS = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };
const FEED_MAX = 200;
const REFRESH_MS = 5000;

const $ = (sel) => document.querySelector(sel);
const SVG_NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  return e;
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtTime(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return '–';
  return new Date(secs * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

function fmtAgo(secs, now) {
  const d = Math.max(0, Math.round(now - secs));
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  return `${Math.round(d / 86400)} d ago`;
}

function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function fmtNum(n, digits = 0) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
}

const badge = (cls, text) => el('span', { class: `badge ${cls}` }, text);
const endpoint = (ip, port) => (ip === null ? '–' : port === null || port === undefined ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

// ---- API ---------------------------------------------------------------------------------------

class LoginRequired extends Error {}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...options });
  if (res.status === 401) throw new LoginRequired();
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

// ---- views -------------------------------------------------------------------------------------

const views = ['login-view', 'overview-view', 'alert-view'];
function show(id) {
  for (const v of views) $(`#${v}`).hidden = v !== id;
  $('#logout').hidden = id === 'login-view';
}

let me = null;
let refreshTimer = null;

async function start() {
  try {
    me = await api('/api/me');
  } catch (err) {
    if (err instanceof LoginRequired) return showLogin();
    throw err;
  }
  $('#who').textContent = me.name;
  $('#collector').textContent = `${me.collector_id} · ${me.version}`;
  route();
}

function showLogin() {
  me = null;
  feed.stop();
  clearInterval(refreshTimer);
  show('login-view');
  $('#token').focus();
}

function route() {
  if (!me) return showLogin();
  const m = /^#\/alerts\/(\d+)$/.exec(location.hash);
  if (m) {
    clearInterval(refreshTimer);
    show('alert-view');
    loadAlert(Number(m[1])).catch(onError);
    return;
  }
  show('overview-view');
  feed.start();
  refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refresh, REFRESH_MS);
}

function onError(err) {
  if (err instanceof LoginRequired) showLogin();
  else console.error(err);
}

function refresh() {
  Promise.all([loadAgents(), loadTraffic(), loadTalkers(), loadDetectors()]).catch(onError);
}

// ---- agents ------------------------------------------------------------------------------------

async function loadAgents() {
  const { now, agents } = await api('/api/agents');
  const body = $('#agents tbody');
  body.replaceChildren(...agents.map((a) => el('tr', { 'data-agent': a.agent_id },
    el('td', {}, a.agent_id),
    el('td', {}, badge(`st-${a.status}`, a.status)),
    el('td', { title: fmtTime(a.last_seen) }, fmtAgo(a.last_seen, now)),
    el('td', {}, a.hostname ?? '–'),
    el('td', {}, a.source ?? '–'),
    el('td', { class: 'num' }, `${fmtNum(a.capture_rate_pps, 1)} pkt/s`),
    el('td', { class: 'num', title: `flows dropped: ${fmtNum(a.flows_dropped)}` }, fmtNum(a.packets_dropped)),
    el('td', { class: 'num' }, fmtNum(a.flows_active)),
    el('td', {}, a.version ?? '–'),
  )));
  if (agents.length === 0) body.append(el('tr', {}, el('td', { colspan: 9, class: 'empty' }, 'No agent has connected yet.')));
}

// ---- charts ------------------------------------------------------------------------------------

function emptyChart(box, text) {
  box.replaceChildren(el('p', { class: 'empty' }, text));
}

async function loadTraffic() {
  const t = await api('/api/traffic?window_secs=3600&buckets=60');
  const box = $('#traffic-chart');
  $('#traffic-window').textContent = t.series.length ? `${fmtTime(t.from)} – ${fmtTime(t.to)}, ${t.bucket_secs} s buckets (flow time)` : '';
  if (t.series.length === 0) return emptyChart(box, 'No flows stored yet.');
  const W = 600, H = 220, L = 56, R = 8, T = 10, B = 24;
  const n = Math.ceil((t.to - t.from) / t.bucket_secs);
  const byBucket = new Map(t.series.map((p) => [Math.round((p.ts - t.from) / t.bucket_secs), p.bytes]));
  const max = Math.max(...t.series.map((p) => p.bytes), 1);
  const x = (i) => L + (i / Math.max(1, n - 1)) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  let d = `M ${x(0)} ${y(0)}`;
  for (let i = 0; i < n; i++) d += ` L ${x(i).toFixed(1)} ${y(byBucket.get(i) ?? 0).toFixed(1)}`;
  d += ` L ${x(n - 1)} ${y(0)} Z`;
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'bytes per bucket over time' });
  s.append(
    svg('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) }),
    svg('line', { class: 'axis', x1: L, y1: T, x2: L, y2: y(0) }),
    svg('path', { class: 'area', d }),
    svg('text', { x: L - 4, y: T + 10, 'text-anchor': 'end' }, fmtBytes(max)),
    svg('text', { x: L - 4, y: y(0), 'text-anchor': 'end' }, '0'),
    svg('text', { x: L, y: H - 6 }, fmtTime(t.from).slice(11, 19)),
    svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, fmtTime(t.to).slice(11, 19)),
  );
  box.replaceChildren(s);
}

async function loadTalkers() {
  const { talkers } = await api('/api/top-talkers?window_secs=3600&limit=10');
  const box = $('#talkers-chart');
  if (talkers.length === 0) return emptyChart(box, 'No flows stored yet.');
  const W = 600, rowH = 21, L = 150, R = 70;
  const H = talkers.length * rowH + 4;
  const max = Math.max(...talkers.map((r) => r.bytes), 1);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'top talkers by bytes', style: `height:${H}px` });
  talkers.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = Math.max(1, (r.bytes / max) * (W - L - R));
    const bar = svg('rect', { class: 'bar', x: L, y, width: w.toFixed(1), height: rowH - 6, rx: 2, 'data-ip': r.ip });
    bar.append(svg('title', {}, `${r.ip}: ${fmtBytes(r.bytes)}, ${fmtNum(r.packets)} packets, ${fmtNum(r.flows)} flows`));
    s.append(
      svg('text', { class: 'label', x: L - 6, y: y + rowH - 10, 'text-anchor': 'end' }, r.ip),
      bar,
      svg('text', { x: L + w + 4, y: y + rowH - 10 }, fmtBytes(r.bytes)),
    );
  });
  box.replaceChildren(s);
}

// ---- detectors ---------------------------------------------------------------------------------

const kv = (obj) => (obj ? Object.entries(obj).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join('  ') : '–');

async function loadDetectors() {
  const [d, audit] = await Promise.all([api('/api/detectors'), api('/api/audit')]);
  $('#detectors tbody').replaceChildren(...d.detectors.map((x) => el('tr', { 'data-detector': x.name },
    el('td', {}, x.name), el('td', { class: 'muted' }, kv(x.config)), el('td', {}, kv(x.state)), el('td', { class: 'num' }, fmtNum(x.failures)))));
  $('#categories tbody').replaceChildren(...d.alerts_by_category.map((c) => el('tr', {},
    el('td', {}, c.category), el('td', { class: 'num' }, fmtNum(c.count)), el('td', {}, fmtTime(c.last_ts)))));
  $('#audit').textContent = audit.ok
    ? `Audit chain intact: ${audit.entries} entries, last hash ${audit.last_hash.slice(0, 16)}…`
    : `Audit chain BROKEN at entry ${audit.broken.seq}: ${audit.broken.reason}`;
}

// ---- live alert feed ---------------------------------------------------------------------------

function filterQuery() {
  const q = new URLSearchParams();
  const sev = $('#f-severity').value;
  if (sev !== 'low') q.set('min_severity', sev);
  for (const [id, name] of [['#f-category', 'category'], ['#f-agent', 'agent'], ['#f-host', 'host']]) {
    const v = $(id).value.trim();
    if (v) q.set(name, v);
  }
  return q;
}

function alertRow(a, fresh) {
  return el('tr', { class: `clickable${fresh ? ' fresh' : ''}`, 'data-alert-id': a.id, onclick: () => { location.hash = `#/alerts/${a.id}`; } },
    el('td', { class: 'num' }, a.id),
    el('td', {}, fmtTime(a.ts)),
    el('td', {}, badge(`sev-${a.severity}`, a.severity)),
    el('td', {}, a.category),
    el('td', {}, a.agent_id),
    el('td', {}, a.src_ip ?? '–'),
    el('td', {}, endpoint(a.dst_ip, a.dst_port)),
    el('td', { class: 'num' }, `${fmtNum(a.score, 2)} / ${fmtNum(a.threshold, 2)}`),
    el('td', {}, a.attack_id ?? '–'),
  );
}

const feed = {
  ws: null,
  lastId: 0,
  generation: 0,
  retryMs: 1000,
  timer: null,

  stop() {
    this.generation++;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.ws = null;
  },

  /** (Re)load the newest alerts matching the filters, then follow live from the newest id. */
  async start() {
    this.stop();
    const gen = this.generation;
    const q = filterQuery();
    $('#stix-link').href = `/api/stix?${q}`;
    q.set('limit', '50');
    let alerts;
    try {
      ({ alerts } = await api(`/api/alerts?${q}`));
    } catch (err) {
      return onError(err);
    }
    if (gen !== this.generation) return;
    $('#feed tbody').replaceChildren(...alerts.map((a) => alertRow(a, false)));
    this.lastId = alerts.length ? alerts[0].id : 0;
    this.connect(gen);
  },

  connect(gen) {
    const q = filterQuery();
    q.set('since', String(this.lastId));
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/alerts?${q}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 1000;
      $('#feed-status').textContent = 'live';
    };
    ws.onmessage = (ev) => {
      const a = JSON.parse(ev.data);
      if (a.id <= this.lastId) return;
      this.lastId = a.id;
      const body = $('#feed tbody');
      body.prepend(alertRow(a, true));
      while (body.children.length > FEED_MAX) body.lastChild.remove();
    };
    ws.onclose = () => {
      if (gen !== this.generation) return;
      $('#feed-status').textContent = `disconnected, retrying in ${this.retryMs / 1000} s`;
      this.timer = setTimeout(() => {
        // a refused upgrade looks like a close: check the session before trying again
        api('/api/me').then(() => this.connect(gen), onError);
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30000);
    };
  },
};

// ---- one alert ---------------------------------------------------------------------------------

async function loadAlert(id) {
  const { alert: a, flows } = await api(`/api/alerts/${id}`);
  $('#alert-title').replaceChildren(badge(`sev-${a.severity}`, a.severity), ` Alert #${a.id}: ${a.category}`);
  const rows = [
    ['Raised', fmtTime(a.ts)], ['Category', a.category], ['Severity', a.severity], ['ATT&CK technique', a.attack_id ?? '–'],
    ['Agent', a.agent_id], ['Source', a.src_ip ?? '–'], ['Destination', endpoint(a.dst_ip, a.dst_port)],
    ['Window (flow time)', `${fmtTime(a.first_ts)} – ${fmtTime(a.last_ts)}`], ['Score / threshold', `${a.score} / ${a.threshold}`],
  ];
  $('#alert-details').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('#alert-evidence').textContent = JSON.stringify(a.evidence, null, 2);
  $('#alert-flow-count').textContent = `${flows.length} stored flow records`;
  const body = $('#alert-flows tbody');
  body.replaceChildren(...flows.map((f) => el('tr', { 'data-flow-id': f.flow_id },
    el('td', { class: 'num' }, f.flow_id),
    el('td', {}, fmtTime(f.first_ts)),
    el('td', { class: 'num' }, `${((f.last_ts - f.first_ts) * 1000).toFixed(1)} ms`),
    el('td', {}, endpoint(f.src_ip, f.src_port)),
    el('td', {}, endpoint(f.dst_ip, f.dst_port)),
    el('td', {}, PROTOS[f.proto] ?? f.proto),
    el('td', { class: 'num' }, `${f.fwd_packets} / ${f.bwd_packets}`),
    el('td', { class: 'num' }, `${fmtBytes(f.fwd_bytes)} / ${fmtBytes(f.bwd_bytes)}`),
    el('td', {}, f.conn_state ?? '–'),
    el('td', {}, f.end_reason),
    el('td', { class: 'muted' }, f.community_id ?? '–'),
  )));
  if (flows.length === 0) body.append(el('tr', {}, el('td', { colspan: 11, class: 'empty' }, 'The evidence names no stored flow.')));
}

// ---- wiring ------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('#login-error').textContent = '';
    const res = await fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: $('#token').value }),
    });
    if (!res.ok) {
      $('#login-error').textContent = res.status === 401 ? 'Unknown token.' : `Login failed (HTTP ${res.status}).`;
      return;
    }
    $('#token').value = '';
    start().catch(onError);
  });
  $('#logout').addEventListener('click', async () => {
    await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' });
    showLogin();
  });
  $('#filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    feed.start();
  });
  window.addEventListener('hashchange', route);
  start().catch(onError);
});
