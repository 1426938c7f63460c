// The extension's service worker: the only part that talks to the kefu server, so pages' own
// Content-Security-Policy and CORS rules never get in the way.
importScripts('settings.js');

const TIMEOUT_MS = 8000;

async function call(path, body) {
  const { server } = await KefuSettings.load();
  const base = KefuSettings.parseServer(server);
  if (!base) return { ok: false, error: `服务地址无效：${server}` };
  let response;
  try {
    response = await fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = err && err.name === 'TimeoutError';
    return {
      ok: false,
      error: timedOut ? `kefu 服务 ${TIMEOUT_MS / 1000} 秒内没有响应` : `无法连接 kefu 服务（${base}）`,
    };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error && data.error.message;
    return { ok: false, error: message || `kefu 服务返回 HTTP ${response.status}` };
  }
  return data ? { ok: true, result: data } : { ok: false, error: 'kefu 服务的回答无法解析' };
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (!message || typeof message !== 'object') return false;
  if (message.type === 'lint') {
    const body = { text: String(message.text), role: message.role === 'closing' ? 'closing' : 'reply' };
    call('/v1/lint', body).then(reply);
    return true;
  }
  if (message.type === 'ready') {
    call('/readyz').then(reply);
    return true;
  }
  return false;
});
