// Stands in for `require("./build/Release/pcap_binding")` inside the single-executable agent (the
// bundler swaps it in; see build.ts). A single executable's own `require` loads only Node's built-in
// modules, so the libpcap addon is loaded from the folder of the executable through a real `require`
// made for that folder. It loads on first use: reading a capture file needs no libpcap at all, and a
// live capture that cannot load it fails with a message naming the file and the reason.
'use strict';
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');

const ADDON_NAME = 'pcap_binding.node';
// process.execPath is the resolved executable (/proc/self/exe), not the /usr/bin symlink.
const addonPath = join(dirname(process.execPath), ADDON_NAME);
let addon = null;

function load() {
  if (addon === null) {
    try {
      addon = createRequire(process.execPath)(addonPath);
    } catch (err) {
      // A missing file, or a library it needs (libpcap.so.0.8) that the dynamic loader cannot find.
      const why = err.code === 'MODULE_NOT_FOUND' ? 'no such file (it ships beside the executable)' : err.message;
      throw new Error(`cannot load the libpcap addon ${addonPath}: ${why}`);
    }
  }
  return addon;
}

module.exports = {
  // Called with `new` by pcap.js; returning an object from a constructor hands back that object.
  PcapSession: function PcapSession() { return new (load().PcapSession)(); },
  default_device: () => load().default_device(),
  findalldevs: () => load().findalldevs(),
  // pcap.js reads this once at load time, before anyone asked for a capture.
  lib_version: () => { try { return load().lib_version(); } catch { return 'libpcap addon not loaded'; } },
};
