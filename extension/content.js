// Content script: on the sites the user enabled, finds draft boxes (textarea and contenteditable)
// when they get the focus and underlines kefu's findings in them. It only reads the page; the
// text changes only when the user clicks a fix.
(function () {
  'use strict';
  if (globalThis.kefuContentLoaded) return;
  globalThis.kefuContentLoaded = true;

  let settings = KefuSettings.DEFAULTS;
  let enabled = false;
  const active = new Set();

  /** The draft box an event target belongs to: a writable textarea or an editing host. */
  function draftBox(target) {
    if (!(target instanceof Element)) return null;
    if (target instanceof HTMLTextAreaElement) {
      return target.readOnly || target.disabled ? null : target;
    }
    if (!target.isContentEditable) return null;
    let host = target;
    while (host.parentElement && host.parentElement.isContentEditable) host = host.parentElement;
    return host;
  }

  function lint(text) {
    return new Promise((resolve, reject) => {
      try {
        chrome.runtime.sendMessage({ type: 'lint', text }, (response) => {
          const err = chrome.runtime.lastError;
          if (err) reject(new Error(err.message));
          else if (!response) reject(new Error('kefu 扩展没有回答'));
          else if (response.ok) resolve(response.result);
          else reject(new Error(response.error));
        });
      } catch (_) {
        // The extension was reloaded or removed: this copy of the script is orphaned.
        shutdown();
        reject(new Error('kefu 扩展已更新，请刷新页面'));
      }
    });
  }

  function attach(el) {
    for (const hl of active) if (!hl.el.isConnected) active.delete(hl);
    const hl = KefuHighlight.attach(el, { lint, severities: settings.severities, badge: true });
    active.add(hl);
  }

  function shutdown() {
    enabled = false;
    for (const hl of active) hl.detach();
    active.clear();
  }

  function onFocus(event) {
    if (!enabled) return;
    const target = event.composedPath ? event.composedPath()[0] : event.target;
    const box = draftBox(target);
    if (box) attach(box);
  }

  /** The focused element, looking inside open shadow roots. */
  function focused() {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el;
  }

  async function apply() {
    try {
      settings = await KefuSettings.load();
    } catch (_) {
      shutdown();
      return;
    }
    enabled = KefuSettings.siteEnabled(settings, KefuSettings.pageHost(location));
    if (!enabled) {
      shutdown();
      return;
    }
    for (const hl of active) hl.setOptions({ severities: settings.severities });
    const box = draftBox(focused());
    if (box) attach(box);
  }

  document.addEventListener('focusin', onFocus, true);
  chrome.storage.onChanged.addListener((_changes, area) => {
    if (area === 'sync') apply();
  });
  apply();
})();
