// The playground page served by the real release server, driven in headless Chromium.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, launchBrowser, marks, until } from './helpers.mjs';

let kefu;
let browser;
let page;
let problems;
let requests;

before(async () => {
  kefu = await startKefu();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = [];
  requests = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(kefu.url);
  await until(() => page.locator('#status').textContent().then((t) => t.includes('已连接')), 'the connected status');
});

afterEach(async () => {
  await page.close();
});

/** The flagged text a lint request for `text` returns from the server itself. */
async function serverFindings(body) {
  const r = await fetch(`${kefu.url}/v1/lint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.json();
}

async function typeDraft(text) {
  await page.locator('#draft').click();
  await page.keyboard.insertText(text);
}

/** Waits until the underlines cover exactly what the server flags for the draft. */
async function settledMarks(expectedRules) {
  return until(async () => {
    const m = await marks(page);
    const rules = new Set(m.flatMap((x) => x.rules));
    return expectedRules.every((r) => rules.has(r)) ? m : null;
  }, `underlines for ${expectedRules.join(', ')}`);
}

function markFor(all, rule) {
  const m = all.filter((x) => x.rules.includes(rule));
  assert.ok(m.length, `no underline for ${rule}: ${JSON.stringify(all)}`);
  return { start: m[0].start, end: m[m.length - 1].end, text: m.map((x) => x.text).join('') };
}

test('underlines sit on the flagged characters after an emoji and in Traditional text', async () => {
  const draft = '😀你等着，這不是我們的問題';
  await typeDraft(draft);
  const all = await settledMarks(['informal-address', 'imperative-tone', 'shirking']);
  // The emoji is two UTF-16 units: 你 starts at index 2.
  assert.deepEqual(markFor(all, 'informal-address'), { start: 2, end: 3, text: '你' });
  assert.deepEqual(markFor(all, 'imperative-tone'), { start: 3, end: 5, text: '等着' });
  assert.deepEqual(markFor(all, 'shirking'), { start: 6, end: 14, text: '這不是我們的問題' });
  // Every underline is exactly what the server flagged, at the server's utf16 offsets.
  const server = await serverFindings({ text: draft });
  for (const f of server.findings) {
    const m = markFor(all, f.rule);
    assert.equal(m.start, f.utf16.start, f.rule);
    assert.equal(m.end, f.utf16.end, f.rule);
    assert.equal(draft.slice(m.start, m.end), f.text);
  }
  // The mirror lays the text out like the textarea: same text, font, padding and content box.
  const geometry = await page.evaluate(() => {
    const ta = document.getElementById('draft');
    const mirror = document.querySelector('kefu-layer').shadowRoot.querySelector('.mirror');
    const a = getComputedStyle(ta);
    const b = getComputedStyle(mirror);
    const r = ta.getBoundingClientRect();
    const m = mirror.getBoundingClientRect();
    return {
      text: mirror.textContent.replace('\u200b', '') === ta.value,
      font: a.font === b.font && a.lineHeight === b.lineHeight && a.letterSpacing === b.letterSpacing,
      padding: a.padding === b.padding,
      left: Math.abs(r.left + ta.clientLeft - m.left) < 0.5,
      top: Math.abs(r.top + ta.clientTop - m.top) < 0.5,
      width: Math.abs(ta.clientWidth - m.width) < 0.5,
    };
  });
  assert.deepEqual(geometry, { text: true, font: true, padding: true, left: true, top: true, width: true });
  // The underline for 你 is drawn after the emoji, on the first line.
  const box = await page.locator('kefu-layer .m[data-start="2"]').boundingBox();
  const ta = await page.locator('#draft').boundingBox();
  assert.ok(box.x > ta.x + 12 + 10, `underline starts after the emoji: ${JSON.stringify(box)}`);
  assert.ok(box.y < ta.y + 40, 'on the first line');
  assert.equal(await page.locator('#score').textContent(), String(server.score));
  assert.equal(await page.locator('#findings li').count(), server.findings.length);
  assert.deepEqual(problems, []);
});

test('hovering an underline explains it; clicking the fix applies it and can be undone', async () => {
  await typeDraft('好的，谢谢你的耐心等待');
  await settledMarks(['informal-address']);
  const box = await page.locator('kefu-layer .m[data-rules~="informal-address"]').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tip = page.locator('kefu-layer .tip');
  await until(() => tip.isVisible(), 'the tooltip');
  const text = await tip.textContent();
  assert.match(text, /informal-address/);
  assert.match(text, /称呼客户请用“您”/);
  assert.match(text, /改为「您」/);
  await tip.locator('button.fix').click();
  assert.equal(await page.locator('#draft').inputValue(), '好的，谢谢您的耐心等待');
  await until(async () => (await marks(page)).length === 0, 'no underline left');
  await until(() => page.locator('#score').textContent().then((t) => t === '100'), 'the score of the fixed draft');
  // The fix went in as an edit, so the browser's undo takes it back.
  await page.locator('#draft').focus();
  await page.keyboard.press('Control+z');
  assert.equal(await page.locator('#draft').inputValue(), '好的，谢谢你的耐心等待');
  assert.deepEqual(problems, []);
});

test('hover shows the suggestions of a finding without a safe fix', async () => {
  await typeDraft('这不是我们的问题');
  await settledMarks(['shirking']);
  const box = await page.locator('kefu-layer .m[data-rules~="shirking"]').boundingBox();
  await page.mouse.move(box.x + 4, box.y + box.height / 2);
  const tip = page.locator('kefu-layer .tip');
  await until(() => tip.isVisible(), 'the tooltip');
  assert.match(await tip.textContent(), /建议说法/);
  assert.equal(await tip.locator('button.fix').count(), 0, 'no one-click fix for shirking');
});

test('fix all applies every safe fix, reaching what the server calls fixed', async () => {
  await page.locator('input[name="role"][value="closing"]').check();
  const draft = '你的订单已经发货了，你留意一下物流';
  await typeDraft(draft);
  await settledMarks(['informal-address', 'missing-farewell']);
  const expected = (await serverFindings({ text: draft, role: 'closing' })).fixed;
  await until(() => page.locator('#fix-all').isEnabled(), 'fix all enabled');
  await page.locator('#fix-all').click();
  await until(
    async () => (await page.locator('#draft').inputValue()) === expected,
    `the draft to read ${expected}`,
  );
  const after = await serverFindings({ text: expected, role: 'closing' });
  assert.ok(after.findings.every((f) => !(f.fix && f.fix.safe)), 'no safe fix left');
  await until(async () => !(await page.locator('#fix-all').isEnabled()), 'fix all disabled');
});

test('a rude draft fails the pass mark and is not shown as done after the safe fixes', async () => {
  await page.locator('input[name="role"][value="reply"]').check();
  await typeDraft('你以为你是谁！');
  await settledMarks(['blunt-language', 'informal-address']);
  await until(() => page.locator('#status').textContent().then((t) => t.includes('未通过')), 'the failing status');
  assert.match(await page.locator('#score').getAttribute('class'), /poor/);
  await page.locator('#fix-all').click();
  await until(async () => (await page.locator('#draft').inputValue()) === '您以为您是谁！', 'the safe fixes');
  await until(
    () => page.locator('#status').textContent().then((t) => t.includes('已应用安全修复，仍未通过')),
    'the status saying problems remain',
  );
  assert.ok(Number(await page.locator('#score').textContent()) < 80, 'the fixed draft still fails');
});

test('the role switch and the customer box turn on the context rules', async () => {
  await typeDraft('明天给您发货');
  await until(() => page.locator('#score').textContent().then((t) => t === '100'), 'a clean score');
  await page.locator('input[name="role"][value="closing"]').check();
  await settledMarks(['missing-farewell']);
  await page.locator('input[name="role"][value="reply"]').check();
  await page.locator('#customer').fill('等了三天还没发货，怎么回事？');
  await settledMarks(['missing-apology']);
});

test('a suggested answer goes into the draft with its variables marked to fill in', async () => {
  await page.locator('#question').fill('快递单号是多少');
  const card = page.locator('#answers li[data-id="ship-1"]');
  await until(() => card.count(), 'the logistics phrase among the answers');
  assert.match(await card.textContent(), /\d+%/);
  await card.locator('button.insert').click();
  const value = await page.locator('#draft').inputValue();
  assert.match(value, /\{courier\}.*\{tracking_no\}/);
  // The caret is on the first variable, so typing replaces it.
  const selected = await page.locator('#draft').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assert.equal(selected, '{courier}');
  const all = await settledMarks(['fill-variable']);
  assert.deepEqual(
    all.filter((m) => m.rules.includes('fill-variable')).map((m) => m.text),
    ['{courier}', '{tracking_no}'],
  );
  await page.keyboard.insertText('顺丰');
  await until(async () => (await marks(page)).filter((m) => m.text === '{courier}').length === 0, 'the filled variable unmarked');
});

test('the phrase panel lists the library by scene and puts a phrase into the draft', async () => {
  await page.locator('#phrases summary').click();
  const tabs = page.locator('#scenes button');
  await until(() => tabs.count(), 'the scene tabs');
  const library = await (await fetch(`${kefu.url}/v1/phrases`)).json();
  assert.equal(await tabs.count(), library.scenes.length);
  assert.equal(await tabs.first().getAttribute('aria-selected'), 'true');
  // Another scene opens on a click: only its phrases.
  await page.locator('#scenes button[data-scene="closing"]').click();
  assert.equal(await page.locator('#scenes button[data-scene="closing"]').getAttribute('aria-selected'), 'true');
  const phrases = page.locator('#phrase-list button');
  const closing = library.phrases.filter((p) => p.scene === 'closing').map((p) => p.text);
  assert.deepEqual(await phrases.allTextContents(), closing);
  await phrases.first().click();
  assert.equal(await page.locator('#draft').inputValue(), closing[0]);
  // A phrase with variables goes in with the first one selected to type over.
  await page.locator('#draft').fill('');
  await page.locator('#scenes button[data-scene="logistics"]').click();
  await page.locator('#phrase-list button[data-id="ship-1"]').click();
  const selected = await page.locator('#draft').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assert.equal(selected, '{courier}');
});

test('a Traditional question gets Traditional answers; nonsense gets an honest no', async () => {
  await page.locator('#question').fill('我拍下了還沒付款，訂單怎麼就關閉了');
  await page.locator('#question').press('Enter');
  const first = page.locator('#answers li').first();
  await until(() => first.count(), 'answers');
  assert.match(await first.locator('.answer-text').textContent(), /訂單/);
  assert.match(await page.locator('#verdict').textContent(), /找到了答案/);

  await page.locator('#question').fill('火星上的天气怎么样');
  await until(
    () => page.locator('#verdict').textContent().then((t) => t.includes('没有')),
    'the no-answer verdict',
  );
});

test('a long draft is underlined to its end and the underlines scroll with the text', async () => {
  const line = '您好，您的订单已经发出，请您留意物流信息。😀\n';
  const draft = `${line.repeat(60)}你等着`;
  await page.locator('#draft').fill(draft);
  const all = await settledMarks(['informal-address']);
  const m = markFor(all, 'informal-address');
  assert.equal(m.start, draft.length - 3);
  const scroll = await page.locator('#draft').evaluate((t) => {
    t.scrollTop = t.scrollHeight;
    t.dispatchEvent(new Event('scroll'));
    return t.scrollTop;
  });
  await until(
    () =>
      page.evaluate(
        (top) => document.querySelector('kefu-layer').shadowRoot.querySelector('.mirror').scrollTop === top,
        scroll,
      ),
    'the mirror to scroll with the textarea',
  );
  const box = await page.locator('kefu-layer .m[data-rules~="informal-address"]').boundingBox();
  const ta = await page.locator('#draft').boundingBox();
  assert.ok(box.y > ta.y && box.y + box.height < ta.y + ta.height + 4, 'the last line is visible');
});

test('a slow server shows a message and the answer still arrives', async () => {
  await page.route('**/v1/lint', async (route) => {
    await new Promise((r) => setTimeout(r, 2500));
    await route.continue();
  });
  await typeDraft('你好');
  await until(() => page.locator('#status').textContent().then((t) => t.includes('较慢')), 'the slow message', 5000);
  await settledMarks(['informal-address']);
  assert.match(await page.locator('#status').textContent(), /已检查/);
});

test('a server that is down gets a visible message, not a broken page', async () => {
  await page.route('**/v1/lint', (route) => route.abort('connectionrefused'));
  await typeDraft('你好，请稍等');
  await until(() => page.locator('#status').textContent().then((t) => t.includes('无法检查')), 'the error message');
  assert.match(await page.locator('#status').textContent(), /无法连接/);
  // Once the server is back, typing checks again.
  await page.unroute('**/v1/lint');
  await page.keyboard.insertText('哦');
  await settledMarks(['informal-address']);
  assert.deepEqual(problems.filter((p) => !p.includes('Failed to load resource')), []);
});

test('on a phone-wide screen the role labels stay on one line each', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(kefu.url);
    for (const label of await page.locator('fieldset.role label').all()) {
      const box = await label.boundingBox();
      assert.ok(box.height < 32, `a label wraps: ${JSON.stringify(box)} ${await label.textContent()}`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(kefu.url);
  }
});

test('the status counts the knowledge base in entries', async () => {
  await until(() => page.locator('#status').textContent().then((t) => t.includes('个问答')), 'the entry count');
  const kb = await (await fetch(`${kefu.url}/v1/kb?limit=1`)).json();
  assert.match(await page.locator('#status').textContent(), new RegExp(`知识库 ${kb.total} 个问答`));
});

test('the page needs nothing but its own server', async () => {
  await typeDraft('您好');
  await until(() => page.locator('#score').textContent().then((t) => t === '100'), 'a score');
  const origin = new URL(kefu.url).origin;
  assert.deepEqual(requests.filter((u) => new URL(u).origin !== origin), []);
  const headers = (await page.request.get(kefu.url)).headers();
  assert.match(headers['content-security-policy'], /default-src 'none'/);
  assert.deepEqual(problems, []);
});
