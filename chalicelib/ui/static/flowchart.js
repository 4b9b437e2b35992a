// The flowchart: the trigger(s) on top, the steps down the page, splits fanning out into their
// branches and everyone_else, Finish at the end of every path. While the flow may be edited,
// every gap between two steps is a slot that opens the step menu.

import { html } from "./htm-preact.js";
import { TOP, problemText } from "./tree.js";
import { branchSummary, menuGroups, stepName, stepSummary, triggerSummary } from "./steps.js";

export function Flowchart(props) {
  const { flow, problems } = props;
  const flowProblems = problems.get("") || [];
  const triggerProblems = flowProblems.filter((p) => /^(triggers|filter)/.test(p.path || ""));
  const triggers = flow.triggers || [];
  return html`<div class="chart" data-testid="flowchart">
    <div class="lane">
      <button type="button" data-testid="trigger"
        class=${`node trigger ${props.selected === "flow" ? "selected" : ""}`}
        title="Flow settings: triggers, filter, email settings, success…"
        onClick=${() => props.onSelect("flow")}>
        <div class="node-head">
          <span class="kind">Trigger${triggers.length > 1 ? "s" : ""}</span>
          <${Warning} problems=${triggerProblems} />
        </div>
        ${triggers.length
          ? triggers.map((t) => html`<div class="summary">${triggerSummary(t)}</div>`)
          : html`<div class="summary muted">none: contacts are enrolled by hand or by the API</div>`}
      </button>
      <${Lane} ...${props} listRef=${TOP} steps=${flow.steps || []} />
    </div>
  </div>`;
}

function Lane(props) {
  const { steps, listRef } = props;
  const items = [];
  let reachable = true;
  steps.forEach((step, index) => {
    items.push(html`<${Slot} key=${`slot-${index}`} ...${props} index=${index} />`);
    items.push(html`<${StepNode} key=${step.id} ...${props} step=${step} index=${index} count=${steps.length}
      unreachable=${!reachable} />`);
    if (Array.isArray(step.branches)) {
      items.push(html`<${Fan} key=${`fan-${step.id}`} ...${props} split=${step} />`);
      reachable = false;
    }
  });
  const endsInSplit = steps.length && Array.isArray(steps[steps.length - 1].branches);
  if (!endsInSplit) {
    items.push(html`<${Slot} key="slot-end" ...${props} index=${steps.length} />`);
    items.push(html`<div key="finish" class="node finish" data-testid="finish" data-list=${listRef}>Finish</div>`);
  }
  return html`<div class="lane">${items}</div>`;
}

function Slot({ listRef, index, editable, menuAt, onMenu, onInsert, stepTypes }) {
  const at = `${listRef}#${index}`;
  if (!editable) return html`<div class="edge"></div>`;
  const open = menuAt === at;
  const plus = html`<div class="edge slot">
    <button type="button" class=${`plus ${open ? "open" : ""}`} data-testid="slot" data-list=${listRef} data-index=${index}
      title=${open ? "Close the step menu" : "Add a step here"} aria-expanded=${open}
      onClick=${() => onMenu(open ? null : at)}>${open ? "×" : "+"}</button>
  </div>`;
  if (!open) return plus;
  // The menu takes its place in the chart (rather than floating over it): nothing clips it.
  return [
    plus,
    html`<div class="menu" data-testid="step-menu" role="menu"
      onKeyDown=${(e) => e.key === "Escape" && onMenu(null)}>
      ${menuGroups(stepTypes).map(([title, types]) => html`<div class="menu-group">
        <div class="menu-title">${title}</div>
        ${types.map((type) => html`<button type="button" role="menuitem" data-step-type=${type}
          onClick=${() => onInsert(listRef, index, type)}>${stepName(type)}</button>`)}
      </div>`)}
    </div>`,
    html`<div class="edge"></div>`,
  ];
}

function StepNode({ step, index, count, editable, selected, onSelect, onMove, onRemove, problems, stats, unreachable }) {
  const mine = problems.get(step.id) || [];
  const figures = stats?.steps?.[step.id] || {};
  const errors = mine.filter((p) => p.severity !== "warning");
  const classes = ["node", "step", `type-${step.type}`];
  if (selected === step.id) classes.push("selected");
  if (errors.length) classes.push("has-problems");
  if (unreachable) classes.push("unreachable");
  const stop = (action) => (e) => {
    e.stopPropagation();
    action();
  };
  return html`<div class=${classes.join(" ")} data-testid="step" data-step-id=${step.id} data-type=${step.type}
    tabindex="0" role="button" onClick=${() => onSelect(step.id)}
    onKeyDown=${(e) => e.key === "Enter" && onSelect(step.id)}>
    <div class="node-head">
      <span class="kind">${stepName(step.type)}</span>
      <${Warning} problems=${mine} />
    </div>
    <div class="summary">${stepSummary(step)}</div>
    ${unreachable && html`<div class="summary warn-text">never reached: after a split, participants follow a branch</div>`}
    <div class="figures" data-testid="step-stats">
      <span title="participants on this step now">now <b data-testid="on-step">${figures.on_step ?? 0}</b></span>
      <span title="participants who entered this step">entered <b data-testid="entered">${figures.entered ?? 0}</b></span>
      ${figures.skipped ? html`<span title="skipped">skipped <b>${figures.skipped}</b></span>` : ""}
      ${figures.failed ? html`<span class="bad" title="failed">failed <b>${figures.failed}</b></span>` : ""}
    </div>
    ${editable && html`<div class="tools">
      <button type="button" class="icon" title="Move up" data-action="up" disabled=${index === 0}
        onClick=${stop(() => onMove(step.id, -1))}>↑</button>
      <button type="button" class="icon" title="Move down" data-action="down" disabled=${index === count - 1}
        onClick=${stop(() => onMove(step.id, 1))}>↓</button>
      <button type="button" class="icon" title="Remove" data-action="remove"
        onClick=${stop(() => onRemove(step.id))}>✕</button>
    </div>`}
  </div>`;
}

function Fan(props) {
  const { split, problems } = props;
  const mine = problems.get(split.id) || [];
  const branches = split.branches || [];
  const rest = split.everyone_else || { exit: false, steps: [] };
  return html`<div class="fan">
    ${branches.map((branch, n) => {
      const branchProblems = mine.filter((p) => (p.path || "").startsWith(`branches[${n}]`));
      return html`<div class="branch" key=${branch.id || n} data-testid="branch" data-branch=${n}>
        <div class="branch-head" title=${branchSummary(split, branch)}>
          <b>${branch.name || `Branch ${n + 1}`}</b>
          <span class="muted">${branchSummary(split, branch)}</span>
          <${Warning} problems=${branchProblems} />
        </div>
        <${Lane} ...${props} listRef=${`${split.id}/${n}`} steps=${branch.steps || []} />
      </div>`;
    })}
    <div class="branch else" data-testid="branch" data-branch="else">
      <div class="branch-head"><b>Everyone else</b>${rest.exit ? html`<span class="muted">drops out</span>` : ""}</div>
      ${rest.exit
        ? html`<div class="lane"><div class="edge"></div><div class="node finish exit">Exit</div></div>`
        : html`<${Lane} ...${props} listRef=${`${split.id}/else`} steps=${rest.steps || []} />`}
    </div>
  </div>`;
}

export function Warning({ problems }) {
  if (!problems.length) return null;
  const onlyWarnings = problems.every((p) => p.severity === "warning");
  return html`<span class=${`warning ${onlyWarnings ? "soft" : ""}`} data-testid="warning" role="img"
    aria-label=${problemText(problems)} title=${problemText(problems)}>⚠</span>`;
}
