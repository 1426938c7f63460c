// The options page: server URL, the sites to check on, which severities to show.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const severities = () => [...document.querySelectorAll('input[name="severity"]')];

  async function show() {
    const s = await KefuSettings.load();
    $('server').value = s.server;
    $('sites').value = s.sites.join('\n');
    for (const box of severities()) box.checked = s.severities.includes(box.value);
  }

  function readSites() {
    const good = [];
    const bad = [];
    for (const line of $('sites').value.split('\n')) {
      if (!line.trim()) continue;
      const site = KefuSettings.parseSite(line);
      if (site) {
        if (!good.includes(site)) good.push(site);
      } else {
        bad.push(line.trim());
      }
    }
    return { good, bad };
  }

  $('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const server = KefuSettings.parseServer($('server').value);
    if (!server) {
      $('saved').textContent = '服务地址无效：请填写 http:// 或 https:// 开头的地址';
      $('saved').className = 'note error';
      return;
    }
    const sites = readSites();
    if (sites.bad.length) {
      $('sites-status').textContent = `无法识别：${sites.bad.join('、')}`;
      $('sites-status').className = 'note error';
      return;
    }
    $('sites-status').textContent = '';
    const chosen = severities().filter((b) => b.checked).map((b) => b.value);
    await KefuSettings.save({ server, sites: sites.good, severities: chosen });
    $('sites').value = sites.good.join('\n');
    $('saved').textContent = '已保存';
    $('saved').className = 'note ok';
  });

  $('test').addEventListener('click', async () => {
    const server = KefuSettings.parseServer($('server').value);
    const status = $('server-status');
    if (!server) {
      status.textContent = '服务地址无效';
      status.className = 'note error';
      return;
    }
    status.textContent = '连接中…';
    status.className = 'note';
    const answer = await KefuApi.call(`${server}/readyz`, undefined, 5000);
    if (answer.ok) {
      status.textContent = `已连接：${answer.result.rules} 条规则`;
      status.className = 'note ok';
    } else {
      status.textContent = `${server}：${answer.error}`;
      status.className = 'note error';
    }
  });

  show();
})();
