// The flow's tree of steps, as the page edits it. Pure functions: each edit returns a new
// definition, so the page re-renders from it.
//
// A list of steps is named by a "list ref": "" is the top list, "<split id>/<n>" the split's
// n-th branch, "<split id>/else" its everyone_else.

export const TOP = "";

export function clone(value) {
  return structuredClone(value);
}

// Every step, depth first in flowchart order, with the list it stands in and its index.
export function* walk(steps, ref = TOP) {
  for (const [index, step] of (steps || []).entries()) {
    yield { step, ref, index };
    for (const [n, branch] of (step.branches || []).entries()) {
      yield* walk(branch.steps, `${step.id}/${n}`);
    }
    if (step.everyone_else) yield* walk(step.everyone_else.steps, `${step.id}/else`);
  }
}

export function findStep(definition, id) {
  for (const place of walk(definition.steps)) if (place.step.id === id) return place;
  return null;
}

export function listOf(definition, ref) {
  if (ref === TOP) return (definition.steps ||= []);
  const cut = ref.lastIndexOf("/");
  const split = findStep(definition, ref.slice(0, cut))?.step;
  if (!split) return null;
  const which = ref.slice(cut + 1);
  if (which === "else") {
    split.everyone_else ||= { exit: false, steps: [] };
    return (split.everyone_else.steps ||= []);
  }
  const branch = (split.branches || [])[Number(which)];
  return branch ? (branch.steps ||= []) : null;
}

export function newStepId(definition) {
  const taken = new Set([...walk(definition.steps)].map((place) => place.step.id));
  for (;;) {
    const id = `s_${Math.random().toString(36).slice(2, 8)}`;
    if (!taken.has(id)) return id;
  }
}

export function newStep(definition, type, isSplit) {
  const step = { id: newStepId(definition), type, settings: {} };
  if (isSplit) {
    step.branches = [];
    step.everyone_else = { exit: false, steps: [] };
  }
  return step;
}

export function insertStep(definition, ref, index, step) {
  const next = clone(definition);
  listOf(next, ref).splice(index, 0, step);
  return next;
}

export function removeStep(definition, id) {
  const next = clone(definition);
  const place = findStep(next, id);
  if (place) listOf(next, place.ref).splice(place.index, 1);
  return next;
}

// Move a step up (-1) or down (+1) within its own list.
export function moveStep(definition, id, delta) {
  const next = clone(definition);
  const place = findStep(next, id);
  if (!place) return next;
  const list = listOf(next, place.ref);
  const to = place.index + delta;
  if (to < 0 || to >= list.length) return next;
  [list[place.index], list[to]] = [list[to], list[place.index]];
  return next;
}

export function updateStep(definition, id, change) {
  const next = clone(definition);
  const place = findStep(next, id);
  if (place) change(place.step);
  return next;
}

// The step a problem is about: by its step_id, or by a path such as
// "steps[2].branches[0].steps[1].settings.mailing_id". Returns {stepId, path} where path is
// the rest of the problem's path (relative to the step), or stepId null for the flow itself.
export function problemTarget(definition, problem) {
  if (problem.step_id) return { stepId: problem.step_id, path: problem.path || "" };
  const path = problem.path || "";
  const tokens = [...path.matchAll(/([A-Za-z_]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  let node = definition;
  let stepId = null;
  let consumed = 0;
  for (const [i, token] of tokens.entries()) {
    if (node == null || typeof node !== "object") break;
    node = node[token];
    if (node && typeof node === "object" && typeof node.type === "string" && node.id) {
      stepId = node.id;
      consumed = i + 1;
    }
  }
  if (!stepId) return { stepId: null, path };
  const rest = tokens
    .slice(consumed)
    .map((t) => (typeof t === "number" ? `[${t}]` : `.${t}`))
    .join("")
    .replace(/^\./, "");
  return { stepId, path: rest };
}

// Problems grouped by the step they are about ("" for the flow as a whole).
export function problemsByStep(definition, problems) {
  const grouped = new Map();
  for (const problem of problems || []) {
    const { stepId, path } = problemTarget(definition, problem);
    const key = stepId || "";
    if (!grouped.has(key)) grouped.set(key, []);
    grouped.get(key).push({ ...problem, path });
  }
  return grouped;
}

export function problemText(problems) {
  return problems
    .map((p) => `${p.severity === "warning" ? "Warning: " : ""}${p.path ? `${p.path}: ` : ""}${p.message}`)
    .join("\n");
}

// What a PUT sends: the definition without what the server keeps for itself.
const READ_ONLY = ["id", "status", "version", "created_at", "updated_at", "problems", "stats"];

export function definitionOf(flow) {
  const definition = clone(flow);
  for (const key of READ_ONLY) delete definition[key];
  for (const { step } of walk(definition.steps)) delete step.segments;
  return definition;
}
