/*
 * kefu-highlight: underlines kefu lint findings inside a draft box (a <textarea> or a
 * contenteditable element), explains them on hover and applies safe fixes on click.
 *
 * Shared by the playground page that `kefu serve` embeds and by the browser extension's content
 * script. It never rewrites the page's text on its own: textareas get a transparent mirror drawn
 * over them (in a shadow root), contenteditable elements get CSS Custom Highlights (no DOM change).
 * Offsets are the API's `utf16` offsets, which are JavaScript string indices.
 *
 *   const hl = KefuHighlight.attach(element, {
 *     lint: async (text) => result,         // a /v1/lint response: {score, passed, findings, fixed, remaining}
 *     severities: ['error', 'warning', 'info'],
 *     onStatus: (status) => {},             // {state: idle|checking|slow|ok|error, ...}
 *   });
 *   hl.refresh(); hl.fixAll(); hl.detach();
 */
(function (root) {
  'use strict';
  if (root.KefuHighlight) return;

  const SEVERITY_RANK = { error: 0, warning: 1, info: 2 };
  const SEVERITY_LABEL = { error: '错误', warning: '警告', info: '提示' };
  const VARIABLE = /\{[^{}\s]{1,40}\}/g;
  const BLOCK_TAGS = new Set([
    'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'DD', 'DIV', 'DL', 'DT', 'FIELDSET',
    'FIGCAPTION', 'FIGURE', 'FOOTER', 'FORM', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER',
    'HR', 'LI', 'MAIN', 'NAV', 'OL', 'P', 'PRE', 'SECTION', 'TABLE', 'TR', 'UL',
  ]);
  const SKIP_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  // Properties that decide where a textarea's glyphs fall; the mirror copies them.
  const MIRRORED = [
    'direction', 'fontFamily', 'fontSize', 'fontStyle', 'fontVariant', 'fontWeight',
    'fontStretch', 'fontKerning', 'fontFeatureSettings', 'fontVariationSettings',
    'letterSpacing', 'wordSpacing', 'lineHeight', 'textAlign', 'textIndent', 'textTransform',
    'textRendering', 'tabSize', 'whiteSpace', 'wordBreak', 'overflowWrap', 'lineBreak',
    'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
  ];

  const LAYER_CSS = `
    :host { all: initial; }
    .mirror { position: fixed; overflow: hidden; box-sizing: border-box; margin: 0; border: 0;
      color: transparent; background: transparent; pointer-events: none; }
    .mirror-text { margin: 0; }
    .m { text-decoration-line: underline; text-decoration-style: wavy;
      text-decoration-thickness: 1.5px; text-underline-offset: 3px;
      text-decoration-skip-ink: none; border-radius: 2px; }
    .m.error { text-decoration-color: #d93025; background: rgba(217, 48, 37, 0.10); }
    .m.warning { text-decoration-color: #e37400; background: rgba(227, 116, 0, 0.10); }
    .m.info { text-decoration-color: #1a73e8; background: rgba(26, 115, 232, 0.10); }
    .badge { position: fixed; pointer-events: none; font: 600 11px/18px system-ui, sans-serif;
      min-width: 18px; height: 18px; padding: 0 5px; border-radius: 9px; box-sizing: border-box;
      text-align: center; color: #fff; background: #188038; opacity: 0.9; }
    .badge.warning { background: #e37400; } .badge.error { background: #d93025; }
    .badge.offline { background: #5f6368; } .badge.hidden { display: none; }
    .tip { position: fixed; z-index: 1; max-width: 340px; min-width: 220px; pointer-events: auto;
      font: 13px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; color: #202124;
      background: #fff; border: 1px solid #dadce0; border-radius: 8px;
      box-shadow: 0 4px 16px rgba(0, 0, 0, 0.18); padding: 8px 10px; }
    .tip[hidden] { display: none; }
    .item + .item { border-top: 1px solid #eee; margin-top: 6px; padding-top: 6px; }
    .head { display: flex; gap: 6px; align-items: center; }
    .sev { font-size: 11px; font-weight: 600; padding: 0 6px; border-radius: 8px; color: #fff; }
    .sev.error { background: #d93025; } .sev.warning { background: #e37400; }
    .sev.info { background: #1a73e8; }
    .rule { font: 12px ui-monospace, monospace; color: #5f6368; }
    .msg { margin: 2px 0; }
    .sugg { margin: 2px 0 0; padding-left: 16px; color: #3c4043; }
    .fix { display: inline-block; margin-top: 4px; padding: 2px 10px; border-radius: 12px;
      border: 1px solid #1a73e8; background: #e8f0fe; color: #1a73e8; cursor: pointer;
      font: inherit; }
    .fix:hover { background: #1a73e8; color: #fff; }
  `;

  const HIGHLIGHT_CSS = `
    ::highlight(kefu-error) { text-decoration: underline wavy #d93025;
      background-color: rgba(217, 48, 37, 0.12); }
    ::highlight(kefu-warning) { text-decoration: underline wavy #e37400;
      background-color: rgba(227, 116, 0, 0.12); }
    ::highlight(kefu-info) { text-decoration: underline wavy #1a73e8;
      background-color: rgba(26, 115, 232, 0.12); }
  `;

  // ---------------------------------------------------------------------------------------
  // Text models: what the server is sent, and the way back from offsets to the page.

  function isTextarea(el) {
    return el instanceof HTMLTextAreaElement;
  }

  /** The text of a contenteditable element with each text node's place in it. */
  function editableModel(host) {
    let text = '';
    const segments = [];
    const newline = () => {
      if (text.length && !text.endsWith('\n')) text += '\n';
    };
    const walk = (node) => {
      for (let child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === Node.TEXT_NODE) {
          const data = child.data;
          if (data.length) {
            segments.push({ node: child, start: text.length, end: text.length + data.length });
            text += data;
          }
        } else if (child.nodeType === Node.ELEMENT_NODE && !SKIP_TAGS.has(child.tagName)) {
          if (child.tagName === 'BR') {
            text += '\n';
            continue;
          }
          const block = BLOCK_TAGS.has(child.tagName);
          if (block) newline();
          walk(child);
          if (block) newline();
        }
      }
    };
    walk(host);
    return { text, segments };
  }

  /** The DOM point of a text offset; `end` points prefer the end of the text node before. */
  function domPoint(model, offset, end) {
    const segs = model.segments;
    if (!segs.length) return null;
    if (end) {
      for (let i = segs.length - 1; i >= 0; i--) {
        const s = segs[i];
        if (s.start < offset) return { node: s.node, offset: Math.min(offset, s.end) - s.start };
      }
      return { node: segs[0].node, offset: 0 };
    }
    for (const s of segs) {
      if (s.end > offset) return { node: s.node, offset: Math.max(offset, s.start) - s.start };
    }
    const last = segs[segs.length - 1];
    return { node: last.node, offset: last.end - last.start };
  }

  function domRange(model, start, end) {
    const a = domPoint(model, start, false);
    const b = domPoint(model, end, true);
    if (!a || !b) return null;
    const range = document.createRange();
    try {
      range.setStart(a.node, a.offset);
      range.setEnd(b.node, b.offset);
    } catch (_) {
      return null;
    }
    return range;
  }

  /** Where two texts differ: `[from, oldEnd)` of the old text became `[from, newEnd)`. */
  function editOf(before, after) {
    const max = Math.min(before.length, after.length);
    let from = 0;
    while (from < max && before.charCodeAt(from) === after.charCodeAt(from)) from++;
    let tail = 0;
    while (
      tail < max - from &&
      before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)
    ) {
      tail++;
    }
    return { from, oldEnd: before.length - tail, newEnd: after.length - tail };
  }

  /** Findings kept across an edit: those before it stay, those after it move, the rest go. */
  function shiftFindings(findings, edit) {
    const delta = edit.newEnd - edit.oldEnd;
    const kept = [];
    for (const f of findings) {
      if (f.end <= edit.from) kept.push(f);
      else if (f.start >= edit.oldEnd) kept.push({ ...f, start: f.start + delta, end: f.end + delta });
    }
    return kept;
  }

  /** The API's findings in the shape used here; offsets checked against the text linted. */
  function fromApi(findings, text) {
    const out = [];
    for (const f of findings || []) {
      const span = f.utf16 || {};
      const start = span.start;
      const end = span.end;
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length) {
        continue;
      }
      out.push({
        start,
        end,
        rule: String(f.rule || ''),
        severity: SEVERITY_RANK[f.severity] === undefined ? 'info' : f.severity,
        message: String(f.message || ''),
        text: text.slice(start, end),
        fix: f.fix && typeof f.fix.replacement === 'string' ? f.fix : null,
        suggestions: Array.isArray(f.suggestions) ? f.suggestions.map(String) : [],
      });
    }
    return out;
  }

  /** `{name}` placeholders left in the draft (from an inserted answer) to fill in. */
  function variableFindings(text) {
    const out = [];
    VARIABLE.lastIndex = 0;
    for (let m = VARIABLE.exec(text); m; m = VARIABLE.exec(text)) {
      out.push({
        start: m.index,
        end: m.index + m[0].length,
        rule: 'fill-variable',
        severity: 'info',
        message: `请把 ${m[0]} 换成实际内容`,
        text: m[0],
        fix: null,
        suggestions: [],
        local: true,
      });
    }
    return out;
  }

  /** Pieces of text covered by the same findings, for drawing overlapping findings once. */
  function pieces(text, findings) {
    const cuts = new Set([0, text.length]);
    for (const f of findings) {
      cuts.add(f.start);
      cuts.add(f.end);
    }
    const points = [...cuts].sort((a, b) => a - b);
    const out = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const start = points[i];
      const end = points[i + 1];
      const covering = findings.filter((f) => f.start <= start && f.end >= end && f.end > f.start);
      out.push({ start, end, findings: covering });
    }
    return out;
  }

  function worst(findings) {
    let best = 'info';
    for (const f of findings) if (SEVERITY_RANK[f.severity] < SEVERITY_RANK[best]) best = f.severity;
    return best;
  }

  function inside(rect, x, y) {
    return x >= rect.left - 1 && x <= rect.right + 1 && y >= rect.top - 2 && y <= rect.bottom + 4;
  }

  // ---------------------------------------------------------------------------------------
  // The layer: one shadow root per document holding mirrors, badges and the tooltip.

  let layer = null;

  function getLayer() {
    if (layer && layer.host.isConnected) return layer;
    const host = document.createElement('kefu-layer');
    host.style.cssText =
      'position:fixed;top:0;left:0;width:0;height:0;z-index:2147483646;pointer-events:none;';
    const shadow = host.attachShadow({ mode: 'open' });
    adoptStyle(shadow, LAYER_CSS);
    (document.body || document.documentElement).append(host);
    layer = { host, shadow, tip: new Tooltip(shadow) };
    return layer;
  }

  /**
   * Adds a stylesheet to a document or shadow root. Constructed sheets are used where possible:
   * they need no element and pass a page's Content-Security-Policy for inline styles.
   */
  function adoptStyle(target, css) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      target.adoptedStyleSheets = [...target.adoptedStyleSheets, sheet];
    } catch (_) {
      const style = document.createElement('style');
      style.textContent = css;
      (target === document ? document.head || document.documentElement : target).append(style);
    }
  }

  let highlightStyle = false;
  const registry = {};

  function highlights() {
    if (!root.CSS || !CSS.highlights || typeof root.Highlight !== 'function') return null;
    if (!highlightStyle) {
      adoptStyle(document, HIGHLIGHT_CSS);
      highlightStyle = true;
    }
    for (const sev of Object.keys(SEVERITY_RANK)) {
      if (!registry[sev] || CSS.highlights.get(`kefu-${sev}`) !== registry[sev]) {
        registry[sev] = registry[sev] || new Highlight();
        registry[sev].priority = 10 - SEVERITY_RANK[sev];
        CSS.highlights.set(`kefu-${sev}`, registry[sev]);
      }
    }
    return registry;
  }

  class Tooltip {
    constructor(shadow) {
      this.el = document.createElement('div');
      this.el.className = 'tip';
      this.el.hidden = true;
      this.el.setAttribute('role', 'tooltip');
      shadow.append(this.el);
      this.owner = null;
      this.key = '';
      this.hideTimer = 0;
      // Clicking inside must not take the focus or the selection from the draft.
      this.el.addEventListener('mousedown', (e) => e.preventDefault());
      this.el.addEventListener('mouseenter', () => clearTimeout(this.hideTimer));
      this.el.addEventListener('mouseleave', () => this.hideSoon());
    }

    show(owner, findings, rect) {
      clearTimeout(this.hideTimer);
      const key = findings.map((f) => `${f.rule}:${f.start}:${f.end}`).join('|');
      if (this.owner !== owner || this.key !== key || this.el.hidden) {
        this.owner = owner;
        this.key = key;
        this.render(owner, findings);
      }
      this.el.hidden = false;
      const tip = this.el.getBoundingClientRect();
      const below = rect.bottom + 6;
      const top = below + tip.height > innerHeight ? Math.max(4, rect.top - tip.height - 6) : below;
      const left = Math.max(4, Math.min(rect.left, innerWidth - tip.width - 8));
      this.el.style.top = `${top}px`;
      this.el.style.left = `${left}px`;
    }

    render(owner, findings) {
      this.el.replaceChildren();
      for (const f of findings) {
        const item = document.createElement('div');
        item.className = 'item';
        item.dataset.rule = f.rule;
        const head = document.createElement('div');
        head.className = 'head';
        const sev = document.createElement('span');
        sev.className = `sev ${f.severity}`;
        sev.textContent = SEVERITY_LABEL[f.severity];
        const rule = document.createElement('span');
        rule.className = 'rule';
        rule.textContent = f.rule;
        head.append(sev, rule);
        const msg = document.createElement('div');
        msg.className = 'msg';
        msg.textContent = f.message;
        item.append(head, msg);
        if (f.fix && f.fix.safe) {
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'fix';
          button.textContent = `改为「${f.fix.replacement}」`;
          button.addEventListener('click', () => {
            this.hide();
            owner.applyFix(f);
          });
          item.append(button);
        }
        const suggestions = f.suggestions.slice(0, 3);
        if (f.fix && !f.fix.safe) suggestions.unshift(f.fix.replacement);
        if (suggestions.length) {
          const list = document.createElement('ul');
          list.className = 'sugg';
          for (const s of suggestions) {
            const li = document.createElement('li');
            li.textContent = s;
            list.append(li);
          }
          const label = document.createElement('div');
          label.className = 'rule';
          label.textContent = '建议说法';
          item.append(label, list);
        }
        this.el.append(item);
      }
    }

    hideSoon() {
      clearTimeout(this.hideTimer);
      this.hideTimer = setTimeout(() => this.hide(), 250);
    }

    hide() {
      clearTimeout(this.hideTimer);
      this.el.hidden = true;
      this.owner = null;
    }
  }

  // ---------------------------------------------------------------------------------------
  // One highlighted draft box.

  class Highlighter {
    constructor(el, options) {
      this.el = el;
      this.opts = {
        debounce: 300,
        slowAfter: 1500,
        severities: ['error', 'warning', 'info'],
        variables: true,
        badge: false,
        onStatus: () => {},
        onResult: () => {},
        ...options,
      };
      if (typeof this.opts.lint !== 'function') throw new TypeError('options.lint is required');
      this.textarea = isTextarea(el);
      this.text = this.readText();
      this.server = []; // findings from the server, for `this.text`
      this.findings = []; // what is drawn: the server's plus local ones, filtered
      this.result = null;
      this.seq = 0;
      this.timer = 0;
      this.frame = 0;
      this.ranges = [];
      this.layer = getLayer();
      if (this.textarea) {
        this.mirror = document.createElement('div');
        this.mirror.className = 'mirror';
        this.mirrorText = document.createElement('div');
        this.mirrorText.className = 'mirror-text';
        this.mirror.append(this.mirrorText);
        this.layer.shadow.append(this.mirror);
      }
      this.badge = document.createElement('div');
      this.badge.className = 'badge hidden';
      this.layer.shadow.append(this.badge);

      this.onInput = () => this.changed();
      this.onMove = (e) => this.hover(e.clientX, e.clientY);
      this.onLeave = () => this.layer.tip.hideSoon();
      this.onScroll = () => this.schedule();
      this.onWindow = () => this.schedule();
      el.addEventListener('input', this.onInput);
      el.addEventListener('mousemove', this.onMove, { passive: true });
      el.addEventListener('mouseleave', this.onLeave, { passive: true });
      el.addEventListener('scroll', this.onScroll, { passive: true });
      root.addEventListener('scroll', this.onWindow, { passive: true, capture: true });
      root.addEventListener('resize', this.onWindow, { passive: true });
      this.resize = typeof ResizeObserver === 'function' ? new ResizeObserver(this.onWindow) : null;
      if (this.resize) this.resize.observe(el);
      this.render();
      // After the caller has the object: status callbacks may use it.
      queueMicrotask(() => this.refresh());
    }

    readText() {
      if (this.textarea) return this.el.value;
      this.model = editableModel(this.el);
      return this.model.text;
    }

    /** The draft changed: move what is drawn along with the edit, then lint again shortly. */
    changed() {
      const before = this.text;
      const after = this.readText();
      if (after === before) return;
      this.server = shiftFindings(this.server, editOf(before, after));
      this.text = after;
      this.update();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), this.opts.debounce);
    }

    /** Lints the current text now. */
    refresh() {
      clearTimeout(this.timer);
      this.text = this.readText();
      return this.run();
    }

    setOptions(options) {
      Object.assign(this.opts, options);
      this.update();
    }

    async run() {
      const text = this.readText();
      this.text = text;
      const seq = ++this.seq;
      if (!text.trim()) {
        this.server = [];
        this.result = null;
        this.update();
        this.status({ state: 'idle' });
        return;
      }
      this.status({ state: 'checking' });
      const slow = setTimeout(() => {
        if (seq === this.seq) this.status({ state: 'slow' });
      }, this.opts.slowAfter);
      try {
        const result = await this.opts.lint(text);
        if (seq !== this.seq || this.readText() !== text) return;
        this.result = result;
        this.server = fromApi(result && result.findings, text);
        this.update();
        this.status({
          state: 'ok',
          score: result.score,
          passed: result.passed !== false,
          remaining: result.remaining || 0,
          count: this.findings.length,
        });
        this.opts.onResult(result, text, this.findings);
      } catch (err) {
        if (seq !== this.seq) return;
        this.status({ state: 'error', message: (err && err.message) || String(err) });
      } finally {
        clearTimeout(slow);
      }
    }

    status(s) {
      this.lastStatus = s;
      this.opts.onStatus(s);
      this.drawBadge();
      // The page may lay itself out again on a status (a longer message, a banner): the
      // mirror follows the field on the next frame.
      this.schedule();
    }

    update() {
      const shown = new Set(this.opts.severities);
      const local = this.opts.variables ? variableFindings(this.text) : [];
      this.findings = [...this.server, ...local]
        .filter((f) => shown.has(f.severity) && f.end > f.start)
        .sort((a, b) => a.start - b.start || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
      this.render();
    }

    render() {
      if (!this.el.isConnected) {
        this.detach();
        return;
      }
      if (this.textarea) this.drawMirror();
      else this.drawRanges();
      this.place();
      this.drawBadge();
    }

    drawMirror() {
      const text = this.text;
      const frag = document.createDocumentFragment();
      for (const p of pieces(text, this.findings)) {
        const part = text.slice(p.start, p.end);
        if (!p.findings.length) {
          frag.append(part);
          continue;
        }
        const mark = document.createElement('span');
        mark.className = `m ${worst(p.findings)}`;
        mark.dataset.start = String(p.start);
        mark.dataset.end = String(p.end);
        mark.dataset.rules = p.findings.map((f) => f.rule).join(' ');
        mark.textContent = part;
        mark.kefuFindings = p.findings;
        frag.append(mark);
      }
      // A trailing newline takes a line in a textarea; make the mirror as tall.
      frag.append('\u200b');
      this.mirrorText.replaceChildren(frag);
    }

    drawRanges() {
      const reg = highlights();
      this.clearRanges();
      if (!reg) return;
      for (const f of this.findings) {
        const range = domRange(this.model, f.start, f.end);
        if (!range) continue;
        reg[f.severity].add(range);
        this.ranges.push({ range, finding: f });
      }
    }

    clearRanges() {
      for (const { range, finding } of this.ranges) {
        if (registry[finding.severity]) registry[finding.severity].delete(range);
      }
      this.ranges = [];
    }

    schedule() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.place();
      });
    }

    /** Keeps the mirror over the textarea (position, size, style, scroll). */
    place() {
      const rect = this.el.getBoundingClientRect();
      if (this.textarea) {
        const m = this.mirror;
        const visible = rect.width > 0 && rect.height > 0;
        m.style.display = visible ? '' : 'none';
        if (visible) {
          const cs = getComputedStyle(this.el);
          for (const p of MIRRORED) m.style[p] = cs[p];
          m.style.left = `${rect.left + this.el.clientLeft}px`;
          m.style.top = `${rect.top + this.el.clientTop}px`;
          m.style.width = `${this.el.clientWidth}px`;
          m.style.height = `${this.el.clientHeight}px`;
          m.scrollTop = this.el.scrollTop;
          m.scrollLeft = this.el.scrollLeft;
        }
      }
      this.badge.style.left = `${rect.right - 26}px`;
      this.badge.style.top = `${rect.bottom - 24}px`;
      if (this.layer.tip.owner === this) this.layer.tip.hideSoon();
    }

    drawBadge() {
      if (!this.opts.badge) return;
      const s = this.lastStatus || {};
      const b = this.badge;
      b.className = 'badge';
      if (s.state === 'error') {
        b.classList.add('offline');
        b.textContent = '!';
        b.title = `kefu: ${s.message}`;
      } else if (!this.findings.length) {
        b.classList.toggle('hidden', !this.text.trim());
        b.textContent = '✓';
      } else {
        b.classList.add(worst(this.findings));
        b.textContent = String(this.findings.length);
        b.title = s.passed === false
          ? `kefu：未通过（${s.score} 分，及格线 80），${s.remaining || this.findings.length} 处需要改写`
          : `kefu：${this.findings.length} 处可改进（${s.score} 分）`;
      }
    }

    /** Findings under a point, and the rectangle to anchor the tooltip to. */
    hitTest(x, y) {
      if (this.textarea) {
        for (const mark of this.mirrorText.querySelectorAll('.m')) {
          for (const rect of mark.getClientRects()) {
            if (inside(rect, x, y)) return { findings: mark.kefuFindings, rect };
          }
        }
        return null;
      }
      const hits = [];
      let anchor = null;
      for (const { range, finding } of this.ranges) {
        for (const rect of range.getClientRects()) {
          if (inside(rect, x, y)) {
            hits.push(finding);
            anchor = anchor || rect;
            break;
          }
        }
      }
      return hits.length ? { findings: hits, rect: anchor } : null;
    }

    hover(x, y) {
      const hit = this.hitTest(x, y);
      if (hit) this.layer.tip.show(this, this.sorted(hit.findings), hit.rect);
      else if (this.layer.tip.owner === this) this.layer.tip.hideSoon();
    }

    sorted(findings) {
      return [...findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
    }

    /** Shows the tooltip for a finding (e.g. picked from a list instead of hovered). */
    reveal(finding) {
      this.select(finding.start, finding.end);
      const rect = this.rectOf(finding);
      if (rect) this.layer.tip.show(this, [finding], rect);
    }

    rectOf(finding) {
      if (this.textarea) {
        for (const mark of this.mirrorText.querySelectorAll('.m')) {
          if (mark.kefuFindings.includes(finding)) return mark.getClientRects()[0] || null;
        }
        return null;
      }
      const entry = this.ranges.find((r) => r.finding === finding);
      return entry ? entry.range.getClientRects()[0] || null : null;
    }

    /** Selects `[start, end)` of the draft. */
    select(start, end) {
      this.el.focus();
      if (this.textarea) {
        this.el.setSelectionRange(start, end);
        return true;
      }
      this.model = editableModel(this.el);
      const range = domRange(this.model, start, end);
      if (!range) return false;
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      return true;
    }

    /** Replaces `[start, end)` as if the user typed it: undoable, and the page sees `input`. */
    replace(start, end, text) {
      if (!this.select(start, end)) return false;
      let done = false;
      try {
        done = document.execCommand('insertText', false, text);
      } catch (_) {
        done = false;
      }
      if (!done) {
        if (this.textarea) {
          this.el.setRangeText(text, start, end, 'end');
        } else {
          const range = getSelection().getRangeAt(0);
          range.deleteContents();
          range.insertNode(document.createTextNode(text));
        }
        this.el.dispatchEvent(
          new InputEvent('input', { bubbles: true, inputType: 'insertReplacementText', data: text }),
        );
      }
      this.changed();
      return true;
    }

    /** Applies one finding's fix if the draft still reads what was flagged. */
    applyFix(finding) {
      if (!finding.fix) return false;
      const current = this.readText();
      if (current.slice(finding.start, finding.end) !== finding.text) {
        this.refresh();
        return false;
      }
      return this.replace(finding.start, finding.end, finding.fix.replacement);
    }

    /** Inserts text at the caret (or over the selection), e.g. a suggested answer. */
    insert(text) {
      this.el.focus();
      let start;
      if (this.textarea) {
        start = this.el.selectionStart;
        this.replace(start, this.el.selectionEnd, text);
      } else {
        start = this.readText().length;
        this.replace(start, start, text);
      }
      // Put the caret on the first variable to fill in, if the text has one.
      VARIABLE.lastIndex = 0;
      const v = VARIABLE.exec(text);
      if (v) this.select(start + v.index, start + v.index + v[0].length);
      return start;
    }

    /** Applies every safe fix, re-linting between rounds until none is left. */
    async fixAll(rounds = 5) {
      let applied = 0;
      for (let round = 0; round < rounds; round++) {
        await this.refresh();
        const fixes = this.server
          .filter((f) => f.fix && f.fix.safe)
          .sort((a, b) => b.start - a.start || b.end - a.end);
        let floor = Infinity;
        let changed = 0;
        for (const f of fixes) {
          if (f.end > floor) continue; // overlaps a fix already applied this round
          if (this.applyFix(f)) {
            changed++;
            floor = f.start;
          }
        }
        applied += changed;
        if (!changed) break;
      }
      await this.refresh();
      return applied;
    }

    detach() {
      clearTimeout(this.timer);
      this.seq++;
      this.el.removeEventListener('input', this.onInput);
      this.el.removeEventListener('mousemove', this.onMove);
      this.el.removeEventListener('mouseleave', this.onLeave);
      this.el.removeEventListener('scroll', this.onScroll);
      root.removeEventListener('scroll', this.onWindow, { capture: true });
      root.removeEventListener('resize', this.onWindow);
      if (this.resize) this.resize.disconnect();
      this.clearRanges();
      if (this.mirror) this.mirror.remove();
      this.badge.remove();
      if (this.layer.tip.owner === this) this.layer.tip.hide();
      attached.delete(this.el);
    }
  }

  const attached = new WeakMap();

  root.KefuHighlight = {
    /** Highlights `el` (a textarea or a contenteditable element); once per element. */
    attach(el, options) {
      const existing = attached.get(el);
      if (existing) return existing;
      const hl = new Highlighter(el, options);
      attached.set(el, hl);
      return hl;
    },
    get(el) {
      return attached.get(el) || null;
    },
  };
})(globalThis);
