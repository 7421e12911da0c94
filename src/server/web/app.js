// agentic-soc web UI: onboarding (paste → suggestion → tune → save) and the rules page.
// Plain browser JavaScript, no build step and no external resources.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) e.append(c);
  return e;
};

const state = {
  suggestion: null,   // the last /v1/suggest answer
  overrides: {},      // source key -> target ('' drops)
  text: '',           // the samples the suggestion was made from
  ruleTimer: null,
  runSeq: 0,
};

// ---------- API ----------
async function api(method, path, body) {
  const headers = {};
  const token = localStorage.getItem('soc-token');
  if (token) headers['Authorization'] = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch('/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  return { ok: res.ok, status: res.status, data };
}
const errorText = (r) => (r.data && r.data.errors ? r.data.errors.map((e) => e.rendered || e.message).join('\n') : 'HTTP ' + r.status);

// ---------- SPL highlighting ----------
const COMMANDS = new Set(['where', 'extend', 'project', 'project-away', 'project-rename', 'parse-regexp', 'parse-json', 'parse-csv', 'parse-kv', 'expand-values', 'stats', 'sort', 'limit', 'pack-fields', 'log-to-metric', 'metric-to-metric']);
const KEYWORDS = new Set(['case', 'when', 'then', 'else', 'end', 'and', 'or', 'not', 'in', 'as', 'null', 'true', 'false', 'like', 'is', 'by', 'between', 'cast', 'try_cast', 'array', 'asc', 'desc', 'let']);

function tokenize(src) {
  const out = [];
  const re = /(--[^\n]*)|('(?:[^'\\]|\\.|'')*'?)|("(?:[^"\\]|\\.)*"?)|(\b\d+(?:\.\d+)?\b)|(\|)|(\.?[A-Za-z_][\w-]*)(\s*\()?/g;
  let m;
  while ((m = re.exec(src))) {
    const s = m.index;
    if (m[1]) out.push([s, s + m[1].length, 't-com']);
    else if (m[2]) out.push([s, s + m[2].length, 't-str']);
    else if (m[3]) out.push([s, s + m[3].length, 't-field']);
    else if (m[4]) out.push([s, s + m[4].length, 't-num']);
    else if (m[5]) out.push([s, s + 1, 't-pipe']);
    else if (m[6]) {
      let word = m[6];
      const lower = word.toLowerCase();
      let cls = null;
      if (COMMANDS.has(lower)) cls = 't-cmd';
      else if (KEYWORDS.has(lower.replace(/^\./, ''))) cls = 't-kw';
      else if (m[7]) cls = 't-fn';
      else if (!COMMANDS.has(lower) && lower.includes('-')) { // a hyphen only belongs to commands
        word = word.split('-')[0];
        re.lastIndex = s + word.length;
      }
      if (cls) out.push([s, s + word.length, cls]);
    }
  }
  return out;
}

// Diagnostic spans are UTF-8 byte offsets; the editor works in UTF-16 indices.
function byteToIndex(text, byte) {
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    if (b >= byte) return i;
    const c = text.codePointAt(i);
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  return text.length;
}

function highlight(src, diags) {
  const marks = [];
  for (const d of diags || []) {
    for (const l of d.labels || []) {
      let s = byteToIndex(src, l.span.start);
      let e = byteToIndex(src, l.span.end);
      if (e <= s) e = s + 1;
      marks.push([s, e, d.severity === 'warning' ? 'diag-warning' : 'diag-error', d.message + (l.text ? ': ' + l.text : '')]);
    }
  }
  const tokens = tokenize(src);
  const cuts = new Set([0, src.length]);
  for (const [s, e] of tokens) { cuts.add(s); cuts.add(e); }
  for (const [s, e] of marks) { cuts.add(Math.min(s, src.length)); cuts.add(Math.min(e, src.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  const pre = $('#hl');
  pre.textContent = '';
  for (let i = 0; i + 1 < points.length; i++) {
    const [s, e] = [points[i], points[i + 1]];
    if (s === e) continue;
    const tok = tokens.find((t) => t[0] <= s && e <= t[1]);
    const mark = marks.filter((m) => m[0] <= s && e <= m[1]);
    const classes = [tok ? tok[2] : '', ...mark.map((m) => m[2])].filter(Boolean);
    const text = src.slice(s, e);
    if (classes.length) {
      const span = el('span', { class: classes.join(' ') }, text);
      if (mark.length) span.title = mark.map((m) => m[3]).join('\n');
      pre.append(span);
    } else pre.append(text);
  }
  // A span at the very end (e.g. "unexpected end of rule") gets a visible marker.
  for (const m of marks) if (m[0] >= src.length) pre.append(el('span', { class: m[2], title: m[3] }, ' '));
  pre.append('\n');
  syncScroll();
}
function syncScroll() { const t = $('#rule'), p = $('#hl'); p.scrollTop = t.scrollTop; p.scrollLeft = t.scrollLeft; }

// ---------- onboarding ----------
function status(text) { $('#status').textContent = text; }

async function suggest() {
  const text = $('#samples').value;
  if (!text.trim()) { status('paste some sample lines first'); return; }
  if (text !== state.text) state.overrides = {};
  state.text = text;
  status('suggesting…');
  const overrides = Object.entries(state.overrides).map(([source, target]) => ({ source, target: target || null }));
  const r = await api('POST', '/suggest', { text, overrides, llm: $('#use-llm').checked });
  if (!r.ok) { status(errorText(r)); return; }
  state.suggestion = r.data;
  status(`${r.data.fields.length} fields, ${r.data.samples.length} samples`);
  renderSuggestion(r.data);
}

function renderSuggestion(s) {
  for (const id of ['#detect-panel', '#fields-panel', '#rule-panel', '#preview-panel']) $(id).hidden = false;
  $('#format').textContent = s.format;
  $('#confidence').textContent = `confidence ${(s.confidence * 100).toFixed(0)}%`;
  const layers = $('#layers');
  layers.textContent = '';
  s.layers.forEach((l, i) => { if (i) layers.append(' → '); layers.append(el('span', { class: 'layer' }, l)); });
  const p = s.product;
  $('#product').textContent = p ? [p.vendor, p.product].filter(Boolean).join(' ') + (p.type || p.module ? ` (${[p.type, p.module].filter(Boolean).join(', ')})` : '') : 'not recognized (generic mapping)';
  $('#framing-line').hidden = !s.framing;
  $('#framing').textContent = s.framing ? `${s.framing.first_line} (${s.framing.evidence})` : '';
  $('#evidence').replaceChildren(...s.evidence.map((e) => el('li', {}, e)));
  $('#coverage').textContent = `${(s.coverage.parsed * 100).toFixed(0)}% of samples fully parsed`;
  const advice = s.advice || [];
  $('#advice-box').hidden = advice.length === 0;
  $('#advice tbody').replaceChildren(...advice.map((a) => el('tr', {},
    el('td', {}, a.kind), el('td', { class: 'mono' }, a.subject), el('td', { class: 'mono' }, a.proposal),
    el('td', { class: a.kept ? 'pass' : 'fail' }, a.kept ? 'kept' : 'rejected'), el('td', { class: 'reason' }, a.reason))));
  renderFields(s);
  $('#rule').value = s.spl;
  highlight(s.spl, s.diagnostics);
  renderDiagnostics(s.spl, s.diagnostics);
  renderPreview(s.preview.map((e, i) => ({ origin: i, event: e })), []);
  updateSaveVersion();
}

function valuesOf(s, target) {
  const seen = [];
  for (const e of s.preview) {
    const v = e[target];
    if (v === undefined || v === null) continue;
    const t = typeof v === 'string' ? v : JSON.stringify(v);
    if (!seen.includes(t)) seen.push(t);
    if (seen.length >= 3) break;
  }
  return seen;
}

function renderFields(s) {
  const rows = s.fields.map((f) => {
    const input = el('input', { class: 'target', list: 'ecs-list', value: f.target, 'data-source': f.source, 'aria-label': `target field for ${f.source}` });
    if (f.source in state.overrides) input.classList.add('changed');
    const commit = () => {
      const v = input.value.trim();
      if (v === f.target && !(f.source in state.overrides)) return;
      state.overrides[f.source] = v;
      suggest();
    };
    input.addEventListener('change', commit);
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); input.blur(); } });
    const level = f.confidence >= 0.8 ? 'hi' : f.confidence >= 0.5 ? 'mid' : 'lo';
    const bar = el('span', {});
    bar.style.width = `${Math.round(f.confidence * 100)}%`;
    const vals = valuesOf(s, f.target);
    return el('tr', { 'data-source': f.source },
      el('td', { class: 'mono' }, f.source),
      el('td', { class: 'values', title: vals.join('\n') }, vals.join(', ')),
      el('td', {}, f.type),
      el('td', {}, input),
      el('td', { title: f.reason },
        el('div', { class: 'conf' }, el('div', { class: `bar ${level}` }, bar), `${Math.round(f.confidence * 100)}%`),
        el('div', { class: 'reason' }, f.reason)));
  });
  $('#fields tbody').replaceChildren(...rows);
}

function renderDiagnostics(src, diags) {
  $('#diagnostics').replaceChildren(...(diags || []).map((d) =>
    el('li', { class: d.severity === 'warning' ? 'warning' : 'error' }, d.rendered || `${d.code}: ${d.message}`)));
}

function renderPreview(outputs, failures) {
  const cols = [];
  for (const o of outputs) for (const k of Object.keys(o.event)) if (!cols.includes(k)) cols.push(k);
  const shown = cols.filter((c) => c !== 'event.original').slice(0, 40);
  if (cols.includes('event.original')) shown.push('event.original');
  $('#preview thead').replaceChildren(el('tr', {}, el('th', {}, '#'), ...shown.map((c) => el('th', {}, c))));
  const rows = outputs.map((o) => el('tr', {}, el('td', {}, String(o.origin + 1)), ...shown.map((c) => {
    const v = o.event[c];
    const t = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return el('td', { title: t }, t);
  })));
  for (const f of failures) rows.push(el('tr', { class: 'failed' }, el('td', {}, String(f.origin + 1)), el('td', { colspan: Math.max(shown.length, 1) }, f.error.message)));
  rows.sort((a, b) => Number(a.firstChild.textContent) - Number(b.firstChild.textContent));
  $('#preview tbody').replaceChildren(...rows);
  $('#preview-summary').textContent = `${outputs.length} events out` + (failures.length ? `, ${failures.length} failed` : '');
}

// The rule changed in the editor: check it, underline the diagnostics, rerun the preview.
async function ruleChanged() {
  const rule = $('#rule').value;
  const seq = ++state.runSeq;
  highlight(rule, []);
  const s = state.suggestion;
  const r = await api('POST', '/spl/run', { rule, events: s ? s.samples : [], now: s ? s.reference_time : undefined });
  if (seq !== state.runSeq) return;
  if (r.status === 422) {
    highlight(rule, r.data.errors);
    renderDiagnostics(rule, r.data.errors);
    return;
  }
  if (!r.ok) { renderDiagnostics(rule, [{ severity: 'error', message: errorText(r) }]); return; }
  highlight(rule, r.data.warnings);
  renderDiagnostics(rule, r.data.warnings);
  renderPreview(r.data.outputs, r.data.failures);
}

async function formatRule() {
  const r = await api('POST', '/spl/fmt', { rule: $('#rule').value });
  if (r.ok) { $('#rule').value = r.data.rule; ruleChanged(); } else if (r.status === 422) { highlight($('#rule').value, r.data.errors); renderDiagnostics('', r.data.errors); }
}

async function existingRule(name) {
  const r = await api('GET', '/rules');
  return r.ok ? r.data.find((x) => x.name === name) : undefined;
}

async function updateSaveVersion() {
  const name = $('#save-name').value.trim();
  if (!name) { $('#save-version').textContent = ''; return; }
  const old = await existingRule(name);
  $('#save-version').textContent = old ? `saves version ${old.version + 1}` : 'saves version 1';
}

async function save() {
  const name = $('#save-name').value.trim();
  const s = state.suggestion;
  if (!name) { $('#save-status').textContent = 'give the rule a name'; $('#save-name').focus(); return; }
  const lines = state.text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const body = { name, spl: $('#rule').value, samples: lines, now: s ? s.reference_time : undefined,
    first_line: s && s.framing ? s.framing.first_line : undefined, description: s ? `suggested for ${s.format}` : '' };
  const old = await existingRule(name);
  const r = old ? await api('PUT', `/rules/${old.id}`, body) : await api('POST', '/rules', body);
  if (!r.ok) {
    $('#save-status').textContent = errorText(r);
    if (r.status === 422) highlight($('#rule').value, r.data.errors);
    return;
  }
  $('#save-status').textContent = `saved ${r.data.name} version ${r.data.version}`;
  updateSaveVersion();
}

// ---------- rules page ----------
async function loadRules() {
  const r = await api('GET', '/rules');
  if (!r.ok) { $('#rules-status').textContent = errorText(r); return; }
  $('#rules-status').textContent = `${r.data.length} rules`;
  $('#rules-table tbody').replaceChildren(...r.data.map((rule) => {
    const cell = el('td', { class: 'test-status', 'data-id': rule.id }, 'not run');
    const btn = el('button', { type: 'button', class: 'secondary', onclick: () => runTest(rule.id, cell) }, 'Run test');
    return el('tr', { 'data-name': rule.name },
      el('td', { class: 'mono' }, rule.name), el('td', {}, String(rule.version)),
      el('td', {}, new Date(rule.updated).toLocaleString()), el('td', {}, String(rule.samples.length)),
      cell, el('td', {}, btn));
  }));
}

async function runTest(id, cell) {
  cell.textContent = 'running…';
  const r = await api('POST', `/rules/${id}/test`);
  if (!r.ok) { cell.textContent = errorText(r); cell.className = 'test-status fail'; return; }
  const t = r.data;
  cell.textContent = t.passed ? `passed (${t.events} events)` : `failed (${t.diffs.length} differences)`;
  cell.className = 'test-status ' + (t.passed ? 'pass' : 'fail');
  const detail = $('#test-detail');
  detail.hidden = t.passed;
  if (!t.passed) detail.textContent = t.compile_errors || JSON.stringify(t.diffs, null, 2);
}

async function testAll() {
  for (const cell of document.querySelectorAll('#rules-table .test-status')) await runTest(cell.dataset.id, cell);
}

// ---------- wiring ----------
function route() {
  const rules = location.hash.startsWith('#/rules');
  $('#page-onboard').hidden = rules;
  $('#page-rules').hidden = !rules;
  $('#nav-rules').classList.toggle('active', rules);
  $('#nav-onboard').classList.toggle('active', !rules);
  if (rules) loadRules();
}

async function init() {
  const h = await api('GET', '/health');
  if (h.ok) {
    $('#server-info').textContent = `v${h.data.version}` + (h.data.llm ? ` · LLM ${h.data.llm}` : ' · no LLM');
    $('#llm-box').hidden = !h.data.llm;
    $('#llm-model').textContent = h.data.llm || '';
    $('#token-box').hidden = !h.data.auth;
  }
  $('#token').value = localStorage.getItem('soc-token') || '';
  $('#token').addEventListener('change', () => { localStorage.setItem('soc-token', $('#token').value); loadEcs(); });
  loadEcs();
  $('#suggest-btn').addEventListener('click', suggest);
  $('#samples').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); suggest(); } });
  const drop = $('#samples');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('drop'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('drop'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('drop');
    const f = e.dataTransfer.files[0];
    if (f) { drop.value = (await f.text()).split('\n').slice(0, 1000).join('\n'); suggest(); }
  });
  const rule = $('#rule');
  rule.addEventListener('input', () => { highlight(rule.value, []); clearTimeout(state.ruleTimer); state.ruleTimer = setTimeout(ruleChanged, 250); });
  rule.addEventListener('scroll', syncScroll);
  rule.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey) { // two spaces; Esc then Tab leaves the editor
      if (rule.dataset.escaped) { delete rule.dataset.escaped; return; }
      e.preventDefault();
      rule.setRangeText('  ', rule.selectionStart, rule.selectionEnd, 'end');
      rule.dispatchEvent(new Event('input'));
    } else if (e.key === 'Escape') rule.dataset.escaped = '1';
    else if (e.key === 's' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
  });
  $('#fmt-btn').addEventListener('click', formatRule);
  $('#save-btn').addEventListener('click', save);
  $('#save-name').addEventListener('change', updateSaveVersion);
  $('#save-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') save(); });
  $('#test-all').addEventListener('click', testAll);
  window.addEventListener('hashchange', route);
  route();
}

async function loadEcs() {
  const r = await api('GET', '/ecs/fields');
  if (!r.ok) return;
  $('#ecs-list').replaceChildren(...r.data.map((f) => el('option', { value: f.name }, `${f.type} — ${f.description}`)));
}

init();
