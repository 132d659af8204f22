// rsuper review page: reads the queue and records from the /v1/ API with the key kept in sessionStorage
// (sent as a header, never in a URL). Report text only ever comes from the store (--keep-text) or from
// what the reviewer pastes into this tab; pasted text is never sent anywhere.
"use strict";

const state = { items: [], index: -1, view: null, lesion: 0, pasted: new Map() };
const $ = (id) => document.getElementById(id);

function say(message) { $("status").textContent = message; }

function headers() {
  return { "Authorization": "Bearer " + sessionStorage.getItem("rsuper.key"), "Content-Type": "application/json" };
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ headers: headers(), cache: "no-store" }, options || {}));
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    sessionStorage.removeItem("rsuper.key");
    showKeyForm();
  }
  if (!response.ok) { throw new Error(body.detail || ("HTTP " + response.status)); }
  return body;
}

function showKeyForm() {
  $("key-form").hidden = false; $("who").hidden = true; $("app").hidden = true;
  $("reviewer").value = sessionStorage.getItem("rsuper.reviewer") || "";
  $("api-key").focus();
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  for (const [k, v] of Object.entries(attrs || {})) { node.setAttribute(k, v); }
  return node;
}

async function refreshQueue() {
  const params = new URLSearchParams({ limit: "200" });
  if ($("f-organ").value) { params.set("organ", $("f-organ").value); }
  if ($("f-warning").value) { params.set("warning", $("f-warning").value); }
  if ($("f-job").value.trim()) { params.set("job_id", $("f-job").value.trim()); }
  if ($("f-reviewed").checked) { params.set("include_reviewed", "true"); }
  const queue = await api("/v1/review/queue?" + params.toString());
  state.items = queue.items;
  const reasons = Object.entries(queue.by_reason).map(([k, v]) => k + " " + v).join(", ");
  $("counts").textContent = `${queue.total} record${queue.total === 1 ? "" : "s"}, ${queue.needs_review} need review, ` +
    `${queue.reviewed} reviewed` + (reasons ? ` (${reasons})` : "");
  const list = $("queue");
  list.replaceChildren();
  state.items.forEach((item, i) => {
    const button = el("button", item.report_id, { type: "button", "data-index": String(i), id: "q-" + i });
    button.addEventListener("click", () => openRecord(i).catch((e) => say("error: " + e.message)));
    const li = el("li");
    li.append(button, el("span", " " + (item.reasons.join(", ") || (item.reviewer ? "reviewed" : "—")),
      { class: "reasons" }));
    list.append(li);
  });
  await loadStats();
}

async function loadQueue() {
  await refreshQueue();
  if (state.items.length) { await openRecord(0); } else { say("the queue is empty"); }
}

async function loadStats() {
  const stats = await api("/v1/review/stats");
  const box = $("stats");
  box.replaceChildren(el("p", `records reviewed: ${stats.reviewed}`));
  if (!stats.rows.length) { return; }
  const table = el("table");
  const head = el("tr");
  ["backend", "version", "reviewed", ...stats.fields].forEach((f) => head.append(el("th", f, { scope: "col" })));
  table.append(head);
  for (const row of stats.rows) {
    const tr = el("tr");
    tr.append(el("td", row.backend), el("td", row.extractor_version), el("td", row.reviewed));
    stats.fields.forEach((f) => tr.append(el("td", Math.round(100 * row.changed_share[f]) + "%")));
    table.append(tr);
  }
  box.append(table);
}

async function openRecord(i) {
  if (i < 0 || i >= state.items.length) { return; }
  state.index = i;
  document.querySelectorAll("#queue button").forEach((b) => b.removeAttribute("aria-current"));
  $("q-" + i).setAttribute("aria-current", "true");
  const id = state.items[i].report_id;
  state.view = await api("/v1/review/reports/" + encodeURIComponent(id));
  state.lesion = 0;
  $("edit-form").hidden = true;
  render();
  say(`record ${i + 1} of ${state.items.length}`);
}

function render() {
  const view = state.view, record = view.record;
  $("record-title").textContent = "Record " + record.report_id;
  $("record-meta").textContent = `status ${record.status}; ${record.provenance.backend} ` +
    `(${record.provenance.extractor_version})` + (view.reviewer ? `; reviewed by ${view.reviewer}` : "") +
    (view.reasons.length ? `; needs review: ${view.reasons.join(", ")}` : "");
  const organs = $("organs");
  organs.replaceChildren();
  for (const f of record.organs) {
    const count = f.count ? ` (${f.count.kind === "multiple" ? "multiple" : f.count.value})` : "";
    const sides = [["left", f.left], ["right", f.right]].filter(([, s]) => s).map(([n, s]) => `${n} ${s}`);
    const perSide = sides.length ? `; ${sides.join(", ")}` : "";
    organs.append(el("li", `${f.organ}: ${f.status}${count}${perSide}`, { class: "organ " + f.status }));
  }
  renderText();
  renderLesions();
  const warnings = $("warnings");
  warnings.replaceChildren(...record.warnings.map((w) => el("li", w)));
  $("versions").replaceChildren(...view.versions.map((v) => el("li",
    `${v.extractor_version} (${v.backend}, ${v.status})${v.is_current ? " — current" : ""}`)));
}

function reportText() {
  return state.view.text !== null ? state.view.text : (state.pasted.get(state.view.record.report_id) || null);
}

function renderText() {
  const pre = $("report-text"), text = reportText();
  pre.replaceChildren();
  $("paste-form").hidden = text !== null;
  if (text === null) { pre.textContent = "(text not kept by the store)"; return; }
  const spans = state.view.record.lesions
    .map((l, i) => ({ i, ev: l.evidence }))
    .filter((s) => s.ev && s.ev.start !== null && s.ev.end !== null)
    .sort((a, b) => a.ev.start - b.ev.start);
  let at = 0;
  for (const s of spans) {
    const start = Math.max(s.ev.start, at);
    if (start >= s.ev.end) { continue; }
    pre.append(document.createTextNode(text.slice(at, start)));
    const mark = el("mark", text.slice(start, s.ev.end),
      { id: "span-" + s.i, "data-lesion": String(s.i), tabindex: "-1", title: "lesion " + (s.i + 1) });
    mark.addEventListener("click", () => selectLesion(s.i));
    pre.append(mark);
    at = s.ev.end;
  }
  pre.append(document.createTextNode(text.slice(at)));
  markSelected();
}

function subsegment(lesion) {
  const parts = [];
  if (lesion.liver_segments.length) { parts.push("segment " + lesion.liver_segments.join(" / ")); }
  if (lesion.pancreas_parts.length) { parts.push(lesion.pancreas_parts.join(" / ")); }
  if (lesion.kidney_poles.length) { parts.push(lesion.kidney_poles.join(" / ")); }
  if (lesion.site) { parts.push(lesion.site); }
  return parts.join("; ");
}

function countText(count) {
  return count.kind === "multiple" ? "multiple" : (count.kind === "at_least" ? ">=" : "") + count.value;
}

function renderLesions() {
  const body = $("lesions").tBodies[0];
  body.replaceChildren();
  state.view.record.lesions.forEach((l, i) => {
    const tr = el("tr", null, { id: "lesion-" + i });
    tr.addEventListener("click", () => selectLesion(i));
    const ev = l.evidence;
    const evCell = el("td");
    if (ev && ev.start !== null) {
      const link = el("a", `${ev.start}–${ev.end} (${ev.alignment})`, { href: "#span-" + i });
      link.addEventListener("click", (e) => { e.preventDefault(); selectLesion(i); $("span-" + i)?.focus(); });
      evCell.append(link);
    } else {
      evCell.textContent = ev ? "unaligned" : "none";
    }
    tr.append(el("td", i + 1), el("td", l.organ), el("td", l.side || ""), el("td", subsegment(l)),
      el("td", countText(l.count)), el("td", l.size ? l.size.diameters_mm.join(" x ") : (l.size_class || "")),
      el("td", l.certainty), el("td", l.confidence.toFixed(2)), evCell);
    body.append(tr);
  });
  markSelected();
}

function selectLesion(i) {
  const n = state.view ? state.view.record.lesions.length : 0;
  if (!n) { return; }
  state.lesion = Math.max(0, Math.min(n - 1, i));
  markSelected();
}

function markSelected() {
  document.querySelectorAll("#lesions tr.selected, mark.selected").forEach((x) => x.classList.remove("selected"));
  $("lesion-" + state.lesion)?.classList.add("selected");
  $("span-" + state.lesion)?.classList.add("selected");
}

function openEdit() {
  const lesions = state.view.record.lesions;
  if (!lesions.length) { say("this record has no lesion to edit"); return; }
  const l = lesions[state.lesion];
  $("edit-legend").textContent = `Edit lesion ${state.lesion + 1}`;
  $("e-diameters").value = l.size ? l.size.diameters_mm.join(" x ") : "";
  $("e-organ").value = l.organ;
  $("e-side").value = l.side || "";
  $("e-segments").value = l.liver_segments.join(", ");
  $("e-count").value = countText(l.count);
  $("e-certainty").value = l.certainty;
  $("edit-form").hidden = false;
  $("e-diameters").focus();
  $("e-diameters").select();
}

function parseCount(text) {
  const t = text.trim();
  if (t === "multiple") { return { kind: "multiple", value: null }; }
  if (t.startsWith(">=")) { return { kind: "at_least", value: Number(t.slice(2)) }; }
  return { kind: "exact", value: Number(t) };
}

function editedLesion() {
  const old = state.view.record.lesions[state.lesion];
  const lesion = JSON.parse(JSON.stringify(old));
  const numbers = $("e-diameters").value.split(/[x×,]/).map((s) => s.trim()).filter(Boolean).map(Number);
  lesion.size = numbers.length ? { diameters_mm: numbers, qualifier: old.size ? old.size.qualifier : "=" } : null;
  if (numbers.length) { lesion.size_class = null; }
  lesion.organ = $("e-organ").value;
  if (lesion.organ !== "pancreas") { lesion.pancreas_parts = []; }
  if (lesion.organ !== "kidney") { lesion.kidney_poles = []; }
  lesion.side = $("e-side").value || null;
  lesion.liver_segments = $("e-segments").value.split(/[,\s]+/).filter(Boolean).map(Number);
  lesion.count = parseCount($("e-count").value);
  lesion.certainty = $("e-certainty").value;
  return lesion;
}

async function submitReview(body) {
  const record = state.view.record, id = record.report_id, old = state.index;
  const payload = Object.assign({ reviewer: sessionStorage.getItem("rsuper.reviewer"),
    expected_version: record.provenance.extractor_version }, body);
  let saved;
  try {
    saved = await api("/v1/reports/" + encodeURIComponent(id) + "/review",
      { method: "POST", body: JSON.stringify(payload) });
  } catch (e) {
    say("not saved: " + e.message);
    return;
  }
  $("edit-form").hidden = true;
  const message = `saved: ${body.action}` + (saved.changed.length ? ` (changed ${saved.changed.join(", ")})` : "");
  await refreshQueue();
  const at = state.items.findIndex((x) => x.report_id === id);
  if (body.action === "accept") {  // on to the next record (the accepted one left the queue)
    const next = at >= 0 ? at + 1 : old;
    if (next < state.items.length) { await openRecord(next); } else { state.index = at >= 0 ? at : old - 1; }
  } else {  // show the stored correction; j moves on from where it was
    state.view = await api("/v1/review/reports/" + encodeURIComponent(id));
    state.index = at >= 0 ? at : old - 1;
    render();
  }
  say(message);
}

function accept() { if (state.view) { submitReview({ action: "accept" }); } }

function saveEdit(event) {
  event.preventDefault();
  const lesions = state.view.record.lesions.slice();
  lesions[state.lesion] = editedLesion();
  submitReview({ action: "edit", lesions });
}

async function usePasted(event) {
  event.preventDefault();
  const text = $("paste").value;
  if (!window.crypto || !crypto.subtle) { say("pasting needs https or localhost"); return; }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = Array.from(new Uint8Array(digest)).map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== state.view.record.text_sha256) { say("the pasted text is not the text this record was extracted from"); return; }
  state.pasted.set(state.view.record.report_id, text);
  $("paste").value = "";
  renderText();
}

function onKey(event) {
  const tag = event.target.tagName;
  if (event.key === "Escape") { $("edit-form").hidden = true; return; }
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.ctrlKey || event.metaKey || event.altKey) { return; }
  const actions = {
    j: () => openRecord(state.index + 1), k: () => openRecord(state.index - 1),
    n: () => selectLesion(state.lesion + 1), p: () => selectLesion(state.lesion - 1),
    a: accept, e: openEdit,
  };
  if (actions[event.key] && state.view) {
    event.preventDefault();
    Promise.resolve(actions[event.key]()).catch((e) => say("error: " + e.message));
  }
}

async function start(event) {
  if (event) { event.preventDefault(); }
  if (event) {
    sessionStorage.setItem("rsuper.key", $("api-key").value);
    sessionStorage.setItem("rsuper.reviewer", $("reviewer").value);
    $("api-key").value = "";
  }
  if (!sessionStorage.getItem("rsuper.key") || !sessionStorage.getItem("rsuper.reviewer")) { showKeyForm(); return; }
  $("key-form").hidden = true;
  $("who").hidden = false;
  $("who").textContent = "reviewing as " + sessionStorage.getItem("rsuper.reviewer");
  $("app").hidden = false;
  try { await loadQueue(); } catch (e) { say("could not load the queue: " + e.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const option of $("f-organ").options) {  // the organ vocabulary, rendered by the server
    if (option.value) { $("e-organ").append(el("option", option.value)); }
  }
  $("key-form").addEventListener("submit", start);
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    loadQueue().catch((err) => say("could not load the queue: " + err.message));
  });
  $("edit-form").addEventListener("submit", saveEdit);
  $("e-cancel").addEventListener("click", () => { $("edit-form").hidden = true; });
  $("accept").addEventListener("click", accept);
  $("edit").addEventListener("click", openEdit);
  $("paste-form").addEventListener("submit", usePasted);
  document.addEventListener("keydown", onKey);
  start(null);
});
