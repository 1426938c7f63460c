// The extension's service worker: the only part that talks to the kefu server, so pages' own
// Content-Security-Policy and CORS rules never get in the way.
importScripts('settings.js', 'kefu-api.js');

async function call(path, body) {
  const { server } = await KefuSettings.load();
  const base = KefuSettings.parseServer(server);
  if (!base) return { ok: false, error: `服务地址无效：${server}` };
  return KefuApi.call(base + path, body);
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (!message || typeof message !== 'object') return false;
  if (message.type === 'lint') {
    const body = { text: String(message.text), role: message.role === 'closing' ? 'closing' : 'reply' };
    call('/v1/lint', body).then(reply);
    return true;
  }
  if (message.type === 'phrases') {
    call('/v1/phrases').then(reply);
    return true;
  }
  if (message.type === 'ready') {
    call('/readyz').then(reply);
    return true;
  }
  return false;
});
