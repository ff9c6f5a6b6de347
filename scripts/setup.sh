#!/usr/bin/env bash
# Installs what Goalkeeper needs on Debian 12 (run as root, Node 20 already present), then the npm
# dependencies. Safe to run again. Used by the README's two commands and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# libpcap-dev: headers for the `pcap` native module; g++/make/python3: node-gyp builds it and better-sqlite3;
# iproute2 + iputils-ping: the live-capture test builds network namespaces and pings across them.
# chromium: the dashboard test drives it headless through playwright-core (which downloads no browser);
# openssl: the TLS tests make their CA, collector and client certificates at test time (also syslog over TLS);
# systemd: systemd-analyze verifies the agent's unit in the packaging test (dpkg-deb, unshare,
# nsenter, setpriv and script come with Debian's essential dpkg, util-linux and bsdutils);
# nftables: the transport network test drops packets at random between agent and collector (numgen random).
# postgresql: the PostgreSQL store's tests start a private server of their own (initdb + pg_ctl from
# /usr/lib/postgresql/15/bin, as the postgres user, on a Unix socket in a temp folder: scripts/lib/postgres-server.ts);
# nats-server: JetStream (-js) for the cluster mode tests and bench:scale (each starts its own on a free port).
for pkg in libpcap-dev g++ make python3 iproute2 iputils-ping chromium openssl systemd nftables postgresql nats-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node -e 'const [maj] = process.versions.node.split("."); if (+maj < 20) { console.error(`setup: Node ${process.versions.node} found, Node 20 or newer is needed`); process.exit(1); }'

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The compiled build (dist/) is what production and the benchmarks run: esbuild's on-the-fly CommonJS
# (tsx) turns every imported constant into a getter call, measurably slower in the per-packet path.
npm run -s build
