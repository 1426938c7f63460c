// The browser extension, as built by scripts/build-extension, in headless Chromium, on a local workbench page with a textarea
// and a contenteditable editor, against the real release server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, startPages, launchWithExtension, unpackedBuild, marks, until } from './helpers.mjs';

let kefu;
let pages;
let ext;

before(async () => {
  kefu = await startKefu();
  pages = await startPages();
  // The zip that scripts/build-extension makes, unpacked: what a user installs.
  ext = await launchWithExtension(unpackedBuild());
});

after(async () => {
  await ext?.stop();
  await pages?.stop();
  await kefu?.stop();
});

/** Sets the options through the options page, as a user would. */
async function configure({ server, sites, severities = ['error', 'warning', 'info'] }) {
  const page = await ext.context.newPage();
  await page.goto(`chrome-extension://${ext.extensionId}/options.html`);
  await page.locator('#server').fill(server);
  await page.locator('#sites').fill(sites.join('\n'));
  for (const box of await page.locator('input[name="severity"]').all()) {
    await box.setChecked(severities.includes(await box.getAttribute('value')));
  }
  await page.locator('#save').click();
  await until(() => page.locator('#saved').textContent().then((t) => t === '已保存'), 'the saved note');
  await page.close();
}

/** The text under each Custom Highlight the extension registered, read from the page's world. */
function highlighted(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      ['error', 'warning', 'info'].map((s) => [
        s,
        [...(CSS.highlights.get(`kefu-${s}`) || [])].map((r) => r.toString()).sort(),
      ]),
    ),
  );
}

async function openWorkbench(host = pages.host) {
  const page = await ext.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`http://${host}/workbench.html`);
  return { page, problems };
}

test('the options page checks and saves its settings', async () => {
  const page = await ext.context.newPage();
  await page.goto(`chrome-extension://${ext.extensionId}/options.html`);
  assert.equal(await page.locator('#server').inputValue(), 'http://127.0.0.1:8080', 'the default server');
  await page.locator('#server').fill('ftp://example.com');
  await page.locator('#save').click();
  await until(() => page.locator('#saved').textContent().then((t) => t.includes('无效')), 'the invalid-URL note');
  await page.locator('#server').fill(kefu.url);
  await page.locator('#test').click();
  await until(() => page.locator('#server-status').textContent().then((t) => t.includes('已连接')), 'connected');
  await page.locator('#sites').fill('exa mple!');
  await page.locator('#save').click();
  await until(() => page.locator('#sites-status').textContent().then((t) => t.includes('无法识别')), 'the bad-site note');
  await page.locator('#sites').fill(`http://${pages.host}/some/page\n${pages.host}`);
  await page.locator('#save').click();
  await until(() => page.locator('#saved').textContent().then((t) => t === '已保存'), 'saved');
  assert.equal(await page.locator('#sites').inputValue(), pages.host, 'entries normalised and deduplicated');
  const stored = await ext.worker.evaluate(() => chrome.storage.sync.get(null));
  assert.equal(stored.server, kefu.url);
  assert.deepEqual(stored.sites, [pages.host]);
  await page.close();
});

test('a textarea is underlined at the flagged characters without touching the page', async () => {
  await configure({ server: kefu.url, sites: [pages.host] });
  const { page, problems } = await openWorkbench();
  const reply = page.locator('#reply');
  await reply.click();
  const draft = '😀你等着，這不是我們的問題';
  await page.keyboard.insertText(draft);
  const all = await until(async () => {
    const m = await marks(page);
    return m.some((x) => x.rules.includes('shirking')) ? m : null;
  }, 'underlines');
  const at = (rule) => all.find((m) => m.rules.includes(rule));
  assert.deepEqual([at('informal-address').start, at('informal-address').text], [2, '你']);
  assert.deepEqual([at('imperative-tone').start, at('imperative-tone').text], [3, '等着']);
  assert.deepEqual([at('shirking').start, at('shirking').text], [6, '這不是我們的問題']);
  // The page's text is untouched and its layout is the same as without the extension.
  assert.equal(await reply.inputValue(), draft);
  assert.equal(await page.locator('.chat').evaluate((c) => c.getBoundingClientRect().height > 0), true);
  assert.equal(await page.locator('body > kefu-layer').count(), 1);
  const layer = await page.locator('kefu-layer').evaluate((h) => {
    const r = h.getBoundingClientRect();
    return [getComputedStyle(h).position, r.width, r.height];
  });
  assert.deepEqual(layer, ['fixed', 0, 0]);

  // Hover explains, click fixes.
  const box = await page.locator('kefu-layer .m[data-rules~="informal-address"]').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tip = page.locator('kefu-layer .tip');
  await until(() => tip.isVisible(), 'the tooltip');
  assert.match(await tip.textContent(), /称呼客户请用“您”/);
  await tip.getByRole('button', { name: '改为「您」' }).click();
  assert.equal(await reply.inputValue(), '😀您等着，這不是我們的問題');

  // The page's own key handling still works: keys reach it, Ctrl+Enter sends.
  const keysBefore = Number(await page.locator('#keys').textContent());
  await reply.press('End');
  await page.keyboard.type('ok');
  await page.keyboard.press('Control+Enter');
  assert.equal(Number(await page.locator('#keys').textContent()), keysBefore + 5);
  assert.equal(await page.locator('#sent li').textContent(), '😀您等着，這不是我們的問題ok');
  assert.equal(await reply.inputValue(), '');
  await until(async () => (await marks(page)).length === 0, 'no underline on the empty box');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a contenteditable editor gets highlights, hover and click-to-fix', async () => {
  await configure({ server: kefu.url, sites: [pages.host] });
  const { page, problems } = await openWorkbench();
  const rich = page.locator('#rich');
  await rich.click();
  await page.keyboard.insertText('👍好的，你等著吧');
  const hl = await until(async () => {
    const h = await highlighted(page);
    return h.warning.length >= 2 ? h : null;
  }, 'highlights');
  assert.deepEqual(hl.warning, ['你', '等著吧']);
  // Highlights add no element to the editor.
  assert.equal(await rich.evaluate((e) => e.querySelectorAll('*').length), 0);
  assert.equal(await rich.textContent(), '👍好的，你等著吧');

  const rect = await page.evaluate(() => {
    const range = [...CSS.highlights.get('kefu-warning')].find((r) => r.toString() === '你');
    const r = range.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  });
  await page.mouse.move(rect.x, rect.y);
  const tip = page.locator('kefu-layer .tip');
  await until(() => tip.isVisible(), 'the tooltip');
  await tip.getByRole('button', { name: '改为「您」' }).click();
  await until(() => rich.textContent().then((t) => t === '👍好的，您等著吧'), 'the fixed text');
  await until(async () => (await highlighted(page)).warning.join() === '等著吧', 'one highlight left');
  assert.deepEqual(problems, []);
  await page.close();
});

test('severities chosen in the options apply at once', async () => {
  await configure({ server: kefu.url, sites: [pages.host] });
  const { page } = await openWorkbench();
  await page.locator('#reply').click();
  await page.keyboard.insertText('你等着，这不是我们的问题');
  await until(async () => (await marks(page)).length === 3, 'three underlines');
  await configure({ server: kefu.url, sites: [pages.host], severities: ['error'] });
  await until(async () => {
    const m = await marks(page);
    return m.length === 1 && m[0].rules.join() === 'shirking';
  }, 'only the error underlined');
  await page.close();
});

test('sites that are not enabled are left alone', async () => {
  await configure({ server: kefu.url, sites: [pages.host] });
  const { page } = await openWorkbench(`localhost:${pages.port}`);
  await page.locator('#reply').click();
  await page.keyboard.insertText('你等着');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await page.locator('kefu-layer').count(), 0);
  assert.deepEqual(await highlighted(page), { error: [], warning: [], info: [] });
  await page.close();
});

test('the popup lists the phrase library by scene and copies a phrase', async () => {
  await configure({ server: kefu.url, sites: [pages.host] });
  const page = await ext.context.newPage();
  await page.goto(`chrome-extension://${ext.extensionId}/popup.html`);
  await until(() => page.locator('#phrases').isVisible(), 'the phrase section');
  const library = await (await fetch(`${kefu.url}/v1/phrases`)).json();
  assert.equal(await page.locator('#scene option').count(), library.scenes.length);
  assert.equal(await page.locator('#scene option[value="greeting"]').textContent(), `问候（${library.scenes[0].phrases}）`);
  await page.locator('#scene').selectOption('closing');
  const closing = library.phrases.filter((p) => p.scene === 'closing').map((p) => p.text);
  assert.deepEqual(await page.locator('#phrase-list button').allTextContents(), closing);
  await page.locator('#phrase-list button').first().click();
  await until(() => page.locator('#copied').textContent().then((t) => t === '已复制'), 'the copied note');
  // Pasted into the workbench's reply box, it is the phrase.
  const { page: workbench } = await openWorkbench();
  await workbench.locator('textarea').first().focus();
  await workbench.keyboard.press('Control+V');
  assert.equal(await workbench.locator('textarea').first().inputValue(), closing[0]);
  await workbench.close();
  // A phrase with variables says which to fill in after pasting.
  await page.locator('#scene').selectOption('logistics');
  await page.locator('#phrase-list button[data-id="ship-1"]').click();
  await until(() => page.locator('#copied').textContent().then((t) => t.includes('courier')), 'the variables to fill');
  await page.close();
});

test('a server that cannot be reached shows on the badge, and the page keeps working', async () => {
  await configure({ server: 'http://127.0.0.1:9', sites: [pages.host] });
  const { page, problems } = await openWorkbench();
  await page.locator('#reply').click();
  await page.keyboard.insertText('你好');
  const badge = page.locator('kefu-layer .badge.offline');
  await until(() => badge.count(), 'the offline badge');
  assert.match(await badge.getAttribute('title'), /无法连接/);
  await page.keyboard.press('Control+Enter');
  assert.equal(await page.locator('#sent li').textContent(), '你好');
  assert.deepEqual(problems, []);
  await page.close();
});
