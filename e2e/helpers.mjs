// Shared set-up for the browser tests: the real release server, a static server for test pages,
// and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..');
export const extensionDir = join(repo, 'extension');

const KEFU = process.env.KEFU_BIN || join(repo, 'target', 'release', 'kefu');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Without the background-networking switches Chromium keeps trying to reach Google's hosts.
const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--lang=zh-CN',
];

/**
 * Starts `kefu serve` on a free loopback port; resolves to {url, stop}. With `{index: true}` it
 * serves an on-disk index of the shipped knowledge base (`idx` in its working directory), which
 * it may write to.
 */
export async function startKefu(extraArgs = [], { index = false } = {}) {
  if (!existsSync(KEFU)) {
    throw new Error(`${KEFU} is missing: build it with \`cargo build --release\` (or set KEFU_BIN)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'kefu-e2e-'));
  if (index) {
    execFileSync(KEFU, ['kb', 'import', join(repo, 'lexicons', 'kb.jsonl'), '--index', 'idx'], {
      cwd: work,
      stdio: 'ignore',
    });
    extraArgs = ['--index', 'idx', ...extraArgs];
  }
  const child = spawn(KEFU, ['serve', '--addr', '127.0.0.1:0', ...extraArgs], {
    cwd: work,
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`kefu serve did not start:\n${stderr}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`kefu serve exited with ${code}:\n${stderr}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  };
  return { url, stop, child };
}

/** Serves `e2e/pages/` on a free loopback port. */
export async function startPages() {
  const server = createServer((req, res) => {
    const name = new URL(req.url, 'http://x').pathname.replace(/^\/+/, '') || 'workbench.html';
    const file = join(here, 'pages', name);
    if (!/^[\w.-]+$/.test(name) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    const type = { html: 'text/html', js: 'text/javascript', css: 'text/css' }[name.split('.').pop()];
    res.writeHead(200, { 'content-type': `${type || 'text/plain'}; charset=utf-8` });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    stop: () => new Promise((r) => server.close(r)),
  };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The extension as users install it: built by `scripts/build-extension` and unpacked into a
 * temporary folder. Returns the folder.
 */
export function unpackedBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'kefu-extension-'));
  const zip = join(dir, 'kefu-extension.zip');
  execFileSync(join(repo, 'scripts', 'build-extension'), [zip], { stdio: 'ignore' });
  execFileSync('python3', ['-m', 'zipfile', '-e', zip, join(dir, 'unpacked')]);
  return join(dir, 'unpacked');
}

/** A browser profile with the extension in `dir` loaded; resolves to {context, extensionId, stop}. */
export async function launchWithExtension(dir = extensionDir) {
  const profile = mkdtempSync(join(tmpdir(), 'kefu-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      `--disable-extensions-except=${dir}`,
      `--load-extension=${dir}`,
    ],
    viewport: { width: 1200, height: 800 },
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    worker,
    extensionId,
    stop: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (dir !== extensionDir) rmSync(dirname(dir), { recursive: true, force: true });
    },
  };
}

/** The underlines drawn over a textarea: [{start, end, rules, text}]. */
export function marks(page) {
  return page.locator('kefu-layer .m').evaluateAll((els) =>
    els.map((e) => ({
      start: Number(e.dataset.start),
      end: Number(e.dataset.end),
      rules: e.dataset.rules.split(' '),
      text: e.textContent,
    })),
  );
}

/** Polls `fn` until it returns a truthy value. */
export async function until(fn, what, timeout = 10000) {
  const started = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
