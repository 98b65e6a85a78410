// MedVault workbench: builds template forms, streams runs from the JSON API, shows guard findings and the
// word diff, keeps the tab's work in sessionStorage, sends ratings and the survey. No inline script
// anywhere: the CSP allows only this file.
"use strict";

(function () {
  const API = "/api/v1";
  const STORE = "mv.workbench"; // sessionStorage: this tab's draft and its last answers
  // Who is signed in on this page ("" on the sign-in form). The tab's memory belongs to that user: on a
  // shared ward PC the next user signs in in the same tab and must not find the last one's dictation.
  const user = document.body.dataset.user || "";
  const KEPT_RUNS = 5; // answers kept in the tab, newest first
  const $ = (id) => document.getElementById(id);
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const stringsNode = $("mv-strings");
  const T = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  const lang = document.body.dataset.lang || "de";
  // Guard codes (side_changed, number_added, ...) and, until the API passes codes, check names ->
  // the rating's error category, by the code's leading word.
  const CATEGORY_OF = {
    side: "laterality", laterality: "laterality", negation: "negation", certainty: "negation",
    number: "number_unit", numbers: "number_unit", unit: "number_unit", new: "hallucination",
    omission: "omission", omissions: "omission", wrong: "other",
  };
  const categoryOf = (code) => CATEGORY_OF[String(code).split("_")[0]] || null;
  let currentRun = null;
  let template = null; // the chosen template's detail record
  let running = null; // {controller, key, body} while a run is being started, streamed or looked up
  let overLimit = false;
  let tokensApi = true; // false once the server says it has no token counter

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const IN_PROGRESS_POLL_MS = 120000; // how long a retry waits for the first request's run

  // -- this tab's memory (sessionStorage: gone with the tab, never on the server) ----------------
  let signingOut = false; // set at sign-out: a pending debounced save must not write the draft back

  function storedState() {
    try {
      return JSON.parse(window.sessionStorage.getItem(STORE)) || {};
    } catch (e) {
      return {};
    }
  }

  function forgetState() {
    try {
      window.sessionStorage.removeItem(STORE);
    } catch (e) {
      /* storage off: nothing was kept */
    }
  }

  // Before anything is restored: drop memory without an owner (kept by an older page) or of another
  // user. The sign-in form (no user) keeps its owner's memory, so a dictation saved when the session
  // expired comes back after that user, and only that user, signs in again.
  function checkOwner() {
    const owner = storedState().owner;
    if (!owner || (user && owner !== user)) forgetState();
  }

  function loadState() {
    const state = storedState();
    return user && state.owner === user ? state : {};
  }

  function saveState(change) {
    const state = Object.assign(loadState(), change, { owner: user });
    if (!user || signingOut) return state;
    try {
      window.sessionStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) {
      /* storage full or off: the page still works, it just forgets on reload */
    }
    return state;
  }

  function watchSignout() {
    // The server also sends Clear-Site-Data, but browsers ignore it on plain-http origins other than
    // localhost; this form is the user's own sign-out, so forget here as well.
    const form = document.querySelector('form[action="/workbench/signout"]');
    if (!form) return;
    form.addEventListener("submit", () => {
      signingOut = true;
      forgetState();
    });
  }

  function saveDraft() {
    if (!template) return;
    const state = loadState();
    const inputs = state.inputs || {};
    inputs[template.id] = rawInputs();
    saveState({ template: template.id, inputs: inputs });
  }

  function keepRun(run) {
    const state = loadState();
    const runs = (state.runs || []).filter((r) => r.id !== run.id);
    runs.unshift(run);
    saveState({ runs: runs.slice(0, KEPT_RUNS), lastRun: run.id });
  }

  function keptRun(runId) {
    return (loadState().runs || []).find((r) => r.id === runId) || null;
  }

  // -- requests ----------------------------------------------------------------------------------
  async function api(path, options) {
    const opts = options || {};
    const headers = Object.assign({ "x-medvault-client": "workbench", "x-csrf-token": csrf() }, opts.headers);
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(API + path, {
      method: opts.method || "GET",
      headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      signal: opts.signal,
    });
    if (response.status === 401) {
      // The session ended: keep the typed dictation in this tab, sign in, and find it here again.
      saveDraft();
      window.location.assign("/workbench/signin?expired=1");
      throw new Error("signed out");
    }
    return response;
  }

  function runKey() {
    // One id per click: a retry of the same click reuses it, so the server never starts a second run.
    if (window.crypto.randomUUID) return window.crypto.randomUUID(); // secure contexts only
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  async function problemOf(response) {
    try {
      const body = await response.json();
      return Object.assign({ message: response.status + " " + response.statusText }, body.error || {});
    } catch (e) {
      return { message: response.status + " " + response.statusText };
    }
  }

  function showStatus(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
  }

  // -- header: isolation badge and theme ---------------------------------------------------------
  function watchIsolation() {
    const badge = $("isolation");
    const state = $("isolation-state");
    if (!badge || !state) return;
    setInterval(async () => {
      try {
        const response = await fetch("/workbench/isolation", { credentials: "same-origin" });
        const reported = (await response.json()).state;
        // Fail closed: a state this page does not know is shown as "unknown", styled like a breach.
        const now = ["ok", "breached", "off"].includes(reported) ? reported : "unknown";
        if (now !== state.dataset.state) {
          state.dataset.state = now;
          state.textContent = badge.dataset["label" + now.charAt(0).toUpperCase() + now.slice(1)] || now;
          badge.className = "isolation isolation-" + now;
        }
      } catch (e) {
        /* the next poll tries again */
      }
    }, 15000);
  }

  function setupTheme() {
    const button = $("theme-toggle");
    const root = document.documentElement;
    const system = window.matchMedia("(prefers-color-scheme: dark)");
    const chosen = () => {
      try {
        return window.localStorage.getItem("mv.theme");
      } catch (e) {
        return null;
      }
    };
    const apply = () => {
      const dark = (chosen() || (system.matches ? "dark" : "light")) === "dark";
      root.dataset.theme = dark ? "dark" : "light";
      if (button) {
        button.setAttribute("aria-pressed", String(dark));
        button.textContent = dark ? button.dataset.labelLight : button.dataset.labelDark;
      }
    };
    apply();
    system.addEventListener("change", apply);
    if (button) {
      button.addEventListener("click", () => {
        try {
          window.localStorage.setItem("mv.theme", root.dataset.theme === "dark" ? "light" : "dark");
        } catch (e) {
          /* not kept, but switched for this page */
        }
        apply();
      });
    }
  }

  // -- template picker and form ------------------------------------------------------------------
  function filterTemplates() {
    const query = $("template-search").value.trim().toLowerCase();
    let shown = 0;
    for (const group of document.querySelectorAll("#picker-form fieldset.group")) {
      let inGroup = 0;
      for (const choice of group.querySelectorAll(".choice")) {
        const match = !query || choice.dataset.search.includes(query);
        choice.hidden = !match;
        if (match) inGroup += 1;
      }
      group.hidden = inGroup === 0;
      shown += inGroup;
    }
    $("no-match").hidden = shown > 0;
  }

  function choiceLabel(value) {
    return T["val." + value] || value;
  }

  function inputControl(spec) {
    const id = "in-" + spec.name;
    // No maxlength: it silently cuts a paste. Oversize input is refused visibly instead.
    const common = { id: id, name: spec.name, required: spec.required ? "required" : null };
    if (spec.choices && spec.choices.length) {
      const select = el("select", common);
      if (!spec.required) select.appendChild(el("option", { value: "" }, "–"));
      for (const choice of spec.choices) select.appendChild(el("option", { value: choice }, choiceLabel(choice)));
      return select;
    }
    if (spec.type === "number" || spec.type === "integer") {
      return el("input", Object.assign(common, { type: "number", step: spec.type === "integer" ? "1" : "any" }));
    }
    if (spec.type === "boolean") return el("input", Object.assign(common, { type: "checkbox", required: null }));
    if (spec.type === "string" || spec.type === "line") return el("input", Object.assign(common, { type: "text" }));
    return el("textarea", Object.assign(common, { rows: "14" }));
  }

  async function chooseTemplate(templateId) {
    const response = await api("/templates/" + encodeURIComponent(templateId) + "?lang=" + lang);
    if (!response.ok) return showStatus($("limit-message"), (await problemOf(response)).message, true);
    template = await response.json();
    const box = $("inputs");
    box.replaceChildren();
    box.dataset.template = template.id;
    const saved = (loadState().inputs || {})[template.id] || {};
    for (const spec of template.inputs) {
      const row = el("p", { class: "field" });
      row.appendChild(el("label", { for: "in-" + spec.name }, spec.label + (spec.required ? " *" : "")));
      const control = inputControl(spec);
      if (spec.name in saved) {
        if (spec.type === "boolean") control.checked = Boolean(saved[spec.name]);
        else control.value = saved[spec.name];
      }
      row.appendChild(control);
      box.appendChild(row);
    }
    const warning = $("template-warning");
    warning.textContent = template.warning || "";
    warning.hidden = !template.warning;
    saveState({ template: template.id });
    tokenVerdict = null;
    checkLimits();
    countTokens();
  }

  function rawInputs() {
    const values = {};
    for (const spec of template ? template.inputs : []) {
      const control = $("in-" + spec.name);
      if (control) values[spec.name] = spec.type === "boolean" ? control.checked : control.value;
    }
    return values;
  }

  function collectInputs() {
    const inputs = {};
    for (const spec of template.inputs) {
      const control = $("in-" + spec.name);
      if (!control) continue;
      if (spec.type === "boolean") inputs[spec.name] = control.checked;
      else if (control.value === "") continue;
      else if (spec.type === "number" || spec.type === "integer") inputs[spec.name] = Number(control.value);
      else inputs[spec.name] = control.value;
    }
    return inputs;
  }

  // -- limits: characters here, tokens by the server's count -------------------------------------
  let tokenVerdict = null; // the server's last {tokens, limit, over}, null if unknown

  function refuse(message, control) {
    const node = $("limit-message");
    node.textContent = message;
    node.hidden = false;
    if (control) control.setAttribute("aria-invalid", "true");
  }

  function checkLimits() {
    if (!template) return;
    for (const bad of $("inputs").querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    $("limit-message").hidden = true;
    overLimit = false;
    for (const spec of template.inputs) {
      const control = $("in-" + spec.name);
      if (control && spec.max_chars && typeof control.value === "string" && control.value.length > spec.max_chars) {
        overLimit = true;
        const values = { field: spec.label, n: control.value.length, limit: spec.max_chars };
        refuse(fmt(T.too_long_chars, values), control);
      }
    }
    const counter = $("token-counter");
    if (tokenVerdict) {
      counter.textContent = fmt(T.tokens, { n: tokenVerdict.tokens, limit: tokenVerdict.limit });
      counter.hidden = false;
      counter.classList.toggle("over", tokenVerdict.over);
      if (tokenVerdict.over && !overLimit) {
        overLimit = true;
        const source = template.source_variable && $("in-" + template.source_variable);
        refuse(fmt(T.too_long, { n: tokenVerdict.tokens, limit: tokenVerdict.limit }), source);
      }
    } else counter.hidden = true;
    syncRunButton();
  }

  async function countTokens() {
    if (!template || !tokensApi) return;
    const asked = template.id;
    try {
      const response = await api("/tokens", {
        method: "POST",
        body: { template_id: template.id, inputs: collectInputs(), lang: lang },
      });
      if (response.status === 404 || response.status === 405) {
        tokensApi = false; // a server without the counter: characters are still checked here
        return;
      }
      if (!response.ok || !template || template.id !== asked) return;
      tokenVerdict = await response.json();
    } catch (e) {
      tokenVerdict = null; // a failed count blocks nothing: the server refuses oversize runs itself
    }
    checkLimits();
  }

  const countLater = debounce(countTokens, 400);
  const saveLater = debounce(saveDraft, 300);

  function syncRunButton() {
    $("run-button").disabled = !template || Boolean(running) || overLimit;
  }

  // -- streaming a run ---------------------------------------------------------------------------
  let ticker = null;

  function startClock(phase) {
    const started = Date.now();
    const node = $("elapsed");
    node.hidden = false;
    node.dataset.phase = phase;
    const tick = () => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      const label = node.dataset.phase === "queued" ? T.queued : T.running;
      node.textContent = label + " " + fmt(T.seconds, { n: seconds });
    };
    tick();
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
  }

  function stopClock() {
    clearInterval(ticker);
    ticker = null;
    $("elapsed").hidden = true;
  }

  function resetResult() {
    $("result").hidden = false;
    $("output").textContent = "";
    $("reasoning").textContent = "";
    $("reasoning-box").hidden = true;
    $("structured").hidden = true;
    $("structured").replaceChildren();
    $("answer-box").hidden = false;
    $("copy").hidden = false;
    $("copy-note").hidden = true;
    $("guard").hidden = true;
    $("diff-box").hidden = true;
    $("feedback-form").hidden = true;
    $("feedback-form").reset();
    $("conn-lost").hidden = true;
    lockFeedback(false);
    showStatus($("feedback-status"), "");
    showStatus($("run-status"), "");
    currentRun = null;
  }

  function* sseEvents(buffer) {
    // Yields [event, data] for each complete event in buffer.text and keeps the unfinished rest.
    let cut;
    while ((cut = buffer.text.indexOf("\n\n")) >= 0) {
      const block = buffer.text.slice(0, cut);
      buffer.text = buffer.text.slice(cut + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) yield [event, JSON.parse(data)];
    }
  }

  function runTemplate(event) {
    event.preventDefault();
    if (!template || running || overLimit) return;
    saveDraft();
    resetResult();
    start({ key: runKey(), body: { template_id: template.id, lang: lang, inputs: collectInputs() }, retried: false });
  }

  function retryRun() {
    // A new click: a new run with a new key (the lost one is shown, not repeated).
    if (!template || running) return;
    resetResult();
    start({ key: runKey(), body: { template_id: template.id, lang: lang, inputs: collectInputs() }, retried: false });
  }

  function finish() {
    running = null;
    stopClock();
    $("stop-button").hidden = true;
    syncRunButton();
  }

  async function start(attempt) {
    const status = $("run-status");
    const controller = new AbortController();
    running = Object.assign(attempt, { controller: controller });
    syncRunButton();
    $("stop-button").hidden = false;
    $("result").hidden = false;
    if (!attempt.retried) showStatus(status, T.running);
    startClock("queued");
    let outcome;
    try {
      outcome = await send(attempt, controller.signal, status);
    } catch (e) {
      if (e.name === "AbortError") outcome = "stopped";
      else if (e instanceof TypeError) outcome = "lost"; // fetch's network error: no answer, or a cut stream
      else throw e;
    } finally {
      finish();
    }
    if (outcome === "stopped") showStatus(status, T.stopped);
    else if (outcome === "lost") connectionLost(attempt);
  }

  // Sends the run request and follows its stream; "done", "failed", "lost" or (via abort) "stopped".
  async function send(attempt, signal, status) {
    const pollUntil = Date.now() + IN_PROGRESS_POLL_MS;
    for (;;) {
      const response = await api("/runs", {
        method: "POST",
        body: attempt.body,
        headers: { "idempotency-key": attempt.key },
        signal: signal,
      });
      if (response.status === 409) {
        const problem = await problemOf(response);
        if (problem.code === "run_in_progress") {
          // The first request still owns the run; ask again until it has a result to show, for a
          // while: a request that never ends (its claim lapses after an hour) must not poll forever.
          if (Date.now() > pollUntil) {
            $("conn-lost").hidden = false;
            showStatus(status, T.conn_lost, true);
            return "failed";
          }
          showStatus(status, T.conn_checking);
          await sleep(2000);
          if (signal.aborted) throw new DOMException("stopped", "AbortError");
          continue;
        }
        const found = /runs\/([^\s;,]+)/.exec(problem.message || "");
        const runId = problem.run_id || (found && found[1]);
        if (runId) {
          await loadRun(runId, T.run_attached);
          return "done";
        }
        showStatus(status, T.failed + ": " + problem.message, true);
        return "failed";
      }
      if (!response.ok) {
        await refused(response, status);
        return "failed";
      }
      return follow(response, status);
    }
  }

  async function refused(response, status) {
    const problem = await problemOf(response);
    const param = problem.param || "";
    const control = param.startsWith("inputs.") ? $("in-" + param.slice(7)) : null;
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
    if (problem.code === "input_too_long" && problem.tokens !== undefined) {
      tokenVerdict = { tokens: problem.tokens, limit: problem.limit, over: true };
      checkLimits();
    }
    showStatus(status, T.failed + ": " + problem.message, true);
  }

  async function follow(response, status) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const buffer = { text: "" };
    let outcome = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer.text += value;
      for (const [name, data] of sseEvents(buffer)) outcome = handleEvent(name, data, status) || outcome;
    }
    return outcome || "lost"; // the stream ended without its last event: the connection was cut
  }

  function handleEvent(name, data, status) {
    if (name === "status") {
      $("elapsed").dataset.phase = data.state;
      showStatus(status, data.state === "queued" ? T.queued : T.running);
    } else if (name === "content") $("output").textContent += data.text;
    else if (name === "reasoning") {
      $("reasoning-box").hidden = false;
      $("reasoning").textContent += data.text;
    } else if (name === "error") {
      const problem = data.error || data;
      showStatus(status, T.failed + ": " + problem.message, true);
      return "failed";
    } else if (name === "done") {
      showStatus(status, T.done + " " + T.run_id + " " + data.id);
      keepRun(data);
      showRun(data);
      window.history.replaceState(null, "", "/workbench?run=" + encodeURIComponent(data.id));
      loadRecent();
      return "done";
    }
    return null;
  }

  async function connectionLost(attempt) {
    $("conn-lost").hidden = false;
    showStatus($("run-status"), T.conn_checking, true);
    if (attempt.retried) return showStatus($("run-status"), T.conn_lost, true);
    // One automatic retry with the same key: the server starts the run if the first request never
    // reached it, and otherwise answers 409 naming the run, which is then shown.
    await sleep(1000);
    start(Object.assign({}, attempt, { retried: true }));
  }

  // -- a finished run: answer, structured result, guard findings, diff, rating --------------------
  function spanText(text, span) {
    if (!text || !span) return null;
    const words = text.slice(span[0], span[1]).trim();
    return words.length > 80 ? words.slice(0, 77) + "…" : words;
  }

  function overlaps(span, other) {
    return span && other && span[0] < other[1] && other[0] < span[1];
  }

  // Flags with the same finding on the same words are one line with a count.
  function groupFlags(run) {
    const groups = new Map();
    for (const flag of run.guard.flags || []) {
      const params = flag.params || {};
      const source = params.source !== undefined ? params.source : spanText(run.source, flag.source_span);
      const output = params.output !== undefined ? params.output : spanText(run.output, flag.output_span);
      const code = flag.code || flag.kind;
      const key = [code, source, output, flag.text ? "" : flag.message].join("\u0001");
      if (!groups.has(key)) groups.set(key, { code: code, source: source, output: output, flags: [] });
      groups.get(key).flags.push(flag);
    }
    return Array.from(groups.values());
  }

  function flagText(group) {
    const first = group.flags[0];
    if (first.text) return first.text;
    const name = T["flag." + group.code] || T["flag.other"];
    const quote = (words) => "„" + words + "“";
    if (group.source && group.output) return name + ": " + quote(group.source) + " → " + quote(group.output);
    if (group.output) return name + ": " + quote(group.output);
    if (group.source) return name + ": " + quote(group.source);
    return name;
  }

  function checkNames(names) {
    return names.map((n) => T["check." + n] || n.replace(/_/g, " ")).join(", ");
  }

  function renderGuard(run) {
    const verdict = $("guard-verdict");
    const summary = $("guard-summary");
    const list = $("guard-flags");
    const passages = $("guard-unchecked");
    list.replaceChildren();
    passages.replaceChildren();
    summary.textContent = "";
    $("guard").hidden = false;
    const guard = run.guard;
    if (!guard) {
      if (run.output === null || run.output === undefined) {
        $("guard").hidden = !run.guard_verdict;
        verdict.textContent = fmt(T["guard.not_kept"], { verdict: T["verdict." + run.guard_verdict] || run.guard_verdict });
        verdict.className = "verdict verdict-none";
        return null;
      }
      // No guard profile (open-ended) or the guard could not run: never an all-clear.
      verdict.textContent = T["guard.none"];
      verdict.className = "verdict verdict-none";
      return null;
    }
    let state = ["ok", "review", "unchecked"].includes(guard.verdict) ? guard.verdict : "unchecked";
    // An open-ended answer's content is never judged: no green all-clear even when nothing was flagged.
    if (state === "ok" && run.task_type === "open") state = "partial";
    verdict.textContent = T["guard." + state];
    verdict.className = "verdict verdict-" + (state === "partial" ? "unchecked" : state);
    const checked = guard.checked || guard.checks || [];
    const notChecked = guard.not_checked || ["content"];
    summary.textContent = guard.summary ||
      T["guard.checked"] + ": " + checkNames(checked) + "; " + checkNames(notChecked) + " " + T["guard.not_checked"];
    const groups = groupFlags(run);
    for (const [index, group] of groups.entries()) {
      const item = el("li", { class: "flag severity-" + group.flags[0].severity });
      const text = flagText(group) + (group.flags.length > 1 ? " (" + group.flags.length + "×)" : "");
      const button = el("button", { type: "button", class: "flag-jump", "data-group": String(index),
        title: T["guard.jump"] }, text);
      item.appendChild(button);
      list.appendChild(item);
    }
    for (const passage of guard.unchecked || []) {
      const text = passage.side === "source" ? run.source : run.output;
      const words = spanText(text, passage.span);
      const line = T["guard.passage"] + (words ? ": „" + words + "“" : "") + (passage.text ? " – " + passage.text : "");
      passages.appendChild(el("li", { class: "flag passage-unchecked" }, line));
    }
    return groups;
  }

  function renderDiff(run, groups) {
    const box = $("diff");
    box.replaceChildren();
    const unchecked = (run.guard && run.guard.unchecked) || [];
    const nodesOf = (groups || []).map(() => []);
    for (const segment of run.diff) {
      const tag = segment.op === "delete" ? "del" : segment.op === "insert" ? "ins" : "span";
      const node = el(tag, { class: "op-" + segment.op }, segment.text);
      // Only changed words are marked: a flag's span may cover unchanged text around the change.
      if (segment.op !== "equal") {
        (groups || []).forEach((group, index) => {
          const hit = group.flags.some((f) =>
            overlaps(segment.output_span, f.output_span) || overlaps(segment.source_span, f.source_span));
          if (hit) nodesOf[index].push(node);
        });
      }
      if (nodesOf.some((nodes) => nodes.includes(node))) node.classList.add("flagged");
      const grey = unchecked.find((p) =>
        overlaps(p.side === "source" ? segment.source_span : segment.output_span, p.span));
      if (grey) {
        node.classList.add("unchecked");
        node.setAttribute("title", grey.text || T["guard.passage"]);
      }
      box.appendChild(node);
      box.appendChild(document.createTextNode(" "));
    }
    $("diff-box").hidden = false;
    return nodesOf;
  }

  function jumpTo(nodes) {
    for (const old of document.querySelectorAll("#diff .highlight")) old.classList.remove("highlight");
    if (!nodes.length) return;
    for (const node of nodes) node.classList.add("highlight");
    nodes[0].setAttribute("tabindex", "-1");
    nodes[0].scrollIntoView({ block: "center", behavior: "smooth" });
    nodes[0].focus({ preventScroll: true });
  }

  function suggestCategories(groups) {
    let any = false;
    for (const group of groups || []) {
      if (!group.flags.some((f) => f.severity === "major")) continue;
      const category = categoryOf(group.code) || categoryOf(group.flags[0].kind);
      const box = category && $("cat-" + category);
      if (box) {
        box.checked = true;
        box.closest(".cat").classList.add("suggested");
        any = true;
      }
    }
    $("suggested-note").hidden = !any;
  }

  // -- structured answers (JSON templates, the Fleischner decision) ------------------------------
  function valueText(value) {
    if (value === null || value === undefined) return T["val.null"];
    if (typeof value === "boolean") return T["val." + value];
    if (typeof value === "string") return T["val." + value] || value;
    if (Array.isArray(value)) return value.map(valueText).join(", ");
    return String(value);
  }

  function fieldName(key) {
    return T["field." + key] || key.replace(/_/g, " ");
  }

  function definitionList(data) {
    const list = el("dl", { class: "facts" });
    for (const [key, value] of Object.entries(data)) {
      list.appendChild(el("dt", {}, fieldName(key)));
      const cell = el("dd");
      if (value && typeof value === "object" && !Array.isArray(value)) cell.appendChild(definitionList(value));
      else if (Array.isArray(value) && value.some((v) => v && typeof v === "object")) {
        const items = el("ul");
        for (const v of value) {
          const item = el("li");
          if (v && typeof v === "object") item.appendChild(definitionList(v));
          else item.textContent = valueText(v);
          items.appendChild(item);
        }
        cell.appendChild(items);
      } else cell.textContent = valueText(value);
      list.appendChild(cell);
    }
    return list;
  }

  const FLEISCHNER = /^(solid|ground_glass|part_solid)-(single|multiple)-(<6|6-8|>8|>=6)mm(?:-(low|high))?$/;

  function ruleText(rec, extracted) {
    const found = FLEISCHNER.exec(rec.category || "");
    if (!rec.applicable || !found) return rec.guideline + ": " + T["fl.not_applicable"];
    const risk = found[4] || (extracted && extracted.risk) || "any";
    // "niedriges Risiko", not "Risiko niedrig": the risk group spelled out in one short phrase.
    const riskText = T["fl.risk." + risk] || fieldName("risk") + " " + valueText(risk);
    const parts = [valueText(found[1]), valueText(found[2]), found[3] + " mm", riskText];
    return rec.guideline + ": " + parts.join(", ");
  }

  function copyButton(text) {
    const button = el("button", { type: "button", class: "copy" }, T.copy_button);
    const row = el("p", { class: "actions" });
    button.addEventListener("click", () => copyText(text, row.parentNode));
    row.appendChild(button);
    return row;
  }

  function renderStructured(run) {
    const post = run.postprocess;
    const box = $("structured");
    box.replaceChildren();
    if (!post || typeof post !== "object") return false;
    const errors = post.error ? [post.error] : post.errors || [];
    if (!post.recommendation && !post.data && !errors.length) return false;
    if (errors.length) {
      box.appendChild(el("p", { class: "alert", role: "alert" }, fmt(T.schema_error, { n: errors.length })));
      const details = el("details");
      details.appendChild(el("summary", {}, T.tech_details));
      const list = el("ul");
      for (const problem of errors) list.appendChild(el("li", {}, String(problem)));
      details.appendChild(list);
      box.appendChild(details);
    }
    const rec = post.recommendation;
    if (rec) {
      const card = el("div", { class: "recommendation" });
      card.appendChild(el("h3", {}, T["fl.recommendation"]));
      card.appendChild(el("p", { class: "prose recommendation-text" }, rec.text));
      const facts = el("dl", { class: "facts" });
      const rule = ruleText(rec, post.extracted);
      for (const [label, value] of [[T["fl.rule"], rule], [T["fl.size"], rec.applicable ? rec.size_mm + " mm" : null]]) {
        if (value === null) continue;
        facts.appendChild(el("dt", {}, label));
        facts.appendChild(el("dd", {}, value));
      }
      card.appendChild(facts);
      const notes = el("ul", { class: "legend" });
      for (const note of rec.notes || []) notes.appendChild(el("li", {}, note));
      card.appendChild(notes);
      card.appendChild(copyButton(rec.text + "\n" + T["fl.rule"] + ": " + rule));
      box.appendChild(card);
    }
    const data = rec ? post.extracted : post.data;
    if (data && Object.keys(data).length) {
      if (rec) box.appendChild(el("h3", {}, T["fl.extracted"]));
      box.appendChild(definitionList(data));
    }
    if ((post.ungrounded || []).length) {
      box.appendChild(el("p", { class: "alert" }, T.ungrounded));
      const list = el("ul");
      for (const quote of post.ungrounded) list.appendChild(el("li", {}, "„" + quote + "“"));
      box.appendChild(list);
    }
    box.hidden = false;
    return true;
  }

  function showRun(run, note) {
    currentRun = run;
    $("result").hidden = false;
    const hasText = run.output !== null && run.output !== undefined;
    $("output").textContent = hasText ? run.output : run.content_note || T.not_retained;
    $("output").classList.toggle("missing", !hasText);
    // Without the text there is nothing to copy: no button, and the reason in its place.
    $("copy").hidden = !hasText;
    $("copy-note").hidden = hasText;
    $("copy-note").textContent = hasText ? "" : T.no_copy;
    if (note) showStatus($("run-status"), note + " " + T.run_id + " " + run.id);
    if (run.reasoning) {
      $("reasoning").textContent = run.reasoning;
      $("reasoning-box").hidden = false;
    }
    if (hasText && renderStructured(run)) {
      // The parsed answer replaces the raw one, which stays available on demand.
      $("answer-box").hidden = true;
      const raw = el("details", { class: "raw" });
      raw.appendChild(el("summary", {}, T.raw_answer));
      raw.appendChild(el("pre", { class: "text" }, run.output));
      $("structured").appendChild(raw);
    }
    $("guard").hidden = true;
    const groups = run.status === "ok" ? renderGuard(run) : null;
    const nodes = run.diff ? renderDiff(run, groups) : [];
    if (!run.diff && run.diff_note) {  // too costly to compare word by word: say so where the diff goes
      $("diff").replaceChildren(el("em", {}, run.diff_note));
      $("diff-box").hidden = false;
    }
    for (const button of document.querySelectorAll("#guard-flags .flag-jump")) {
      const targets = nodes[Number(button.dataset.group)] || [];
      button.disabled = targets.length === 0;
      button.addEventListener("click", () => jumpTo(targets));
    }
    if (run.status === "ok") $("feedback-form").hidden = false;
    if (run.feedback) showRating(run.feedback);
    else suggestCategories(groups);
    syncRating();
  }

  async function loadRun(runId, note) {
    const response = await api("/runs/" + encodeURIComponent(runId));
    if (!response.ok) return showStatus($("run-status"), (await problemOf(response)).message, true);
    let run = await response.json();
    let says = note || "";
    const kept = keptRun(run.id);
    if ((run.output === null || run.output === undefined) && kept && kept.output !== null && kept.output !== undefined) {
      // The server keeps no text, this tab does: show it with the server's current rating.
      run = Object.assign({}, kept, { feedback: run.feedback });
      says = (says + " " + T.restored).trim();
    }
    const lost = !$("conn-lost").hidden;
    resetResult();
    $("conn-lost").hidden = !lost;
    showStatus($("run-status"), says + " " + T.run_id + " " + run.id);
    showRun(run);
    const state = saveState({ lastRun: run.id });
    const radio = run.template_id && $("tpl-" + run.template_id);
    if (!state.template && run.inputs && radio) {
      // A run opened by its link in a fresh tab: show its inputs (kept on the server) beside it.
      saveState({ inputs: Object.assign(state.inputs || {}, { [run.template_id]: run.inputs }) });
      radio.checked = true;
      chooseTemplate(run.template_id);
    }
    window.history.replaceState(null, "", "/workbench?run=" + encodeURIComponent(run.id));
  }

  async function copyText(text, node) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // Plain http on the hospital LAN has no async clipboard: copy the selected text instead.
      const range = document.createRange();
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
    }
    showStatus($("run-status"), T.copied);
  }

  // -- my recent runs ----------------------------------------------------------------------------
  async function loadRecent() {
    const box = $("recent-box");
    if (!box) return;
    let runs;
    try {
      const response = await api("/runs?mine=1&limit=20");
      if (!response.ok) return; // a server without the list: the section stays hidden
      runs = (await response.json()).runs || [];
    } catch (e) {
      return;
    }
    const list = $("recent");
    list.replaceChildren();
    for (const run of runs) {
      const item = el("li");
      const when = new Date(run.created_at).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
      item.appendChild(el("a", { href: "/workbench?run=" + encodeURIComponent(run.id) }, run.template_title || run.template_id));
      const facts = [when, T["status." + run.status] || run.status];
      if (run.guard_verdict) facts.push(T["verdict." + run.guard_verdict] || run.guard_verdict);
      if (run.rated) facts.push(T["recent.rated"]);
      item.appendChild(el("span", { class: "legend" }, " · " + facts.join(" · ")));
      list.appendChild(item);
    }
    box.hidden = runs.length === 0;
  }

  // -- rating: nothing preselected, sent only when answered --------------------------------------
  function lockFeedback(locked) {
    $("feedback-fields").disabled = locked;
    $("feedback-change").hidden = !locked;
    if (!locked) syncRating();
  }

  function chosen(name) {
    const picked = $("feedback-form").querySelector('input[name="' + name + '"]:checked');
    return picked ? picked.value : null;
  }

  function syncRating() {
    const critical = chosen("critical_error");
    // Categories describe a critical error: off (but kept, in case of a change of mind) after "no".
    $("categories").disabled = critical === "false";
    const answered = chosen("utility") !== null && critical !== null;
    $("feedback-send").disabled = !answered;
    $("feedback-need").hidden = answered;
  }

  function showRating(rating) {
    $("utility-" + rating.utility).checked = true;
    $(rating.critical_error ? "critical-yes" : "critical-no").checked = true;
    for (const box of $("feedback-form").querySelectorAll('input[name="categories"]')) {
      box.checked = rating.categories.includes(box.value);
    }
    syncRating();
    lockFeedback(true);
    showStatus($("feedback-status"), T["feedback.saved"]);
  }

  async function sendFeedback(event) {
    event.preventDefault();
    if (!currentRun || chosen("utility") === null || chosen("critical_error") === null) return;
    const critical = chosen("critical_error") === "true";
    const form = event.target;
    const body = {
      utility: Number(chosen("utility")),
      critical_error: critical,
      categories: critical
        ? Array.from(form.querySelectorAll('input[name="categories"]:checked')).map((b) => b.value)
        : [],
      comment: form.elements.comment.value || null,
    };
    const response = await api("/runs/" + encodeURIComponent(currentRun.id) + "/feedback", {
      method: "POST",
      body: body,
    });
    const status = $("feedback-status");
    if (response.ok) {
      lockFeedback(true);
      showStatus(status, T.thanks + " " + T["feedback.saved"]);
      loadRecent();
    } else showStatus(status, T.failed + ": " + (await problemOf(response)).message, true);
  }

  // -- the pilot survey --------------------------------------------------------------------------
  async function sendSurvey(event) {
    event.preventDefault();
    const form = event.target;
    // Utility per template: a blank field means "not used" and is left out.
    const utility = {};
    form.querySelectorAll("[data-template-utility]").forEach((el) => {
      if (el.value !== "") utility[el.dataset.templateUtility] = Number(el.value);
    });
    const errors = form.elements.critical_errors_seen.value;
    const response = await api("/survey", {
      method: "POST",
      body: {
        stability: Number(form.elements.stability.value),
        ease_of_use: Number(form.elements.ease_of_use.value),
        rater_role: form.elements.rater_role.value || null,
        critical_errors_seen: errors === "" ? null : Number(errors),
        template_utility: utility,
        comment: form.elements.comment.value || null,
      },
    });
    const status = $("survey-status");
    if (response.ok) {
      lockSurvey(true);
      showStatus(status, T.thanks + " " + T["survey.saved"]);
    } else showStatus(status, (await problemOf(response)).message, true);
  }

  function lockSurvey(locked) {
    $("survey-fields").disabled = locked;
    $("survey-change").hidden = !locked;
  }

  // -- wiring ------------------------------------------------------------------------------------
  function setupWorkbench(workbench) {
    $("picker-form").addEventListener("change", (e) => {
      if (e.target.name === "template") chooseTemplate(e.target.value);
    });
    $("template-search").addEventListener("input", filterTemplates);
    const form = $("run-form");
    form.addEventListener("submit", runTemplate);
    form.addEventListener("input", () => {
      checkLimits();
      saveLater();
      countLater();
    });
    form.addEventListener("change", saveLater);
    document.addEventListener("keydown", (e) => {
      // Ctrl+Enter (Cmd+Enter) runs from anywhere on the page but the rating form (whose comment must
      // not start a new run).
      const rating = e.target.closest && e.target.closest("#feedback-form");
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !rating && !$("run-button").disabled) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    $("copy").addEventListener("click", () => copyText($("output").textContent, $("output")));
    $("stop-button").addEventListener("click", () => running && running.controller.abort());
    $("retry-button").addEventListener("click", retryRun);
    const feedback = $("feedback-form");
    feedback.addEventListener("submit", sendFeedback);
    feedback.addEventListener("change", syncRating);
    $("feedback-change").addEventListener("click", () => {
      lockFeedback(false);
      showStatus($("feedback-status"), "");
      $("utility-0").focus();
    });
    syncRating();
    const state = loadState();
    const radio = state.template && $("tpl-" + state.template);
    if (radio) {
      radio.checked = true;
      chooseTemplate(state.template);
    }
    const runId = workbench.dataset.runId || state.lastRun;
    if (runId) loadRun(runId);
    loadRecent();
  }

  document.addEventListener("DOMContentLoaded", () => {
    checkOwner();
    watchSignout();
    setupTheme();
    watchIsolation();
    const workbench = $("workbench");
    if (workbench) setupWorkbench(workbench);
    if ($("survey-form")) {
      $("survey-form").addEventListener("submit", sendSurvey);
      $("survey-change").addEventListener("click", () => {
        lockSurvey(false);
        showStatus($("survey-status"), "");
        $("stability").focus();
      });
    }
  });
})();
