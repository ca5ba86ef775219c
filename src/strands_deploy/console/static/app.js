/* The strands-deploy console: plain JavaScript, no build step. Talks to the JSON API of
   console/app.py; every state-changing request carries the page's CSRF token. */
"use strict";

const $ = (sel) => document.querySelector(sel);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const S = {
  env: document.querySelector('meta[name="default-env"]').content || "local",
  etag: null, text: "", dirty: false, graph: null, cy: null, session: {}, linkFrom: null,
  drawing: false, logsTimer: null, logsSince: 0, job: null,
};
window.consoleState = S; // for the browser tests (draw time, current etag)

async function call(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const resp = await fetch(path, opts);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) { const err = new Error((data.error && data.error.what) || resp.statusText); err.status = resp.status; err.data = data; throw err; }
  return data;
}
const envQ = () => `env=${encodeURIComponent(S.env)}`;
function notice(text) { $("#notice").textContent = text || ""; }
function esc(s) { return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
function problemText(p) { return `${p.where ? p.where + ": " : ""}${p.what}${p.fix ? "  (fix: " + p.fix + ")" : ""}`; }
function showError(e) { notice("error: " + (e.data && e.data.problems ? e.data.problems.map(problemText).join("; ") : e.message)); }

/* ---------- tabs ---------- */
function show(view) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === "view-" + view));
  // one graph, shown in the Architecture or the Build view: moved by unmounting and mounting
  const box = view === "build" ? $("#graph2") : $("#graph");
  if (S.cy && (view === "build" || view === "architecture") && S.cy.container() !== box) {
    S.cy.unmount(); S.cy.mount(box); S.cy.resize(); relayout();
  }
  if (view === "build") { S.editor && S.editor.refresh(); loadGit(); }
  if (view === "history") loadHistory();
  if (view === "templates") loadTemplates();
}

/* ---------- architecture ---------- */
const COLORS = { new: "#9aa3af", deployed: "#2e9b57", changed: "#d99a00", drifted: "#e0692b", failed: "#c62828" };
const SHAPES = { agent: "round-rectangle", resource: "barrel", endpoint: "diamond", trigger: "tag" };

async function loadGraph() {
  const data = await call("GET", "/api/graph?" + envQ());
  S.graph = data;
  $("#project").textContent = data.project;
  const sel = $("#env");
  if (!sel.options.length) { data.environments.forEach((e) => sel.add(new Option(e, e))); sel.value = S.env; }
  if (data.notes.length) notice(data.notes[0]);
  drawGraph(data);
  fillAgentLists(data);
}

function drawGraph(data) {
  const t0 = performance.now();
  const elements = data.nodes.map((n) => ({ data: { id: n.id, label: n.label, kind: n.kind, status: data.status[n.id] || "new" } }))
    .concat(data.edges.filter((e) => data.nodes.some((n) => n.id === e.target) && data.nodes.some((n) => n.id === e.source))
      .map((e) => ({ data: { id: e.id, source: e.source, target: e.target, label: e.label, kind: e.kind } })));
  const style = [
    { selector: "node", style: { label: "data(label)", "text-valign": "center", "font-size": 11, width: "label", height: 26, padding: 8,
      shape: (n) => SHAPES[n.data("kind")] || "ellipse", "background-color": "#fff", "border-width": 3,
      "border-color": (n) => COLORS[n.data("status")] || "#999" } },
    { selector: "node[kind = 'agent']", style: { "background-color": "#e8f0fe", "font-weight": "bold" } },
    { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", label: "data(label)", "font-size": 9, "line-color": "#8892a0", "target-arrow-color": "#8892a0" } },
    { selector: "edge[kind = 'trigger']", style: { "line-style": "dashed" } },
    { selector: ":selected", style: { "overlay-opacity": 0.15 } },
  ];
  if (!S.cy) {
    S.cy = cytoscape({ container: $("#graph"), elements, style, wheelSensitivity: 0.3, maxZoom: 2 });
    S.cy.on("tap", "node", (ev) => onNodeTap(ev.target));
  } else {
    S.cy.json({ elements });
  }
  relayout();
  S.drawMs = Math.round(performance.now() - t0);
}
function relayout() {
  const many = S.cy.nodes().length > 60;
  S.cy.layout({ name: "breadthfirst", directed: true, spacingFactor: many ? 0.8 : 1.1, animate: false, grid: many, padding: 20 }).run();
}

async function onNodeTap(node) {
  const id = node.id();
  if (S.drawing) return linkTap(id);
  if (id.startsWith("agent:")) { $("#agent-select").value = id.slice(6); fillAgentForm(); }
  try {
    const d = await call("GET", `/api/node?id=${encodeURIComponent(id)}&${envQ()}`);
    const rows = d.resources.map((r) => `<tr><td>${esc(r.address)}<br><small class="muted">${esc(r.type)}</small></td><td><code>${esc(r.physical_id)}</code></td><td><pre>${esc(JSON.stringify(r.outputs, null, 1))}</pre></td></tr>`).join("");
    $("#details").innerHTML = `<h3>${esc(d.kind)} ${esc(d.name)} <span class="st ${esc(node.data("status"))}">${esc(node.data("status"))}</span></h3>
      <h4>Configuration</h4><pre>${esc(JSON.stringify(d.config, null, 2))}</pre>
      <h4>AWS resources</h4>${rows ? `<table><tr><th>address</th><th>physical id</th><th>outputs</th></tr>${rows}</table>` : '<p class="muted">Nothing deployed in this environment.</p>'}`;
  } catch (e) { showError(e); }
}

async function linkTap(id) {
  if (!S.linkFrom) {
    if (!id.startsWith("agent:")) return notice("Draw link: click an agent first");
    S.linkFrom = id.slice(6); return notice(`Draw link: ${S.linkFrom} → click a resource`);
  }
  if (!id.startsWith("resource:")) return notice("Draw link: click a resource");
  const agent = S.linkFrom; S.linkFrom = null; S.drawing = false; $("#draw-link").classList.remove("primary");
  await edit({ op: "link", agent, resource: id.slice(9), access: "readwrite" });
}

/* ---------- build: forms, YAML, git ---------- */
function fillAgentLists(data) {
  const agents = data.nodes.filter((n) => n.kind === "agent").map((n) => n.label);
  const resources = data.nodes.filter((n) => n.kind === "resource").map((n) => n.label);
  for (const [id, items] of [["#agent-select", agents], ["#link-agent", agents], ["#chat-agent", agents], ["#logs-agent", agents], ["#link-resource", resources]]) {
    const sel = $(id); const keep = sel.value;
    sel.innerHTML = items.map((a) => `<option>${esc(a)}</option>`).join("");
    if (items.includes(keep)) sel.value = keep;
  }
  fillAgentForm();
}

let parsedAgents = {};
function fillAgentForm() {
  const a = parsedAgents[$("#agent-select").value] || {};
  document.querySelectorAll("#agent-form [data-key]").forEach((el) => {
    const v = a[el.dataset.key];
    el.value = v === undefined || v === null ? "" : String(v);
  });
}

async function loadConfig() {
  const d = await call("GET", "/api/config");
  applyConfig(d);
}
function applyConfig(d) {
  S.etag = d.etag; S.text = d.text; S.dirty = false;
  if (S.editor) { S.applying = true; S.editor.setValue(d.text); S.applying = false; }
  if (d.path) $("#yaml-path").textContent = d.path;
  showProblems(d.problems || []);
  parsedAgents = agentsFromGraphConfig(d.text);
  fillAgentForm();
}
// the form shows what the file says (not defaults): a tiny reader of the agents' scalar keys
function agentsFromGraphConfig(text) {
  const out = {}; let inAgents = false, cur = null;
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) { inAgents = /^agents:\s*(#.*)?$/.test(line); cur = null; continue; }
    if (!inAgents) continue;
    let m = line.match(/^  ([a-z][a-z0-9-]*):\s*(#.*)?$/);
    if (m) { cur = out[m[1]] = {}; continue; }
    m = line.match(/^    ([a-z_]+):\s*([^#{\[]*?)\s*(#.*)?$/);
    if (m && cur && m[2] !== "") cur[m[1]] = m[2].replace(/^["']|["']$/g, "");
  }
  return out;
}
function showProblems(problems) {
  const ul = $("#problems");
  ul.className = problems.length ? "" : "ok";
  ul.innerHTML = problems.map((p) => `<li>${esc(problemText(p))}</li>`).join("");
}

async function edit(body) {
  try {
    const d = await call("POST", "/api/config/edit", { ...body, etag: S.etag });
    applyConfig(d); $("#conflict").hidden = true; notice("saved to strands.yaml");
    await loadGraph();
  } catch (e) { onWriteError(e); }
}
function onWriteError(e) {
  if (e.status === 409) {
    const c = $("#conflict"); c.hidden = false;
    c.querySelector("span").textContent = e.data.error.what + ". What changed:";
    c.querySelector("pre").textContent = e.data.diff || "(the file was changed outside this console)";
    if (!S.dirty) applyConfig({ text: e.data.current, etag: e.data.etag, problems: [] });
    return;
  }
  showError(e);
}

async function saveYaml() {
  try {
    const d = await call("PUT", "/api/config", { text: S.editor.getValue(), etag: S.etag });
    applyConfig(d); $("#conflict").hidden = true; notice("saved to strands.yaml"); await loadGraph();
  } catch (e) { onWriteError(e); }
}

let validateTimer = null;
function onType() {
  if (S.applying) return;
  S.dirty = S.editor.getValue() !== S.text;
  clearTimeout(validateTimer);
  validateTimer = setTimeout(async () => {
    try { showProblems((await call("POST", "/api/config/validate", { text: S.editor.getValue() })).problems); } catch (e) { showError(e); }
  }, 300);
}

async function pollDisk() {
  try {
    const { etag } = await call("GET", "/api/config/etag");
    if (etag !== S.etag) {
      if (S.dirty) { notice("strands.yaml changed on disk: save to see the conflict, or reload"); return; }
      await loadConfig(); await loadGraph(); notice("strands.yaml changed on disk: reloaded");
    }
  } catch (e) { /* the server may be stopping */ }
}

async function loadGit() {
  try {
    const g = await call("GET", "/api/git");
    $("#git-status").textContent = g.status; $("#git-diff").textContent = g.diff || "";
  } catch (e) { showError(e); }
}

/* ---------- plan & deploy ---------- */
function money(v) { return (v < 0 ? "-" : "+") + "$" + Math.abs(v).toFixed(2) + "/mo"; }
function planHtml(d) {
  // the plan's review: cost change per resource and policy findings, shown beside each change
  const review = d.plan.review || {};
  const costs = Object.fromEntries(((review.cost || {}).addresses || []).map((a) => [a.key, a.delta_monthly_usd]));
  const findings = ((review.policy || {}).findings || []).filter((f) => f.status === "fail");
  const hints = (address) => findings.filter((f) => f.resource === address || address.startsWith(f.resource + "."))
    .map((f) => `<div class="hint sev-${esc(f.severity)}">${esc(f.severity)} ${esc(f.rule)}: ${esc(f.message)}</div>`).join("");
  const rows = d.plan.changes.filter((c) => c.action !== "no-op").map((c) => {
    const diffs = Object.entries(c.diff || {}).map(([k, v]) => `<div><code>${esc(k)}</code>: <del>${esc(JSON.stringify(v.before))}</del> → <ins>${esc(JSON.stringify(v.after))}</ins></div>`).join("");
    const cost = c.address in costs ? ` <span class="cost">${esc(money(costs[c.address]))}</span>` : "";
    return `<tr><td class="a-${esc(c.action)}">${esc(c.action)}</td><td>${esc(c.address)}${cost}<br><small class="muted">${esc(c.type)}${c.reason ? " — " + esc(c.reason) : ""}</small>${hints(c.address)}</td><td>${diffs}</td></tr>`;
  }).join("");
  const s = d.summary;
  const c = review.cost;
  const total = c ? `<p>Monthly cost: $${esc(c.before_monthly_usd.toFixed(2))} → $${esc(c.after_monthly_usd.toFixed(2))} (<strong>${esc(c.delta)}</strong>)</p>` : "";
  const blocked = Object.values(review.blocked || {}).map((b) => `<p class="error">Blocks the deploy: ${esc(b.what)} — ${esc(b.fix)}</p>`).join("");
  return `<p><strong>${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete</strong> (${s["no-op"]} unchanged)</p>` +
    total + blocked +
    (rows ? `<table class="plan"><tr><th>action</th><th>resource</th><th>changes</th></tr>${rows}</table>` : "<p>No changes.</p>");
}
async function doPlan() {
  $("#plan-out").innerHTML = "<p class='muted'>Planning…</p>";
  try {
    const d = await call("POST", "/api/plan?" + envQ(), {});
    $("#plan-out").innerHTML = planHtml(d);
    $("#protect").hidden = !d.protected;
    if (S.graph) { S.graph.status = d.status; S.cy.nodes().forEach((n) => n.data("status", d.status[n.id()] || n.data("status"))); }
  } catch (e) { $("#plan-out").innerHTML = ""; showError(e); }
}
async function doDeploy() {
  $("#progress tbody").innerHTML = ""; $("#deploy-result").innerHTML = "<p class='muted'>Deploying…</p>";
  try {
    const { job } = await call("POST", "/api/deploy", { env: S.env, confirm: $("#confirm-env").value });
    S.job = job; $("#cancel-deploy").hidden = false; $("#deploy").disabled = true;
    const src = new EventSource(`/api/deploy/${job}/events`);
    src.onmessage = (m) => onDeployEvent(JSON.parse(m.data), src);
    src.onerror = () => { src.close(); $("#deploy").disabled = false; };
  } catch (e) { $("#deploy-result").innerHTML = ""; showError(e); }
}
function onDeployEvent(ev, src) {
  if (ev.type === "resource") {
    const id = "row-" + ev.address.replace(/[^a-zA-Z0-9]/g, "_");
    let tr = document.getElementById(id);
    if (!tr) { tr = document.createElement("tr"); tr.id = id; $("#progress tbody").appendChild(tr); }
    tr.innerHTML = `<td><span class="st ${esc(ev.kind)}">${esc(ev.kind)}</span></td><td class="a-${esc(ev.action)}">${esc(ev.action)}</td><td>${esc(ev.address)}</td><td>${ev.kind === "start" ? "" : esc(ev.elapsed.toFixed(1)) + "s"}</td><td class="muted">${esc(ev.message)}</td>`;
    return;
  }
  if (ev.type === "started") return;
  src.close(); $("#deploy").disabled = false; $("#cancel-deploy").hidden = true;
  const out = $("#deploy-result");
  if (ev.type === "error") { out.innerHTML = `<p class="msg error">${ev.error.map((p) => esc(problemText(p))).join("<br>")}</p>`; return; }
  if (ev.type === "cancelled") { out.innerHTML = `<p class="msg error">Deploy cancelled: ${esc(ev.why)}</p>`; return; }
  const r = ev.result; const failed = Object.entries(r.failed || {});
  const eps = Object.entries(ev.endpoints || {}).map(([k, v]) => `<div>${esc(k)}: <code>${esc(v)}</code></div>`).join("");
  out.innerHTML = (ev.ok ? `<p id="deploy-done"><strong>Deploy complete:</strong> ${r.applied.length} changed in ${ev.seconds}s${ev.changes ? "" : " (no changes)"}</p>`
    : `<p id="deploy-failed" class="msg error"><strong>Deploy failed:</strong> ${failed.map(([a, e]) => esc(a + ": " + e.what)).join("<br>")}</p>`) + eps;
  loadGraph();
}

/* ---------- playground ---------- */
function addMsg(cls, html) { const d = document.createElement("div"); d.className = "msg " + cls; d.innerHTML = html; $("#messages").appendChild(d); d.scrollIntoView(); return d; }
async function send(ev) {
  ev.preventDefault();
  const agent = $("#chat-agent").value, prompt = $("#chat-input").value;
  if (!prompt.trim()) return;
  $("#chat-input").value = "";
  addMsg("user", esc(prompt));
  const pending = addMsg("agent", "<span class='muted'>…</span>");
  try {
    const a = await call("POST", "/api/chat", { env: S.env, agent, prompt, session: S.session[agent] });
    S.session[agent] = a.session_id; $("#chat-session").textContent = a.session_id || "(none)";
    const usage = a.usage || {};
    const calls = (a.tools || []).map((t) => `<span class="tool-call ${t.status === "error" ? "a-delete" : ""}">${esc(t.name)} ${t.status === "error" ? "✗" : "✓"}${t.duration_ms != null ? " " + esc(t.duration_ms) + " ms" : ""}</span>`).join(", ");
    const tools = (calls ? `<span class="meta tool-calls">tools: ${calls}</span>` : "") + (a.tool_errors || []).map((t) => `<div class="msg error">tool ${esc(t.tool)} failed: ${esc(t.error)}</div>`).join("");
    pending.className = "msg agent answer";
    pending.innerHTML = `${esc(a.response)}${a.structured ? `<pre>${esc(JSON.stringify(a.structured, null, 2))}</pre>` : ""}${tools}
      <span class="meta">tokens: ${esc(usage.inputTokens ?? "?")} in, ${esc(usage.outputTokens ?? "?")} out · ${esc(a.stop_reason)} · ${a.seconds}s</span>`;
  } catch (e) { pending.className = "msg error"; pending.textContent = e.data && e.data.problems ? e.data.problems.map(problemText).join("\n") : e.message; }
}

/* ---------- logs, history, templates ---------- */
async function loadLogs(more) {
  const agent = $("#logs-agent").value; if (!agent) return;
  const since = more && S.logsSince ? S.logsSince : Date.now() - 3600 * 1000;
  try {
    const d = await call("GET", `/api/logs?${envQ()}&agent=${encodeURIComponent(agent)}&since=${since}&filter=${encodeURIComponent($("#logs-filter").value)}`);
    const lines = d.events.map((e) => `${new Date(e.timestamp).toISOString().slice(0, 19).replace("T", " ")}  ${e.message.replace(/\n$/, "")}`);
    if (!more) $("#log-lines").textContent = "";
    if (lines.length) $("#log-lines").textContent += lines.join("\n") + "\n";
    if (!more && !lines.length) $("#log-lines").textContent = "(no log events in the last hour)\n";
    if (d.events.length) S.logsSince = d.events[d.events.length - 1].timestamp + 1;
  } catch (e) { showError(e); }
}
function toggleTail() {
  clearInterval(S.logsTimer);
  if ($("#logs-tail").checked) S.logsTimer = setInterval(() => loadLogs(true), 2000);
}
async function loadHistory() {
  try {
    const d = await call("GET", "/api/history?" + envQ());
    $("#history tbody").innerHTML = "<tr><th>time</th><th>who</th><th>command</th><th>result</th><th>changes</th></tr>" +
      (d.records.map((r) => `<tr><td>${esc(r.at)}</td><td>${esc(r.who || (r.user + "@" + r.host))}</td><td>${esc(r.command)}</td><td>${esc(r.result)}${r.detail ? ": " + esc(r.detail) : ""}</td><td>${esc(Object.entries(r.changes || {}).map(([k, v]) => k + " " + v).join(", "))}</td></tr>`).join("") ||
      "<tr><td colspan=5 class='muted'>No deploys recorded for this environment yet.</td></tr>");
  } catch (e) { showError(e); }
}
async function loadTemplates() {
  try {
    const d = await call("GET", "/api/templates");
    $("#gallery").innerHTML = d.templates.map((t) => `<div class="card"><h3>${esc(t.name)}</h3>` +
      t.agents.map((a) => `<p><strong>${esc(a.name)}</strong> — ${esc(a.description)} <input placeholder="new agent name" data-t="${esc(t.name)}" data-a="${esc(a.name)}"> <button class="use-template">Add to project</button></p>`).join("") +
      `<details><summary>strands.yaml</summary><pre>${esc(t.yaml)}</pre></details></div>`).join("");
    document.querySelectorAll(".use-template").forEach((b) => b.addEventListener("click", async () => {
      const input = b.previousElementSibling;
      try {
        applyConfig(await call("POST", "/api/config/agent-from-template", { template: input.dataset.t, agent: input.dataset.a, name: input.value, etag: S.etag }));
        notice(`agent ${input.value} added`); await loadGraph();
      } catch (e) { onWriteError(e); }
    }));
  } catch (e) { showError(e); }
}

/* ---------- wiring ---------- */
function wire() {
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  $("#env").addEventListener("change", (e) => { S.env = e.target.value; S.session = {}; loadGraph(); });
  $("#refresh-status").addEventListener("click", () => { show("architecture"); doPlan(); });
  $("#agent-select").addEventListener("change", fillAgentForm);
  document.querySelectorAll("#agent-form [data-key]").forEach((el) => el.addEventListener("change", () => {
    let value = el.value === "" ? null : el.type === "number" ? Number(el.value) : el.value;
    if (el.dataset.key === "sessions" && value === "true") value = true;
    edit({ op: "set", section: "agents", name: $("#agent-select").value, key: el.dataset.key, value });
  }));
  $("#remove-agent").addEventListener("click", () => confirm(`Remove agent ${$("#agent-select").value} from strands.yaml? (its code folder stays)`) && edit({ op: "remove", section: "agents", name: $("#agent-select").value }));
  $("#add-agent").addEventListener("click", () => edit({ op: "add-agent", name: $("#new-agent").value.trim(), fields: {} }).then(() => { $("#new-agent").value = ""; }));
  $("#add-resource").addEventListener("click", () => edit({ op: "add-resource", name: $("#new-resource").value.trim(), type: $("#new-resource-type").value, fields: {} }).then(() => { $("#new-resource").value = ""; }));
  $("#add-link").addEventListener("click", () => edit({ op: "link", agent: $("#link-agent").value, resource: $("#link-resource").value, access: $("#link-access").value }));
  $("#remove-link").addEventListener("click", () => edit({ op: "unlink", agent: $("#link-agent").value, resource: $("#link-resource").value }));
  $("#draw-link").addEventListener("click", () => { S.drawing = !S.drawing; S.linkFrom = null; $("#draw-link").classList.toggle("primary", S.drawing); notice(S.drawing ? "Draw link: click an agent" : ""); });
  $("#save-yaml").addEventListener("click", saveYaml);
  $("#commit").addEventListener("click", async () => {
    try { const g = await call("POST", "/api/git/commit", { message: $("#commit-message").value }); notice("committed " + g.commit); $("#commit-message").value = ""; loadGit(); } catch (e) { showError(e); }
  });
  $("#plan").addEventListener("click", doPlan);
  $("#deploy").addEventListener("click", doDeploy);
  $("#cancel-deploy").addEventListener("click", () => S.job && call("POST", `/api/deploy/${S.job}/cancel`, {}));
  $("#chat-form").addEventListener("submit", send);
  $("#new-session").addEventListener("click", () => { S.session[$("#chat-agent").value] = null; $("#chat-session").textContent = "(new)"; });
  $("#logs-load").addEventListener("click", () => loadLogs(false));
  $("#logs-tail").addEventListener("change", toggleTail);
}

async function start() {
  wire();
  S.editor = CodeMirror.fromTextArea($("#yaml"), { mode: "yaml", lineNumbers: true, indentWithTabs: false, tabSize: 2 });
  S.editor.on("change", onType);
  try { await loadConfig(); await loadGraph(); } catch (e) { showError(e); }
  setInterval(pollDisk, 700);
  document.body.dataset.ready = "1";
}
document.addEventListener("DOMContentLoaded", start);
