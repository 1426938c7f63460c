// The extension's settings (chrome.storage.sync) and the rule deciding which sites it runs on.
// Loaded by the service worker, the content script, the options page and the popup.
(function (root) {
  'use strict';

  const DEFAULTS = Object.freeze({
    server: 'http://127.0.0.1:8080',
    sites: [],
    severities: ['error', 'warning', 'info'],
  });

  async function load() {
    const stored = await chrome.storage.sync.get(Object.keys(DEFAULTS));
    return { ...DEFAULTS, ...stored };
  }

  function save(settings) {
    return chrome.storage.sync.set(settings);
  }

  /**
   * One site entry: `example.com` (and its subdomains), `example.com:8080`, `127.0.0.1`, or `*`.
   * Returns the normalised entry, or null if it cannot be one.
   */
  function parseSite(entry) {
    let s = String(entry).trim().toLowerCase();
    if (!s) return null;
    if (s === '*') return s;
    if (s.includes('://')) {
      try {
        s = new URL(s).host;
      } catch (_) {
        return null;
      }
    }
    s = s.replace(/\/.*$/, '').replace(/^\*\./, '');
    return /^[a-z0-9.\-\[\]:]+$/.test(s) ? s : null;
  }

  /** Whether an entry covers a host (`name` or `name:port`). */
  function covers(entry, host) {
    if (entry === '*') return true;
    const hostname = host.replace(/:\d+$/, '');
    if (entry.includes(':') && !entry.startsWith('[')) return entry === host;
    return hostname === entry || hostname.endsWith(`.${entry}`);
  }

  function siteEnabled(settings, host) {
    return settings.sites.some((entry) => covers(entry, host));
  }

  /** The host the extension is judged by: the page's, or its top page's for an editor frame. */
  function pageHost(loc) {
    if (loc.host) return loc.host;
    const origins = loc.ancestorOrigins;
    if (origins && origins.length) {
      try {
        return new URL(origins[origins.length - 1]).host;
      } catch (_) {
        return '';
      }
    }
    return '';
  }

  /** The server's base URL, checked: http(s) only, no trailing slash. */
  function parseServer(value) {
    let url;
    try {
      url = new URL(String(value).trim());
    } catch (_) {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin + url.pathname.replace(/\/+$/, '');
  }

  root.KefuSettings = { DEFAULTS, load, save, parseSite, covers, siteEnabled, pageHost, parseServer };
})(globalThis);
