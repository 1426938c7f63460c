// The toolbar popup: turn checking on or off for the current site, see whether the server answers,
// and copy a phrase of the shop's library (快捷短语) to paste into any reply box.
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
  chrome.runtime.sendMessage({ type: 'phrases' }, (r) => {
    // No library, or a server that can't list it: the section stays hidden.
    if (!r || !r.ok || !r.result.scenes.length) return;
    const { scenes, phrases } = r.result;
    const select = $('scene');
    const list = $('phrase-list');
    const note = $('copied');
    for (const { scene, phrases: n } of scenes) {
      const option = document.createElement('option');
      option.value = scene;
      option.textContent = `${KefuApi.sceneLabel(scene)}（${n}）`;
      select.append(option);
    }
    const show = () => {
      list.replaceChildren();
      for (const p of phrases.filter((x) => x.scene === select.value)) {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.id = p.id;
        button.textContent = p.text;
        button.addEventListener('click', async () => {
          try {
            await navigator.clipboard.writeText(p.text);
            note.textContent = p.vars.length ? `已复制，粘贴后请填写：${p.vars.join('、')}` : '已复制';
            note.className = 'note ok';
          } catch (_) {
            note.textContent = '无法复制，请选中文字后手动复制';
            note.className = 'note error';
          }
        });
        li.append(button);
        list.append(li);
      }
    };
    select.addEventListener('change', show);
    show();
    $('phrases').hidden = false;
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
