// The toolbar popup: turn checking on or off for the current site, see whether the server answers.
(async function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  // Only web pages can be checked (not chrome://, the extension's own pages or files).
  let host = '';
  try {
    const url = tab && tab.url ? new URL(tab.url) : null;
    host = url && (url.protocol === 'http:' || url.protocol === 'https:') ? url.host : '';
  } catch (_) {
    host = '';
  }
  const settings = await KefuSettings.load();
  const box = $('enabled');
  if (!host) {
    $('host').textContent = '此页面';
    box.disabled = true;
  } else {
    $('host').textContent = host;
    box.checked = KefuSettings.siteEnabled(settings, host);
  }
  box.addEventListener('change', async () => {
    const current = await KefuSettings.load();
    const site = KefuSettings.parseSite(host);
    let sites = current.sites.filter((s) => !KefuSettings.covers(s, host) || s === '*');
    if (box.checked && site && !sites.includes(site)) sites = [...sites, site];
    if (!box.checked) sites = sites.filter((s) => s !== '*');
    await KefuSettings.save({ sites });
  });
  $('options').addEventListener('click', (e) => {
    e.preventDefault();
    chrome.runtime.openOptionsPage();
  });
  chrome.runtime.sendMessage({ type: 'ready' }, (r) => {
    const el = $('server');
    if (r && r.ok) {
      el.textContent = `已连接 ${settings.server}：${r.result.rules} 条规则`;
      el.className = 'note ok';
    } else {
      el.textContent = (r && r.error) || '无法连接 kefu 服务';
      el.className = 'note error';
    }
  });
})();
