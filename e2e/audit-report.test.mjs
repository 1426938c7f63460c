// The HTML audit report as a QA lead opens it: written by the real release binary, opened from
// disk in headless Chromium with CJK fonts, checked for what it shows and for a layout that holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, repo } from './helpers.mjs';

const KEFU = process.env.KEFU_BIN || join(repo, 'target', 'release', 'kefu');
let browser;
let dir;
let report;

before(async () => {
  assert.ok(existsSync(KEFU), `${KEFU} is missing: build it with \`cargo build --release\``);
  dir = mkdtempSync(join(tmpdir(), 'kefu-report-'));
  report = join(dir, 'report.html');
  execFileSync(KEFU, ['audit', join(repo, 'tests/fixtures/audit/chats.jsonl'), '--format', 'html', '-o', report], {
    stdio: 'ignore',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const width of [1280, 760]) {
  test(`the report reads in Chinese and its layout holds at ${width} px`, async () => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${report}`);
    assert.equal(await page.locator('h1').textContent(), '客服质检报告');
    const headings = await page.locator('h2').allTextContents();
    for (const h of ['对话结果', '优先复查', '客服汇总', '服务规范问题', '四个一样']) {
      assert.ok(headings.includes(h), `${h} in ${headings}`);
    }
    // The worst outcome first, with what the agent and the customer said at the flagged turns.
    const first = page.locator('section.review').first();
    assert.match(await first.locator('h3').textContent(), /c2 · 客服 小李\s*升级投诉/);
    const turns = await first.locator('.turn').allTextContents();
    assert.ok(turns.some((t) => t.includes('客服') && t.includes('爱买不买')), turns.join('\n'));
    assert.ok(turns.some((t) => t.includes('客户') && t.includes('我要投诉')), turns.join('\n'));
    // Nothing wider than the window, and no bar label running into its bar.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    const overlaps = await page.evaluate(() =>
      [...document.querySelectorAll('table.bars tr')]
        .filter((row) => {
          const label = row.querySelector('td.label').getBoundingClientRect();
          const bar = row.querySelector('td.bar span').getBoundingClientRect();
          return label.right > bar.left + 0.5;
        })
        .map((row) => row.textContent),
    );
    assert.deepEqual(overlaps, []);
    // The glyphs come from a CJK font, not boxes.
    assert.ok(await page.evaluate(() => document.fonts.check('16px "Noto Sans CJK SC"', '客服')));
    assert.ok(requests.every((u) => u.startsWith('file://')), `fetched: ${requests}`);
    if (process.env.KEFU_SCREENSHOTS) {
      await page.screenshot({ path: join(process.env.KEFU_SCREENSHOTS, `audit-report-${width}.png`), fullPage: true });
    }
    await page.close();
  });
}
