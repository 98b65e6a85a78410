// MedVault workbench: builds template forms, streams runs from the JSON API, shows guard flags and the
// word diff, sends feedback and the survey. No inline script anywhere: the CSP allows only this file.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const stringsNode = $("mv-strings");
  const T = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  const lang = document.body.dataset.lang || "de";
  let currentRun = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  let stopRun = null; // aborts the running stream; the server then records the run as cancelled

  async function api(path, options) {
    const opts = options || {};
    const headers = Object.assign({ "x-medvault-client": "workbench", "x-csrf-token": csrf() }, opts.headers);
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method: opts.method || "GET",
      headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      signal: opts.signal,
    });
    if (response.status === 401) {
      window.location.assign("/workbench/signin?expired=1");
      throw new Error("signed out");
    }
    return response;
  }

  function runKey() {
    // One id per click: a browser's silent retry of the same POST is then refused (409), never run twice.
    if (window.crypto.randomUUID) return window.crypto.randomUUID(); // secure contexts only
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return { message: body.error.message, param: body.error.param };
    } catch (e) {
      return { message: response.status + " " + response.statusText, param: null };
    }
  }

  // -- isolation badge -------------------------------------------------------------------------
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

  // -- template form ---------------------------------------------------------------------------
  function inputControl(spec) {
    const id = "in-" + spec.name;
    const common = { id: id, name: spec.name, required: spec.required ? "required" : null };
    if (spec.choices && spec.choices.length) {
      const select = el("select", common);
      if (!spec.required) select.appendChild(el("option", { value: "" }, "–"));
      for (const choice of spec.choices) select.appendChild(el("option", { value: choice }, choice));
      return select;
    }
    if (spec.type === "number" || spec.type === "integer") {
      return el("input", Object.assign(common, { type: "number", step: spec.type === "integer" ? "1" : "any" }));
    }
    if (spec.type === "boolean") return el("input", Object.assign(common, { type: "checkbox", required: null }));
    if (spec.type === "string" || spec.type === "line") {
      return el("input", Object.assign(common, { type: "text", maxlength: spec.max_chars }));
    }
    return el("textarea", Object.assign(common, { rows: "8", maxlength: spec.max_chars }));
  }

  async function chooseTemplate(radio) {
    const response = await api("/api/v1/templates/" + encodeURIComponent(radio.value) + "?lang=" + lang);
    if (!response.ok) return showStatus($("run-status"), (await errorText(response)).message, true);
    const template = await response.json();
    const box = $("inputs");
    box.replaceChildren();
    box.dataset.template = template.id;
    box.dataset.types = JSON.stringify(Object.fromEntries(template.inputs.map((i) => [i.name, i.type])));
    for (const spec of template.inputs) {
      const row = el("p", { class: "field" });
      row.appendChild(el("label", { for: "in-" + spec.name }, spec.label + (spec.required ? " *" : "")));
      row.appendChild(inputControl(spec));
      box.appendChild(row);
    }
    const warning = $("template-warning");
    warning.textContent = template.warning || "";
    warning.hidden = !template.warning;
    $("run-button").disabled = false;
  }

  function collectInputs(form) {
    const types = JSON.parse($("inputs").dataset.types || "{}");
    const inputs = {};
    for (const [name, type] of Object.entries(types)) {
      const control = form.elements.namedItem(name);
      if (!control) continue;
      if (type === "boolean") inputs[name] = control.checked;
      else if (control.value === "") continue;
      else if (type === "number" || type === "integer") inputs[name] = Number(control.value);
      else inputs[name] = control.value;
    }
    return inputs;
  }

  // -- streaming a run -------------------------------------------------------------------------
  function showStatus(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
  }

  function resetResult() {
    $("result").hidden = false;
    $("output").textContent = "";
    $("reasoning").textContent = "";
    $("reasoning-box").hidden = true;
    $("guard").hidden = true;
    $("diff-box").hidden = true;
    $("postprocess-box").hidden = true;
    $("feedback-form").hidden = true;
    $("feedback-form").reset();
    lockFeedback(false);
    showStatus($("feedback-status"), "");
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

  async function runTemplate(event) {
    event.preventDefault();
    const form = event.target;
    const templateId = $("inputs").dataset.template;
    if (!templateId) return;
    for (const bad of form.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    resetResult();
    $("result").scrollIntoView({ block: "start" });
    const status = $("run-status");
    showStatus(status, T.running);
    $("run-button").disabled = true;
    const controller = new AbortController();
    stopRun = () => controller.abort();
    $("stop-button").hidden = false;
    try {
      const response = await api("/api/v1/runs", {
        method: "POST",
        body: { template_id: templateId, lang: lang, inputs: collectInputs(form) },
        headers: { "idempotency-key": runKey() },
        signal: controller.signal,
      });
      if (!response.ok) {
        const problem = await errorText(response);
        if (problem.param && problem.param.startsWith("inputs.")) {
          const control = $("in-" + problem.param.slice(7));
          if (control) { control.setAttribute("aria-invalid", "true"); control.focus(); }
        }
        return showStatus(status, T.failed + ": " + problem.message, true);
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const buffer = { text: "" };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer.text += value;
        for (const [name, data] of sseEvents(buffer)) handleEvent(name, data, status);
      }
    } catch (e) {
      if (e.name !== "AbortError") throw e;
      showStatus(status, T.stopped);
    } finally {
      $("run-button").disabled = false;
      $("stop-button").hidden = true;
      stopRun = null;
    }
  }

  function handleEvent(name, data, status) {
    if (name === "content") $("output").textContent += data.text;
    else if (name === "reasoning") {
      $("reasoning-box").hidden = false;
      $("reasoning").textContent += data.text;
    } else if (name === "error") showStatus(status, T.failed + ": " + data.error.message, true);
    else if (name === "done") {
      showStatus(status, T.done + " " + T.run_id + " " + data.id);
      showRun(data);
      window.history.replaceState(null, "", "/workbench?run=" + encodeURIComponent(data.id));
    }
  }

  // -- a finished run: guard flags, diff, feedback ---------------------------------------------
  function overlaps(span, other) {
    return span && other && span[0] < other[1] && other[0] < span[1];
  }

  function renderDiff(segments, flags) {
    const box = $("diff");
    box.replaceChildren();
    for (const segment of segments) {
      const tag = segment.op === "delete" ? "del" : segment.op === "insert" ? "ins" : "span";
      const node = el(tag, { class: "op-" + segment.op }, segment.text);
      // Only changed words are marked: a flag's span may cover unchanged text around the change.
      const hits = segment.op === "equal" ? [] : flags.filter((f) =>
        overlaps(segment.output_span, f.output_span) || overlaps(segment.source_span, f.source_span));
      if (hits.length) {
        node.classList.add("flagged");
        node.setAttribute("title", hits.map((f) => f.message).join("\n"));
      }
      box.appendChild(node);
      box.appendChild(document.createTextNode(" "));
    }
    $("diff-box").hidden = false;
  }

  function showRun(run) {
    currentRun = run;
    $("result").hidden = false;
    if (run.output !== null && run.output !== undefined) $("output").textContent = run.output;
    else $("output").textContent = T.not_retained;
    if (run.reasoning) {
      $("reasoning").textContent = run.reasoning;
      $("reasoning-box").hidden = false;
    }
    const flags = run.guard ? run.guard.flags : [];
    if (run.guard) {
      $("guard").hidden = false;
      $("guard-verdict").textContent = run.guard.verdict === "ok" ? T["guard.ok"] : T["guard.review"];
      $("guard-verdict").className = "verdict verdict-" + run.guard.verdict;
      const list = $("guard-flags");
      list.replaceChildren();
      for (const flag of flags) {
        list.appendChild(el("li", { class: "flag severity-" + flag.severity }, flag.kind + ": " + flag.message));
      }
    }
    if (run.diff) renderDiff(run.diff, flags);
    const post = run.postprocess;
    if (post && (post.data || post.recommendation || (post.errors && post.errors.length))) {
      // Structured answers and computed recommendations; plain text answers are already shown above.
      const shown = post.recommendation ? { recommendation: post.recommendation, extracted: post.extracted } : {};
      if (post.data && !post.recommendation) shown.data = post.data;
      if (post.errors && post.errors.length) shown.errors = post.errors;
      $("postprocess").textContent = JSON.stringify(shown, null, 2);
      $("postprocess-box").hidden = false;
    }
    if (run.status === "ok") $("feedback-form").hidden = false;
    if (run.feedback) showRating(run.feedback);
  }

  // A run has one rating: once saved the form is locked and says so; "Change" unlocks it, and sending
  // again replaces the rating (the server keeps one per run).
  function lockFeedback(locked) {
    $("feedback-fields").disabled = locked;
    $("feedback-change").hidden = !locked;
    if (!locked) syncCategories();
  }

  function showRating(rating) {
    const form = $("feedback-form");
    form.elements.utility.value = String(rating.utility);
    $(rating.critical_error ? "critical-yes" : "critical-no").checked = true;
    syncCategories();
    for (const box of form.querySelectorAll('input[name="categories"]')) {
      box.checked = rating.categories.includes(box.value);
    }
    lockFeedback(true);
    showStatus($("feedback-status"), T["feedback.saved"]);
  }

  async function loadRun(runId) {
    const response = await api("/api/v1/runs/" + encodeURIComponent(runId));
    if (!response.ok) return showStatus($("run-status"), (await errorText(response)).message, true);
    resetResult();
    const run = await response.json();
    showStatus($("run-status"), T.run_id + " " + run.id);
    showRun(run);
    $("result").scrollIntoView({ block: "start" });
  }

  async function copyOutput() {
    const text = $("output").textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // Plain http on the hospital LAN has no async clipboard: copy the selected text instead.
      const range = document.createRange();
      range.selectNodeContents($("output"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
    }
    showStatus($("run-status"), T.copied);
  }

  function syncCategories() {
    const critical = $("critical-yes").checked;
    $("categories").disabled = !critical;
    if (!critical) for (const box of $("categories").querySelectorAll("input")) box.checked = false;
  }

  async function sendFeedback(event) {
    event.preventDefault();
    if (!currentRun) return;
    const form = event.target;
    const body = {
      utility: Number(form.elements.utility.value),
      critical_error: $("critical-yes").checked,
      categories: Array.from(form.querySelectorAll('input[name="categories"]:checked')).map((b) => b.value),
      comment: form.elements.comment.value || null,
    };
    const response = await api("/api/v1/runs/" + encodeURIComponent(currentRun.id) + "/feedback", {
      method: "POST",
      body: body,
    });
    const status = $("feedback-status");
    if (response.ok) {
      lockFeedback(true);
      showStatus(status, T.thanks + " " + T["feedback.saved"]);
    } else showStatus(status, T.failed + ": " + (await errorText(response)).message, true);
  }

  async function sendSurvey(event) {
    event.preventDefault();
    const form = event.target;
    const response = await api("/api/v1/survey", {
      method: "POST",
      body: {
        stability: Number(form.elements.stability.value),
        ease_of_use: Number(form.elements.ease_of_use.value),
        comment: form.elements.comment.value || null,
      },
    });
    const status = $("survey-status");
    if (response.ok) {
      lockSurvey(true);
      showStatus(status, T.thanks + " " + T["survey.saved"]);
    } else showStatus(status, (await errorText(response)).message, true);
  }

  function lockSurvey(locked) {
    $("survey-fields").disabled = locked;
    $("survey-change").hidden = !locked;
  }

  document.addEventListener("DOMContentLoaded", () => {
    watchIsolation();
    const picker = $("picker-form");
    if (picker) picker.addEventListener("change", (e) => e.target.name === "template" && chooseTemplate(e.target));
    if ($("run-form")) $("run-form").addEventListener("submit", runTemplate);
    if ($("copy")) $("copy").addEventListener("click", copyOutput);
    if ($("stop-button")) $("stop-button").addEventListener("click", () => stopRun && stopRun());
    if ($("feedback-form")) {
      $("feedback-form").addEventListener("submit", sendFeedback);
      $("critical-yes").addEventListener("change", syncCategories);
      $("critical-no").addEventListener("change", syncCategories);
      $("feedback-change").addEventListener("click", () => {
        lockFeedback(false);
        showStatus($("feedback-status"), "");
        $("utility").focus();
      });
      syncCategories();
    }
    if ($("survey-form")) {
      $("survey-form").addEventListener("submit", sendSurvey);
      $("survey-change").addEventListener("click", () => {
        lockSurvey(false);
        showStatus($("survey-status"), "");
        $("stability").focus();
      });
    }
    const workbench = $("workbench");
    if (workbench && workbench.dataset.runId) loadRun(workbench.dataset.runId);
  });
})();
