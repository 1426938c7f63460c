// One call to a kefu server, answered as {ok: true, result} or {ok: false, error} with an error a
// person can act on, and the names of the phrase library's scenes. Shared by the playground page,
// the extension's service worker, its options page and its popup, so they all say the same thing
// when the server is slow, down or refuses.
(function (root) {
  'use strict';
  if (root.KefuApi) return;

  const TIMEOUT_MS = 8000;

  /** GETs `url`, or POSTs `body` to it as JSON. Never throws. */
  async function call(url, body, timeoutMs = TIMEOUT_MS) {
    let response;
    try {
      response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        return { ok: false, error: `kefu 服务 ${timeoutMs / 1000} 秒内没有响应` };
      }
      return { ok: false, error: '无法连接 kefu 服务，请检查服务是否在运行、地址是否正确' };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      if (response.status === 413) return { ok: false, error: '文字太长，超出了服务允许的大小' };
      const message = data && data.error && data.error.message;
      return { ok: false, error: message || `kefu 服务返回 HTTP ${response.status}` };
    }
    return data ? { ok: true, result: data } : { ok: false, error: 'kefu 服务的回答无法解析' };
  }

  /** The shipped phrase library's scenes, as an agent reads them; a shop's own stay as written. */
  const SCENES = {
    greeting: '问候', waiting: '稍等', apology: '致歉', thanks: '感谢', closing: '结束语',
    confirm: '确认', ask: '询问', promise: '承诺', soothe: '安抚', notice: '告知', logistics: '物流',
  };
  const sceneLabel = (scene) => SCENES[scene] || scene;

  root.KefuApi = { call, sceneLabel, TIMEOUT_MS };
})(globalThis);
