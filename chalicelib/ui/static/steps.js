// How steps and triggers read on the page: names, the step menu's groups, one-line summaries.
// The list of step types itself comes from /openapi.json; a type not named here still works,
// under "Other", with a generic summary.

export const GROUPS = [
  ["Send message", ["send_email", "send_sms"]],
  ["Flow control", ["wait_time", "wait_for_action", "split"]],
  ["Update participant", ["update_contact", "add_to_list", "remove_from_list", "distribute_to_owner"]],
  ["Create activity", ["create_follow_up", "create_request", "create_sale"]],
  ["Internal", ["run_script", "notify_email", "notify_sms"]],
];

const NAMES = {
  send_email: "Send email",
  send_sms: "Send SMS",
  wait_time: "Wait",
  wait_for_action: "Wait for action",
  split: "Split",
  update_contact: "Update contact",
  add_to_list: "Add to list",
  remove_from_list: "Remove from list",
  distribute_to_owner: "Distribute to owner",
  create_follow_up: "Create follow-up",
  create_request: "Create request",
  create_sale: "Create sale",
  run_script: "Run script",
  notify_email: "Notify by email",
  notify_sms: "Notify by SMS",
};

export function stepName(type) {
  return NAMES[type] || humanize(type);
}

export function humanize(name) {
  const text = String(name).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function menuGroups(types) {
  const known = new Set(GROUPS.flatMap(([, names]) => names));
  const groups = GROUPS.map(([title, names]) => [title, names.filter((n) => types.includes(n))]);
  const other = types.filter((t) => !known.has(t));
  if (other.length) groups.push(["Other", other]);
  return groups.filter(([, names]) => names.length);
}

const short = (value, max = 40) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

const rule = (r) => `${r.field || "?"} ${r.op || "?"}${r.value == null ? "" : ` ${short(r.value, 20)}`}`;

const SUMMARIES = {
  send_email: (s) =>
    s.mailing_id ? `mailing ${short(s.mailing_id, 24)}${s.subject ? ` · “${short(s.subject, 30)}”` : ""}`
      : s.subject ? `“${short(s.subject)}”` : "",
  send_sms: (s) => (s.text ? `“${short(s.text)}”` : ""),
  notify_email: (s) => `to ${s.to || "our_contact"}${s.subject ? ` · “${short(s.subject, 28)}”` : ""}`,
  notify_sms: (s) => `to ${Array.isArray(s.to) ? s.to.join(", ") : s.to || "our_contact"}`,
  wait_time: (s) =>
    s.duration ? `for ${s.duration}` : s.working_days ? `${s.working_days} working days`
      : s.until ? `until ${s.until}` : "",
  wait_for_action: (s) =>
    `${(s.actions || []).length} action(s)${s.max_wait === null ? ", forever" : `, at most ${s.max_wait || "P7D"}`}`,
  split: (s) => (s.basis ? `on ${s.basis.replace(/_/g, " ")}` : ""),
  update_contact: (s) =>
    (s.updates || []).map((u) => `${u.action || "?"} ${u.field || "?"}${u.value == null ? "" : ` = ${short(u.value, 16)}`}`).join("; "),
  add_to_list: (s) => lists(s),
  remove_from_list: (s) => lists(s),
  distribute_to_owner: (s) =>
    [(s.associate_ids || []).length ? `${s.associate_ids.length} associate(s)` : "", s.group_id ? `group ${short(s.group_id, 16)}` : ""]
      .filter(Boolean).join(", "),
  create_follow_up: (s) => [s.type || "task", s.title ? `“${short(s.title, 30)}”` : ""].filter(Boolean).join(" "),
  create_request: (s) => (s.title ? `“${short(s.title)}”` : ""),
  create_sale: (s) => [s.title ? `“${short(s.title, 30)}”` : "", s.amount ? `${s.amount}` : ""].filter(Boolean).join(" · "),
  run_script: (s) => (s.script_id ? `script ${short(s.script_id, 24)}` : ""),
};

function lists(s) {
  return [s.selection_id ? `selection ${short(s.selection_id, 24)}` : "", s.project_id ? `project ${short(s.project_id, 24)}` : ""]
    .filter(Boolean).join(", ");
}

export function stepSummary(step) {
  const settings = step.settings || {};
  const make = SUMMARIES[step.type];
  const text = make ? make(settings) : "";
  if (text) return text;
  const set = Object.entries(settings).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length));
  return set.length ? set.map(([k, v]) => `${k}: ${short(v, 20)}`).join(", ") : "not set up yet";
}

export function branchSummary(split, branch) {
  const c = branch.condition;
  if (!c) return "no condition";
  if (c.rules?.length) return c.rules.map(rule).join(" and ");
  for (const key of ["selection_id", "project_id", "link_id", "form_id"]) {
    if (c[key]) return `${key.replace(/_id$/, "")} ${short(c[key], 24)}`;
  }
  return "no condition";
}

export function triggerSummary(trigger) {
  const target = ["form_id", "link_id", "selection_id", "project_id"].find((k) => trigger[k]);
  return `${humanize(trigger.type)}${target ? ` · ${short(trigger[target], 24)}` : ""}`;
}
