// The flow page (docs/decisions/0011-flow-page.md): the flows list, a flow's flowchart with its
// editor, its participants. It only calls the public API, with the key the user pasted.
//
// Routes live in the URL's hash: #/ (flows), #/flows/<id> (flowchart),
// #/flows/<id>/participants[/<participant id>].

import { html, render, useCallback, useEffect, useRef, useState } from "./htm-preact.js";
import * as api from "./api.js";
import { Flowchart, Warning } from "./flowchart.js";
import { JsonBox, ObjectFields, analyse, resolve } from "./schema-form.js";
import { humanize, stepName } from "./steps.js";
import * as tree from "./tree.js";

const POLL_MS = 1500;
const EDITABLE = new Set(["not_running", "paused"]);

// ---------------------------------------------------------------- routing and small parts

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "flows" && parts[1]) {
    return { page: "flow", id: parts[1], tab: parts[2] === "participants" ? "participants" : "chart", pid: parts[3] || null };
  }
  return { page: "list" };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const follow = () => setRoute(parseHash());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  return route;
}

const go = (hash) => {
  location.hash = hash;
};

// Call `tick` now and every `ms` while the component is shown.
function usePoll(tick, ms, deps) {
  useEffect(() => {
    let live = true;
    const run = () => live && tick(() => live);
    run();
    const timer = setInterval(run, ms);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, deps);
}

const percent = (rate) => `${Math.round((rate || 0) * 1000) / 10}%`;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

// The API's refusal as it said it: title, detail, and the errors or problems it listed.
function ProblemView({ error, testid = "problem" }) {
  if (!error) return null;
  const p = error.problem || { title: String(error.message || error) };
  return html`<div class="problem" role="alert" data-testid=${testid}>
    <div><b>${p.title}</b>${p.status ? html` <span class="muted">(${p.status})</span>` : ""}</div>
    ${p.detail && html`<div class="detail">${p.detail}</div>`}
    ${p.errors?.length ? html`<ul>${p.errors.map((e) => html`<li><code>${e.path}</code> ${e.message}</li>`)}</ul>` : ""}
    ${p.problems?.length ? html`<ul>${p.problems.map((e) => html`<li>
      ${e.step_id ? html`<code>${e.step_id}</code> ` : ""}${e.path ? html`<code>${e.path}</code> ` : ""}${e.message}</li>`)}</ul>` : ""}
  </div>`;
}

function StatusBadge({ status }) {
  return html`<span class=${`badge ${status}`} data-testid="status">${status.replace(/_/g, " ")}</span>`;
}

function Figures({ stats }) {
  const s = stats || {};
  const figure = (name, label, value) => html`<div class="figure">
    <b data-testid=${`flow-${name}`}>${value}</b><span>${label}</span></div>`;
  return html`<div class="figures-row">
    ${figure("enrolled", "enrolled", s.enrolled ?? 0)}
    ${figure("in-progress", "in progress", s.in_progress ?? 0)}
    ${figure("completed", "completed", s.completed ?? 0)}
    ${figure("success-rate", "success rate", percent(s.success_rate))}
  </div>`;
}

// Start (or resume), pause, end and delete, offered as the lifecycle allows (SPEC.md §3); the
// API still has the last word, and its refusal shows under the buttons.
function LifecycleButtons({ flow, onChanged, blocked }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const status = flow.status;
  const act = (what, request) => async () => {
    setBusy(true);
    setError(null);
    try {
      await request();
      setConfirming(false);
      await onChanged(what);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const path = `/v1/flows/${flow.id}`;
  return html`<div class="lifecycle" data-testid="lifecycle">
    <div class="buttons">
      <button type="button" data-action="start" disabled=${busy || !EDITABLE.has(status) || blocked}
        title=${blocked ? "Save or discard your changes first" : ""}
        onClick=${act("started", () => api.post(`${path}/start`))}>${status === "paused" ? "Resume" : "Start"}</button>
      <button type="button" data-action="pause" disabled=${busy || status !== "running"}
        onClick=${act("paused", () => api.post(`${path}/pause`))}>Pause</button>
      <button type="button" data-action="end" disabled=${busy || status === "not_running"}
        title="Queued and active participants are cancelled"
        onClick=${act("ended", () => api.post(`${path}/end`))}>End</button>
      ${confirming
        ? html`<button type="button" class="danger" data-action="confirm-delete" disabled=${busy}
            onClick=${act("deleted", () => api.del(path))}>Really delete</button>
            <button type="button" class="link" onClick=${() => setConfirming(false)}>Keep</button>`
        : html`<button type="button" class="danger-outline" data-action="delete" disabled=${busy || status !== "not_running"}
            title=${status === "not_running" ? "" : "End the flow before deleting it"}
            onClick=${() => setConfirming(true)}>Delete</button>`}
    </div>
    <${ProblemView} error=${error} testid="lifecycle-problem" />
  </div>`;
}

// ---------------------------------------------------------------- the key

function KeyBar({ apiKey, onKey }) {
  const [text, setText] = useState("");
  if (apiKey) {
    return html`<div class="keybar">
      <span class="muted">API key set for this tab</span>
      <button type="button" class="link" data-testid="forget-key" onClick=${() => onKey("")}>Forget key</button>
    </div>`;
  }
  return html`<form class="keybar" data-testid="key-form" onSubmit=${(e) => {
    e.preventDefault();
    onKey(text.trim());
  }}>
    <input type="password" data-testid="api-key" placeholder="Paste an API key" autocomplete="off"
      value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
    <button type="submit" data-testid="use-key">Use key</button>
  </form>`;
}

// ---------------------------------------------------------------- the flows list

function FlowsList() {
  const [flows, setFlows] = useState(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const load = useCallback(async (live = () => true) => {
    try {
      const page = await api.get("/v1/flows?limit=200");
      if (!live()) return;
      setFlows(page.items);
      setMore(Boolean(page.next));
      setError(null);
    } catch (e) {
      if (live()) setError(e);
    }
  }, []);
  usePoll(load, 5000, []);
  return html`<main class="list-page">
    <div class="title-row">
      <h1>Flows</h1>
      <${NewFlow} />
    </div>
    <${ProblemView} error=${error} />
    ${flows && (flows.length
      ? html`<table class="flows" data-testid="flows">
          <thead><tr><th>Name</th><th>Status</th><th class="num">Enrolled</th><th class="num">In progress</th>
            <th class="num">Completed</th><th class="num">Success rate</th><th></th></tr></thead>
          <tbody>${flows.map((flow) => html`<tr key=${flow.id} data-testid="flow-row" data-flow-id=${flow.id}>
            <td><a href=${`#/flows/${encodeURIComponent(flow.id)}`}>${flow.name}</a>
              ${flow.problems?.length ? html` <${Warning} problems=${flow.problems} />` : ""}</td>
            <td><${StatusBadge} status=${flow.status} /></td>
            <td class="num" data-col="enrolled">${flow.stats?.enrolled ?? 0}</td>
            <td class="num" data-col="in_progress">${flow.stats?.in_progress ?? 0}</td>
            <td class="num" data-col="completed">${flow.stats?.completed ?? 0}</td>
            <td class="num" data-col="success_rate">${percent(flow.stats?.success_rate)}</td>
            <td><${LifecycleButtons} flow=${flow} onChanged=${() => load()} /></td>
          </tr>`)}</tbody>
        </table>
        ${more && html`<p class="muted">Showing the first 200 flows.</p>`}`
      : html`<p class="muted">No flows yet: create one.</p>`)}
  </main>`;
}

function NewFlow() {
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  return html`<form class="new-flow" onSubmit=${async (e) => {
    e.preventDefault();
    try {
      const flow = await api.post("/v1/flows", { name: name.trim() });
      go(`#/flows/${encodeURIComponent(flow.id)}`);
    } catch (err) {
      setError(err);
    }
  }}>
    <input type="text" data-testid="new-flow-name" placeholder="New flow's name" value=${name}
      onInput=${(e) => setName(e.currentTarget.value)} />
    <button type="submit" data-testid="new-flow">Create flow</button>
    <${ProblemView} error=${error} />
  </form>`;
}

// ---------------------------------------------------------------- schemas from /openapi.json

// type -> the step schema's $ref, from the discriminator of a flow's steps list.
function stepMapping(doc) {
  for (const schema of Object.values(doc.components?.schemas || {})) {
    const mapping = schema.properties?.steps?.items?.discriminator?.mapping;
    if (mapping && schema.properties.name) return mapping;
  }
  return {};
}

function stepSchema(doc, type) {
  const ref = stepMapping(doc)[type];
  return ref ? resolve(doc, { $ref: ref }) : null;
}

// Every step may carry "branches" (null but on splits); a type whose own schema requires a list
// there is one that fans out.
function hasBranches(doc, type) {
  const branches = stepSchema(doc, type)?.properties?.branches;
  return Boolean(branches && branches.type === "array");
}

function definitionSchema(doc) {
  const schemas = doc.components?.schemas || {};
  const name = Object.keys(schemas).find((n) => n.startsWith("FlowDefinition") && schemas[n].properties?.steps);
  return name ? schemas[name] : null;
}

// Which keys of a branch's condition a split's basis reads (SPEC.md §5).
const CONDITION_KEYS = {
  contact_data: ["rules"],
  form_submitted: ["form_id"],
  form_data: ["form_id", "rules"],
  link_clicked: ["link_id", "mailing_id"],
  project_member: ["project_id"],
  selection_member: ["selection_id"],
};

// ---------------------------------------------------------------- the flow page

function FlowPage({ id, tab, pid }) {
  const [doc, setDoc] = useState(null);
  const [flow, setFlow] = useState(null); // as the API last answered
  const [draft, setDraft] = useState(null); // what the user edits; saved with PUT
  const [dirty, setDirty] = useState(false);
  const [stats, setStats] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState(null);
  const [saved, setSaved] = useState("");
  const [selected, setSelected] = useState(null);
  const [menuAt, setMenuAt] = useState(null);
  const dirtyRef = useRef(false);
  dirtyRef.current = dirty;

  const load = useCallback(async () => {
    const answer = await api.get(`/v1/flows/${encodeURIComponent(id)}`);
    setFlow(answer);
    if (!dirtyRef.current) setDraft(answer);
    return answer;
  }, [id]);

  useEffect(() => {
    setFlow(null);
    setDraft(null);
    setDirty(false);
    setSelected(null);
    Promise.all([api.openapiDocument().then(setDoc), load()]).catch(setLoadError);
  }, [id]);

  usePoll(async (live) => {
    try {
      const answer = await api.get(`/v1/flows/${encodeURIComponent(id)}/stats`);
      if (live()) setStats(answer);
    } catch {
      // The figures are a view; a failed poll shows the last ones until the next.
    }
  }, POLL_MS, [id]);

  if (loadError) return html`<main><a href="#/">← All flows</a><${ProblemView} error=${loadError} /></main>`;
  if (!flow || !draft || !doc) return html`<main><p class="muted">Loading…</p></main>`;

  const editable = EDITABLE.has(flow.status);
  const problems = tree.problemsByStep(flow, flow.problems);
  const edit = (change) => {
    setDraft((current) => change(current));
    setDirty(true);
    setSaved("");
    setSaveError(null);
  };
  const save = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      const answer = await api.put(`/v1/flows/${encodeURIComponent(id)}`, tree.definitionOf(draft));
      setFlow(answer);
      setDraft(answer);
      setDirty(false);
      const count = answer.problems.length;
      setSaved(`Saved as version ${answer.version}: ${count ? `${count} problem${count > 1 ? "s" : ""}` : "no problems"}.`);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  };
  const discard = () => {
    setDraft(flow);
    setDirty(false);
    setSaveError(null);
  };
  const onLifecycle = async (what) => {
    if (what === "deleted") go("#/");
    else await load();
  };
  const stepTypes = Object.keys(stepMapping(doc));
  const chartProps = {
    flow: draft,
    problems,
    stats,
    editable,
    selected,
    menuAt,
    stepTypes,
    onSelect: (which) => {
      setSelected(which);
      setMenuAt(null);
    },
    onMenu: setMenuAt,
    onInsert: (ref, index, type) => {
      const step = tree.newStep(draft, type, hasBranches(doc, type));
      edit((d) => tree.insertStep(d, ref, index, step));
      setMenuAt(null);
      setSelected(step.id);
    },
    onMove: (stepId, delta) => edit((d) => tree.moveStep(d, stepId, delta)),
    onRemove: (stepId) => {
      edit((d) => tree.removeStep(d, stepId));
      if (selected === stepId) setSelected(null);
    },
  };
  const base = `#/flows/${encodeURIComponent(id)}`;
  const flowProblems = problems.get("") || [];
  return html`<main class="flow-page">
    <a href="#/" class="back">← All flows</a>
    <header class="flow-head">
      <div class="flow-title">
        <h1 data-testid="flow-name">${draft.name}</h1>
        <${StatusBadge} status=${flow.status} />
        <span class="muted">version ${flow.version}</span>
      </div>
      <${Figures} stats=${stats || flow.stats} />
      <${LifecycleButtons} flow=${flow} blocked=${dirty} onChanged=${onLifecycle} />
    </header>
    <${EnrolBox} flowId=${id} />
    <nav class="tabs">
      <a href=${base} class=${tab === "chart" ? "active" : ""} data-testid="tab-chart">Flowchart</a>
      <a href=${`${base}/participants`} class=${tab === "participants" ? "active" : ""} data-testid="tab-participants">Participants</a>
    </nav>
    ${tab === "participants"
      ? html`<${Participants} flow=${flow} pid=${pid} />`
      : html`<div class="savebar" data-testid="savebar">
          ${editable
            ? html`<button type="button" class="primary" data-testid="save" disabled=${!dirty || saving} onClick=${save}>
                ${saving ? "Saving…" : "Save"}</button>
              <button type="button" data-testid="discard" disabled=${!dirty || saving} onClick=${discard}>Discard changes</button>
              ${dirty ? html`<span class="muted">Unsaved changes; the problems shown are those of the last save.</span>` : ""}`
            : html`<span class="muted">A running flow cannot be edited: pause it first.</span>`}
          ${saved && html`<span class="ok" data-testid="saved">${saved}</span>`}
          <${ProblemView} error=${saveError} testid="save-problem" />
        </div>
        ${flowProblems.length ? html`<div class="problem soft" data-testid="flow-problems">
          <b>Problems of the flow</b>
          <ul>${flowProblems.map((p) => html`<li>${p.path ? html`<code>${p.path}</code> ` : ""}${p.message}</li>`)}</ul>
        </div>` : ""}
        <div class="workspace">
          <${Flowchart} ...${chartProps} />
          ${selected === "flow"
            ? html`<${FlowSettingsPanel} doc=${doc} draft=${draft} editable=${editable} edit=${edit}
                onClose=${() => setSelected(null)} />`
            : selected && tree.findStep(draft, selected)
              ? html`<${StepPanel} key=${selected} doc=${doc} draft=${draft} stepId=${selected} editable=${editable}
                  problems=${problems.get(selected) || []} figures=${stats?.steps?.[selected]} edit=${edit}
                  onMove=${chartProps.onMove} onRemove=${chartProps.onRemove} onClose=${() => setSelected(null)} />`
              : ""}
        </div>`}
  </main>`;
}

function EnrolBox({ flowId }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone("");
    try {
      let contactId = text.trim();
      if (contactId.includes("@")) {
        const page = await api.get(`/v1/contacts?email=${encodeURIComponent(contactId)}`);
        if (!page.items.length) {
          throw new api.ApiError(404, { title: "No such contact", detail: `No contact has the email ${contactId}.` });
        }
        contactId = page.items[0].id;
      }
      const participant = await api.post(`/v1/flows/${encodeURIComponent(flowId)}/participants`, { contact_id: contactId });
      setDone(`Enrolled as participant ${participant.id} (${participant.status}).`);
      setText("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="enrol" data-testid="enrol-form" onSubmit=${submit}>
    <label for="enrol-contact">Enrol a contact</label>
    <input id="enrol-contact" type="text" data-testid="enrol-contact" placeholder="contact id or email"
      value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
    <button type="submit" data-testid="enrol" disabled=${busy || !text.trim()}>Enrol</button>
    ${done && html`<span class="ok" data-testid="enrolled">${done}</span>`}
    <${ProblemView} error=${error} testid="enrol-problem" />
  </form>`;
}

// ---------------------------------------------------------------- side panels

function PanelHead({ title, sub, onClose }) {
  return html`<div class="panel-head">
    <div><h2>${title}</h2>${sub && html`<code class="muted">${sub}</code>`}</div>
    <button type="button" class="icon" title="Close" data-testid="close-panel" onClick=${onClose}>✕</button>
  </div>`;
}

function StepPanel({ doc, draft, stepId, editable, problems, figures, edit, onMove, onRemove, onClose }) {
  const [asJson, setAsJson] = useState(false);
  const { step } = tree.findStep(draft, stepId);
  const schema = stepSchema(doc, step.type);
  const settingsSchema = schema?.properties?.settings;
  const change = (mutate) => edit((d) => tree.updateStep(d, stepId, mutate));
  const setSettings = (value) => change((s) => {
    s.settings = value || {};
  });
  const numbers = Object.entries(figures || {}).filter(([, v]) => typeof v === "number");
  return html`<aside class="panel" data-testid="step-panel" data-step-id=${stepId}>
    <${PanelHead} title=${stepName(step.type)} sub=${step.id} onClose=${onClose} />
    ${problems.length ? html`<div class="problem soft" data-testid="step-problems"><ul>
      ${problems.map((p) => html`<li>${p.path ? html`<code>${p.path}</code> ` : ""}${p.message}</li>`)}</ul></div>` : ""}
    ${numbers.length ? html`<dl class="step-figures">${numbers.map(([k, v]) => html`<div><dt>${humanize(k)}</dt><dd>${v}</dd></div>`)}</dl>` : ""}
    ${figures?.skipped_by_reason && Object.keys(figures.skipped_by_reason).length
      ? html`<p class="muted">Skipped: ${Object.entries(figures.skipped_by_reason).map(([k, v]) => `${k} ${v}`).join(", ")}</p>` : ""}
    <div class="panel-section-head">
      <h3>Settings</h3>
      <label class="check small"><input type="checkbox" data-testid="as-json" checked=${asJson || !settingsSchema}
        disabled=${!settingsSchema} onChange=${(e) => setAsJson(e.currentTarget.checked)} />Edit as JSON</label>
    </div>
    ${asJson || !settingsSchema
      ? html`<${JsonBox} value=${step.settings || {}} onChange=${setSettings} path="settings" disabled=${!editable} rows=${10} />`
      : html`<${ObjectFields} doc=${doc} schema=${settingsSchema} value=${step.settings || {}} onChange=${setSettings}
          path="settings" disabled=${!editable} />`}
    ${Array.isArray(step.branches) && html`<${BranchesEditor} doc=${doc} split=${step} schema=${schema} change=${change} editable=${editable} />`}
    ${editable && html`<div class="panel-actions">
      <button type="button" onClick=${() => onMove(stepId, -1)}>Move up</button>
      <button type="button" onClick=${() => onMove(stepId, 1)}>Move down</button>
      <button type="button" class="danger-outline" data-testid="remove-step" onClick=${() => onRemove(stepId)}>Remove step</button>
    </div>`}
  </aside>`;
}

function BranchesEditor({ doc, split, schema, change, editable }) {
  const branchSchema = resolve(doc, schema.properties.branches?.items);
  const condition = analyse(doc, branchSchema.properties?.condition);
  const keys = CONDITION_KEYS[split.settings?.basis];
  const skip = keys ? Object.keys(condition.schema.properties || {}).filter((k) => !keys.includes(k)) : [];
  const branches = split.branches || [];
  const moveBranch = (i, delta) => change((s) => {
    const j = i + delta;
    if (j < 0 || j >= s.branches.length) return;
    [s.branches[i], s.branches[j]] = [s.branches[j], s.branches[i]];
  });
  return html`<div class="branches-edit">
    <h3>Branches</h3>
    <p class="muted small">Tried in order; the first that matches wins. Everyone else takes the last path.</p>
    ${branches.map((branch, i) => html`<fieldset class="branch-edit" key=${branch.id || i} data-testid="branch-edit" data-branch=${i}>
      <div class="row">
        <label class="label">Name</label>
        <input type="text" data-field=${`branches.${i}.name`} disabled=${!editable} value=${branch.name || ""}
          onInput=${(e) => {
            const name = e.currentTarget.value;
            change((s) => {
              s.branches[i].name = name;
            });
          }} />
      </div>
      <div class="row nested">
        <label class="label">Condition</label>
        <${ObjectFields} doc=${doc} schema=${condition.schema} value=${branch.condition || {}} skip=${skip}
          path=${`branches.${i}.condition`} disabled=${!editable}
          onChange=${(value) => change((s) => {
            s.branches[i].condition = value;
          })} />
      </div>
      ${editable && html`<div class="panel-actions">
        <button type="button" class="small" disabled=${i === 0} onClick=${() => moveBranch(i, -1)}>↑</button>
        <button type="button" class="small" disabled=${i === branches.length - 1} onClick=${() => moveBranch(i, 1)}>↓</button>
        <button type="button" class="small danger-outline" data-remove=${`branches.${i}`}
          onClick=${() => change((s) => {
            s.branches.splice(i, 1);
          })}>Remove branch</button>
      </div>`}
    </fieldset>`)}
    ${editable && html`<button type="button" class="small" data-add="branches"
      onClick=${() => change((s) => {
        s.branches = [...(s.branches || []), { name: `Branch ${(s.branches || []).length + 1}`, condition: {}, steps: [] }];
      })}>+ Add branch</button>`}
    <label class="check row">
      <input type="checkbox" data-field="everyone_else.exit" disabled=${!editable} checked=${split.everyone_else?.exit || false}
        onChange=${(e) => {
          const exit = e.currentTarget.checked;
          change((s) => {
            s.everyone_else = { steps: [], ...(s.everyone_else || {}), exit };
          });
        }} />
      <span>Everyone else drops out (exit)</span>
    </label>
  </div>`;
}

function FlowSettingsPanel({ doc, draft, editable, edit, onClose }) {
  const schema = definitionSchema(doc);
  return html`<aside class="panel" data-testid="flow-panel">
    <${PanelHead} title="Flow settings" sub="triggers, gate, email, success, finish" onClose=${onClose} />
    ${schema
      ? html`<${ObjectFields} doc=${doc} schema=${schema} value=${draft} skip=${["steps"]} path="flow" disabled=${!editable}
          onChange=${(value) => edit((d) => ({ ...value, steps: d.steps }))} />`
      : html`<p class="muted">The API's schema has no flow definition.</p>`}
  </aside>`;
}

// ---------------------------------------------------------------- participants

function stepLabel(flow, stepId) {
  if (!stepId) return "—";
  const place = tree.findStep(flow, stepId);
  return place ? `${stepName(place.step.type)} (${stepId})` : stepId;
}

// Where a participant is: its step while queued or active; Finish, or the step it left on.
function whereIs(flow, participant) {
  if (["finished", "succeeded"].includes(participant.status)) return "Finish";
  if (["dropped_out", "cancelled"].includes(participant.status)) {
    return participant.step_id ? `left on ${stepLabel(flow, participant.step_id)}` : "—";
  }
  return stepLabel(flow, participant.step_id);
}

function sending(last) {
  if (!last) return "—";
  return [last.channel, last.status, when(last.at)].filter(Boolean).join(" · ");
}

function Participants({ flow, pid }) {
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  usePoll(async (live) => {
    try {
      const query = `limit=200${status ? `&status=${status}` : ""}`;
      const answer = await api.get(`/v1/flows/${encodeURIComponent(flow.id)}/participants?${query}`);
      if (live()) {
        setPage(answer);
        setError(null);
      }
    } catch (e) {
      if (live()) setError(e);
    }
  }, POLL_MS * 2, [flow.id, status]);
  const base = `#/flows/${encodeURIComponent(flow.id)}/participants`;
  return html`<section class="participants" data-testid="participants">
    <div class="title-row">
      <label>Status
        <select data-testid="participant-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">all</option>
          ${["queued", "active", "finished", "succeeded", "dropped_out", "cancelled"].map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
    </div>
    <${ProblemView} error=${error} />
    ${page && (page.items.length
      ? html`<table class="flows">
          <thead><tr><th>Participant</th><th>Contact</th><th>Status</th><th>Current step</th><th>Waiting until</th>
            <th>Last sending</th><th>Enrolled</th></tr></thead>
          <tbody>${page.items.map((p) => html`<tr key=${p.id} data-testid="participant-row" data-participant-id=${p.id}
              class=${p.id === pid ? "selected" : ""}>
            <td><a href=${`${base}/${encodeURIComponent(p.id)}`}>${p.id}</a></td>
            <td><code>${p.contact_id}</code></td>
            <td><${StatusBadge} status=${p.status} />${p.dropout_reason ? html` <span class="muted">${p.dropout_reason}</span>` : ""}</td>
            <td data-col="step">${whereIs(flow, p)}</td>
            <td>${when(p.wait_until)}</td>
            <td>${sending(p.last_sending)}</td>
            <td>${when(p.enrolled_at)}</td>
          </tr>`)}</tbody>
        </table>
        ${page.next ? html`<p class="muted">Showing the first 200.</p>` : ""}`
      : html`<p class="muted">No participants${status ? ` with status ${status}` : ""}.</p>`)}
    ${pid && html`<${ParticipantDetail} key=${pid} flow=${flow} pid=${pid} />`}
  </section>`;
}

function ParticipantDetail({ flow, pid }) {
  const [detail, setDetail] = useState(null);
  const [error, setError] = useState(null);
  const path = `/v1/flows/${encodeURIComponent(flow.id)}/participants/${encodeURIComponent(pid)}`;
  const load = async (live = () => true) => {
    try {
      const answer = await api.get(path);
      if (live()) setDetail(answer);
    } catch (e) {
      if (live()) setError(e);
    }
  };
  usePoll(load, POLL_MS * 2, [path]);
  const act = (request) => async () => {
    setError(null);
    try {
      await request();
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return html`<section class="history" data-testid="participant-detail">
    <h2>Participant <code>${pid}</code></h2>
    <${ProblemView} error=${error} />
    ${detail && html`<div>
      <p><${StatusBadge} status=${detail.status} /> ${whereIs(flow, detail)}
        ${detail.dropout_reason ? html` · dropped out: <b>${detail.dropout_reason}</b>` : ""}
        · contact <code>${detail.contact_id}</code> · enrolled ${when(detail.enrolled_at)}</p>
      <div class="panel-actions">
        ${detail.dropout_reason === "step_failed" && html`<button type="button" onClick=${act(() => api.post(`${path}/retry`))}>Retry the step</button>`}
        <button type="button" class="danger-outline" title="Erase the participation (start-only-once no longer blocks)"
          onClick=${act(async () => {
            await api.del(path);
            go(`#/flows/${encodeURIComponent(flow.id)}/participants`);
          })}>Remove from flow</button>
      </div>
      <table class="flows history-table" data-testid="history">
        <thead><tr><th>#</th><th>When</th><th>Step</th><th>What happened</th><th>Reason</th><th>Detail</th></tr></thead>
        <tbody>${detail.history.map((h) => html`<tr key=${h.seq}>
          <td>${h.seq}</td><td>${when(h.at)}</td><td>${stepLabel(flow, h.step_id)}</td>
          <td>${[h.event, h.outcome].filter(Boolean).join(": ")}</td><td>${h.reason || ""}</td>
          <td>${Object.keys(h.detail || {}).length ? html`<code class="small">${JSON.stringify(h.detail)}</code>` : ""}</td>
        </tr>`)}</tbody>
      </table>
    </div>`}
  </section>`;
}

// ---------------------------------------------------------------- the page

function App() {
  const [apiKey, setApiKey] = useState(api.storedKey);
  const route = useRoute();
  const onKey = (key) => {
    api.storeKey(key);
    setApiKey(key);
  };
  return html`<div class="app">
    <header class="top">
      <a href="#/" class="brand">Flows</a>
      <${KeyBar} apiKey=${apiKey} onKey=${onKey} />
    </header>
    ${!apiKey
      ? html`<main><p class="intro">Paste an API key of your tenant to see its flows. It is kept in this tab only
          (sessionStorage) and sent to this site's API, nowhere else.</p></main>`
      : route.page === "flow"
        ? html`<${FlowPage} key=${route.id} id=${route.id} tab=${route.tab} pid=${route.pid} />`
        : html`<${FlowsList} />`}
  </div>`;
}

const root = document.getElementById("root");
root.textContent = "";
render(html`<${App} />`, root);
