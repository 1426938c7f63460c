// Renders docs/playground.png, the README's picture of the playground: a draft with problems
// underlined, one explained on hover, and answers to a customer's question.
// Usage (after `cargo build --release`): node e2e/screenshot.mjs
import { join } from 'node:path';
import { startKefu, launchBrowser, until, repo } from './helpers.mjs';

const kefu = await startKefu();
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
  await page.goto(kefu.url);
  await page.locator('#question').fill('我拍下了还没付款，订单怎么就关闭了？');
  await page.locator('#question').press('Enter');
  await until(() => page.locator('#answers li').count(), 'answers');
  await page.locator('#customer').fill('等了三天了还没发货，怎么回事？');
  await page.locator('#draft').click();
  await page.keyboard.insertText('你等着吧，这不是我们的问题，快递那边的事我们也没办法。');
  await until(() => page.locator('kefu-layer .m').count().then((n) => n >= 3), 'underlines');
  await until(() => page.locator('#score').textContent().then((t) => t !== '—'), 'the score');
  const box = await page.locator('kefu-layer .m').first().boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await until(() => page.locator('kefu-layer .tip').isVisible(), 'the tooltip');
  const out = join(repo, 'docs', 'playground.png');
  await page.screenshot({ path: out });
  console.log(out);
} finally {
  await browser.close();
  await kefu.stop();
}
