// The playground page: a draft box checked as the agent types, a question box that finds
// answers in the knowledge base, and the phrase library by scene. Talks to the same server
// that served it.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const draft = $('draft');
  const customer = $('customer');
  const question = $('question');
  const statusEl = $('status');
  const scoreEl = $('score');
  const fixAllButton = $('fix-all');
  const findingsEl = $('findings');
  const answersEl = $('answers');
  const verdictEl = $('verdict');
  const SEVERITY_LABEL = { error: '错误', warning: '警告', info: '提示' };
  const TIMEOUT_MS = 10000;
  // The score a draft needs to pass (kefu::PASS_MARK): any error-level finding fails it.
  const PASS_MARK = 80;
  let afterFixAll = false;

  /** POSTs JSON (or GETs without a body); rejects with a message a person can act on. */
  async function api(path, body) {
    const answer = await KefuApi.call(path, body, TIMEOUT_MS);
    if (!answer.ok) throw new Error(answer.error);
    return answer.result;
  }

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = `status ${kind || ''}`;
  }

  function role() {
    return document.querySelector('input[name="role"]:checked').value;
  }

  // ---- the draft box ------------------------------------------------------------------

  const hl = KefuHighlight.attach(draft, {
    lint: (text) =>
      api('/v1/lint', {
        text,
        role: role(),
        customer: customer.value.trim() ? customer.value : undefined,
      }),
    onStatus: (s) => showStatus(s),
  });

  function showStatus(s) {
    switch (s.state) {
      case 'idle':
        setStatus('就绪：输入回复即可检查', 'ok');
        scoreEl.textContent = '—';
        scoreEl.className = 'score';
        break;
      case 'checking':
        break;
      case 'slow':
        setStatus('kefu 服务响应较慢，仍在等待…', 'slow');
        break;
      case 'ok': {
        // A draft below the pass mark is never shown as done, even after the safe fixes.
        let text = '已检查：没有发现问题';
        if (!s.passed) {
          text = afterFixAll && s.remaining
            ? `已应用安全修复，仍未通过：${s.remaining} 处需要人工改写（及格线 ${PASS_MARK} 分）`
            : `未通过（及格线 ${PASS_MARK} 分）：${s.count} 处需要注意` +
              (s.remaining ? `，其中 ${s.remaining} 处需要人工改写` : '');
        } else if (s.count) {
          text = `已检查：${s.count} 处需要注意` + (s.remaining ? `，${s.remaining} 处需要人工改写` : '');
        }
        setStatus(text, s.passed ? 'ok' : 'fail');
        scoreEl.textContent = String(s.score);
        scoreEl.className = `score ${!s.passed ? 'poor' : s.score >= 90 ? 'good' : 'fair'}`;
        scoreEl.title = s.passed ? '礼貌分：100 为没有问题' : `礼貌分：未达到及格线 ${PASS_MARK} 分`;
        break;
      }
      case 'error':
        setStatus(`无法检查：${s.message}`, 'error');
        break;
      default:
        break;
    }
    listFindings();
  }
  // Typing after "fix all" makes the status about the draft again.
  draft.addEventListener('input', () => {
    afterFixAll = false;
  });

  function listFindings() {
    const findings = hl.findings;
    findingsEl.replaceChildren();
    for (const f of findings) {
      const li = document.createElement('li');
      li.className = `finding ${f.severity}`;
      li.dataset.rule = f.rule;
      li.tabIndex = 0;
      const sev = document.createElement('span');
      sev.className = 'sev';
      sev.textContent = SEVERITY_LABEL[f.severity];
      const quote = document.createElement('q');
      quote.textContent = f.text;
      const msg = document.createElement('span');
      msg.className = 'msg';
      msg.textContent = f.message;
      li.append(sev, quote, msg);
      const open = () => hl.reveal(f);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      findingsEl.append(li);
    }
    fixAllButton.disabled = !hl.server.some((f) => f.fix && f.fix.safe);
  }

  fixAllButton.addEventListener('click', async () => {
    fixAllButton.disabled = true;
    await hl.fixAll();
    afterFixAll = true;
    if (hl.lastStatus) showStatus(hl.lastStatus);
    listFindings();
  });

  for (const radio of document.querySelectorAll('input[name="role"]')) {
    radio.addEventListener('change', () => hl.refresh());
  }
  let customerTimer = 0;
  customer.addEventListener('input', () => {
    clearTimeout(customerTimer);
    customerTimer = setTimeout(() => hl.refresh(), 400);
  });

  // ---- the question box ---------------------------------------------------------------

  let askSeq = 0;
  let askTimer = 0;

  async function ask(record) {
    const text = question.value.trim();
    const seq = ++askSeq;
    if (!text) {
      answersEl.replaceChildren();
      verdictEl.hidden = true;
      return;
    }
    verdictEl.hidden = false;
    verdictEl.className = 'verdict';
    verdictEl.textContent = '查找中…';
    try {
      const result = await api('/v1/suggest', { question: text, k: 5, record });
      if (seq !== askSeq) return;
      showAnswers(result, text);
    } catch (err) {
      if (seq !== askSeq) return;
      verdictEl.className = 'verdict error';
      verdictEl.textContent = `无法查找：${err.message}`;
    }
  }

  // Whether the service learns from the answers agents insert (it does with an on-disk index
  // and learning on); known once connected.
  let learning = false;

  /** Tells the service that the answer of entry `id` was inserted for `asked`. */
  async function chosen(asked, id, question) {
    if (!learning) return;
    const answer = await KefuApi.call('/v1/suggest/feedback', { question: asked, id }, TIMEOUT_MS);
    if (answer.ok && answer.result.status === 'learned') {
      verdictEl.className = 'verdict ok';
      verdictEl.textContent = `已学会：以后这样问会直接找到“${question}”的答案`;
    }
  }

  function showAnswers(result, asked) {
    answersEl.replaceChildren();
    const list = result.suggestions || [];
    if (result.answered) {
      verdictEl.className = 'verdict ok';
      verdictEl.textContent = '找到了答案，点“插入”放进回复草稿';
    } else {
      verdictEl.className = 'verdict none';
      verdictEl.textContent = list.length
        ? '没有把握的答案：下面是最接近的候选，请核对后再用'
        : '知识库里没有相关的答案';
    }
    list.forEach((s, i) => {
      const li = document.createElement('li');
      li.className = `answer${result.answered && i === 0 ? ' best' : ''}${result.answered ? '' : ' unsure'}`;
      li.dataset.id = s.id;
      const head = document.createElement('div');
      head.className = 'answer-head';
      const conf = document.createElement('span');
      conf.className = 'confidence';
      conf.textContent = `${Math.round((s.confidence || 0) * 100)}%`;
      conf.title = '置信度';
      const source = document.createElement('span');
      source.className = 'source';
      source.textContent = s.source === 'phrase' ? '话术' : '知识库';
      const q = document.createElement('span');
      q.className = 'kb-question';
      q.textContent = s.question;
      head.append(conf, source, q);
      const body = document.createElement('p');
      body.className = 'answer-text';
      body.textContent = s.answer;
      const foot = document.createElement('div');
      foot.className = 'answer-foot';
      if (Array.isArray(s.matched) && s.matched.length) {
        const m = document.createElement('span');
        m.className = 'matched';
        m.textContent = `匹配：${s.matched.join('、')}`;
        foot.append(m);
      }
      if (Array.isArray(s.also) && s.also.length) {
        const a = document.createElement('span');
        a.className = 'matched';
        a.textContent = `同一答案：${s.also.join('、')}`;
        foot.append(a);
      }
      if (Array.isArray(s.missing_vars) && s.missing_vars.length) {
        const v = document.createElement('span');
        v.className = 'vars';
        v.textContent = `待填：${s.missing_vars.join('、')}`;
        foot.append(v);
      }
      const insert = document.createElement('button');
      insert.type = 'button';
      insert.className = 'insert';
      insert.textContent = '插入';
      insert.addEventListener('click', () => {
        hl.insert(s.answer);
        if (s.source !== 'phrase') chosen(asked, s.id, s.question);
      });
      foot.append(insert);
      li.append(head, body, foot);
      answersEl.append(li);
    });
  }

  question.addEventListener('input', () => {
    clearTimeout(askTimer);
    // Looked up as the user types: not recorded as an unanswered question.
    askTimer = setTimeout(() => ask(false), 400);
  });
  question.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      clearTimeout(askTimer);
      ask(true);
    }
  });
  $('ask').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(askTimer);
    ask(true);
  });

  // ---- the phrase panel (快捷短语) ---------------------------------------------------

  const scenesEl = $('scenes');
  const phraseListEl = $('phrase-list');

  /** Shows the scene tabs of the library and the first scene's phrases. */
  function showPhrases(panel) {
    scenesEl.replaceChildren();
    const show = (scene) => {
      for (const tab of scenesEl.children) {
        tab.setAttribute('aria-selected', String(tab.dataset.scene === scene));
      }
      phraseListEl.replaceChildren();
      for (const p of panel.phrases.filter((x) => x.scene === scene)) {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.id = p.id;
        button.textContent = p.text;
        button.title = p.vars.length ? `插入回复草稿，待填：${p.vars.join('、')}` : '插入回复草稿';
        // Inserted like an answer: its {variables} marked, the first selected to type over.
        button.addEventListener('click', () => hl.insert(p.text));
        li.append(button);
        phraseListEl.append(li);
      }
    };
    for (const { scene, phrases } of panel.scenes) {
      const tab = document.createElement('button');
      tab.type = 'button';
      tab.setAttribute('role', 'tab');
      tab.dataset.scene = scene;
      tab.textContent = `${KefuApi.sceneLabel(scene)} ${phrases}`;
      tab.addEventListener('click', () => show(scene));
      scenesEl.append(tab);
    }
    if (panel.scenes.length) show(panel.scenes[0].scene);
  }

  // ---- the server's state -------------------------------------------------------------

  // The knowledge base is counted in entries (questions with their answers); the index also
  // holds each entry's similar questions and the phrases, which /readyz counts as documents.
  Promise.all([api('/readyz'), api('/v1/kb?limit=1')])
    .then(([r, kb]) => {
      setStatus(`已连接：${r.rules} 条规则，知识库 ${kb.total} 个问答`, 'ok');
      statusEl.title = `索引共 ${r.kb_documents} 条：问答的标准问法和相似问法，以及话术`;
    })
    .catch((err) => setStatus(`无法连接：${err.message}`, 'error'));
  api('/v1/kb/learned?limit=1')
    .then((l) => {
      learning = l.recording && l.learn_after !== null;
    })
    .catch(() => {
      learning = false;
    });
  // A library without phrases, or a server that can't list them, leaves the panel out.
  api('/v1/phrases')
    .then((panel) => {
      $('phrases').hidden = !panel.scenes.length;
      showPhrases(panel);
    })
    .catch(() => {
      $('phrases').hidden = true;
    });
})();
