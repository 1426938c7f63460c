// Learning from agents in the playground: inserting a knowledge-base answer tells a service
// that keeps an on-disk index which entry answered the question; with `--learn auto` the
// question is learned at once, and the next time it is asked the entry is found word for word.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, launchBrowser, until } from './helpers.mjs';

let kefu;
let browser;

before(async () => {
  kefu = await startKefu(['--learn', 'auto'], { index: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await kefu?.stop();
});

test('an inserted answer is learned for the question it answered', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  const feedback = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/suggest/feedback')) feedback.push(JSON.parse(r.postData()));
  });
  await page.goto(kefu.url);
  await until(() => page.locator('#status').textContent().then((t) => t.includes('已连接')), 'the connected status');
  const asked = '衣服买大了一号，可以换个小点的吗';
  await page.locator('#question').fill(asked);
  const card = page.locator('#answers li[data-id="exchange-size"]');
  await until(() => card.count(), 'the size-exchange entry among the answers');
  await card.locator('button.insert').click();
  await until(() => page.locator('#verdict').textContent().then((t) => t.includes('已学会')), 'the learned note');
  assert.deepEqual(feedback, [{ question: asked, id: 'exchange-size' }]);
  const learned = await (await fetch(`${kefu.url}/v1/kb/learned`)).json();
  assert.deepEqual(
    learned.pairs.map((p) => [p.question, p.id, p.status]),
    [[asked, 'exchange-size', 'learned']],
  );
  const again = await (
    await fetch(`${kefu.url}/v1/suggest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: asked }),
    })
  ).json();
  assert.equal(again.suggestions[0].id, 'exchange-size');
  assert.equal(again.answered, true);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a read-only service is not sent feedback', async () => {
  const readOnly = await startKefu();
  const page = await browser.newPage();
  const sent = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/suggest/feedback')) sent.push(r.url());
  });
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  try {
    await page.goto(readOnly.url);
    await until(() => page.locator('#status').textContent().then((t) => t.includes('已连接')), 'the connected status');
    await page.locator('#question').fill('尺码不合适能换吗');
    const card = page.locator('#answers li[data-id="exchange-size"]');
    await until(() => card.count(), 'the size-exchange entry');
    await card.locator('button.insert').click();
    await until(() => page.locator('#draft').inputValue().then((v) => v.includes('换货')), 'the answer in the draft');
    assert.deepEqual(sent, []);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await readOnly.stop();
  }
});
