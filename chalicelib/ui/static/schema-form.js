// A form made from a JSON schema (the step settings' schemas in /openapi.json, as pydantic
// writes them): strings, numbers, booleans, enums, lists of strings, nested objects, lists of
// objects, discriminated unions; anything else gets a raw JSON box. Every control carries
// data-field="<dotted path>" so a test (or a person with dev tools) can find it.

import { html, useState, useEffect } from "./htm-preact.js";
import { humanize } from "./steps.js";

export function resolve(doc, schema) {
  let s = schema || {};
  for (let depth = 0; s.$ref && depth < 20; depth += 1) {
    s = s.$ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], doc) || {};
  }
  return s;
}

// What control a schema gets: {kind, schema, nullable, ...}.
export function analyse(doc, raw) {
  let s = resolve(doc, raw);
  let nullable = false;
  const union = s.anyOf || (s.oneOf && !s.discriminator ? s.oneOf : null);
  if (union) {
    const options = union.map((o) => resolve(doc, o));
    const real = options.filter((o) => o.type !== "null");
    nullable = real.length < options.length;
    if (real.length !== 1) return { kind: "mixed", schema: s, nullable, options: real };
    s = { ...real[0], title: s.title ?? real[0].title, description: s.description ?? real[0].description, default: s.default };
  }
  if (s.const !== undefined) return { kind: "const", schema: s, nullable };
  if (s.enum) return { kind: "enum", schema: s, nullable };
  if (s.oneOf && s.discriminator) return { kind: "variant", schema: s, nullable };
  switch (s.type) {
    case "boolean":
      return { kind: "boolean", schema: s, nullable };
    case "integer":
    case "number":
      return { kind: "number", schema: s, nullable };
    case "string":
      return { kind: "string", schema: s, nullable };
    case "array": {
      const item = analyse(doc, s.items);
      if (item.kind === "string") return { kind: "strings", schema: s, nullable };
      if (item.kind === "enum") return { kind: "choices", schema: s, nullable, item };
      if (item.kind === "object" || item.kind === "variant") return { kind: "objects", schema: s, nullable, item };
      return { kind: "json", schema: s, nullable };
    }
    case "object":
      return s.properties ? { kind: "object", schema: s, nullable } : { kind: "json", schema: s, nullable };
    default:
      if (!s.type && !s.properties && Object.keys(s).every((k) => ["title", "description", "default"].includes(k))) {
        return { kind: "mixed", schema: s, nullable: true, options: [] };
      }
      return { kind: "json", schema: s, nullable };
  }
}

const label = (name, schema) => (name ? humanize(name) : schema.title || "");

// What an emptied control means: null where the schema allows it, else "unset" (the server's
// default applies).
const empty = (info) => (info.nullable ? null : undefined);

function setKey(object, key, value) {
  const next = { ...(object || {}) };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

// The properties of an object schema, one row each.
export function ObjectFields({ doc, schema, value, onChange, path, disabled, skip = [] }) {
  const s = resolve(doc, schema);
  const required = new Set(s.required || []);
  const rows = Object.entries(s.properties || {}).filter(([name]) => !skip.includes(name));
  return html`<div class="fields">
    ${rows.map(([name, property]) => html`<${Row}
      key=${name}
      doc=${doc}
      name=${name}
      schema=${property}
      required=${required.has(name)}
      value=${value?.[name]}
      path=${path ? `${path}.${name}` : name}
      disabled=${disabled}
      onChange=${(v) => onChange(setKey(value, name, v))}
    />`)}
  </div>`;
}

function Row({ doc, name, schema, required, value, onChange, path, disabled }) {
  const info = analyse(doc, schema);
  if (info.kind === "const") return null;
  const s = info.schema;
  const hint = s.description || "";
  if (info.kind === "boolean") {
    return html`<label class="row check" title=${hint}>
      <input type="checkbox" data-field=${path} disabled=${disabled}
        checked=${value ?? s.default ?? false}
        onChange=${(e) => onChange(e.currentTarget.checked)} />
      <span>${label(name, s)}</span>
      ${hint && html`<small class="hint">${hint}</small>`}
    </label>`;
  }
  const nested = ["object", "objects", "variant", "json", "strings", "choices"].includes(info.kind);
  return html`<div class=${`row ${nested ? "nested" : ""}`}>
    <label class="label" for=${`f-${path}`}>${label(name, s)}${required ? " *" : ""}</label>
    <${Control} doc=${doc} info=${info} value=${value} onChange=${onChange} path=${path} disabled=${disabled} />
    ${hint && html`<small class="hint">${hint}</small>`}
  </div>`;
}

export function Control({ doc, info, value, onChange, path, disabled }) {
  const s = info.schema;
  const common = { id: `f-${path}`, "data-field": path, disabled };
  switch (info.kind) {
    case "enum":
      return html`<select ...${common} value=${value ?? ""}
        onChange=${(e) => onChange(e.currentTarget.value === "" ? empty(info) : e.currentTarget.value)}>
        <option value="">${s.default != null ? `(default: ${s.default})` : "—"}</option>
        ${s.enum.map((v) => html`<option value=${v}>${v}</option>`)}
      </select>`;
    case "number":
      return html`<input type="number" ...${common} value=${value ?? ""}
        min=${s.minimum} max=${s.maximum} step=${s.type === "integer" ? 1 : "any"}
        placeholder=${s.default != null ? String(s.default) : ""}
        onInput=${(e) => {
          const text = e.currentTarget.value;
          onChange(text === "" ? empty(info) : Number(text));
        }} />`;
    case "string": {
      const long = (s.maxLength || 0) > 1000 || ["text", "html", "message", "description"].includes(path.split(".").pop());
      const props = {
        ...common,
        value: value ?? "",
        placeholder: s.default != null ? String(s.default) : s.format === "date-time" ? "2026-12-01T09:00:00Z" : "",
        onInput: (e) => onChange(e.currentTarget.value === "" ? empty(info) : e.currentTarget.value),
      };
      return long ? html`<textarea rows="4" ...${props}></textarea>` : html`<input type="text" ...${props} />`;
    }
    case "mixed":
      return html`<${MixedInput} info=${info} value=${value} onChange=${onChange} common=${common} />`;
    case "strings":
      return html`<${ListOf} value=${value} onChange=${onChange} path=${path} disabled=${disabled}
        make=${() => ""}
        item=${(v, set, p) => html`<input type="text" data-field=${p} disabled=${disabled} value=${v ?? ""}
          onInput=${(e) => set(e.currentTarget.value)} />`} />`;
    case "choices": {
      const chosen = new Set(value || []);
      return html`<div class="choices" data-field=${path}>
        ${info.item.schema.enum.map((v) => html`<label class="check">
          <input type="checkbox" disabled=${disabled} checked=${chosen.has(v)}
            onChange=${(e) => {
              const next = info.item.schema.enum.filter((x) => (x === v ? e.currentTarget.checked : chosen.has(x)));
              onChange(next);
            }} />${v}</label>`)}
      </div>`;
    }
    case "objects":
      return html`<${ListOf} value=${value} onChange=${onChange} path=${path} disabled=${disabled}
        make=${() => (info.item.kind === "variant" ? firstVariant(doc, info.item.schema) : {})}
        item=${(v, set, p) => html`<${Control} doc=${doc} info=${info.item} value=${v} onChange=${set} path=${p} disabled=${disabled} />`} />`;
    case "object":
      if (value == null && info.nullable) {
        return html`<button type="button" class="small" data-add=${path} disabled=${disabled}
          onClick=${() => onChange({})}>Add ${label("", s) || "settings"}</button>`;
      }
      return html`<fieldset class="object">
        <${ObjectFields} doc=${doc} schema=${s} value=${value} onChange=${onChange} path=${path} disabled=${disabled} />
        ${info.nullable && html`<button type="button" class="small link" disabled=${disabled}
          onClick=${() => onChange(null)}>Clear</button>`}
      </fieldset>`;
    case "variant":
      return html`<${Variant} doc=${doc} info=${info} value=${value} onChange=${onChange} path=${path} disabled=${disabled} />`;
    default:
      return html`<${JsonBox} value=${value} onChange=${onChange} path=${path} disabled=${disabled} />`;
  }
}

function firstVariant(doc, schema) {
  const [type] = Object.keys(schema.discriminator.mapping || {});
  return { [schema.discriminator.propertyName]: type };
}

// One of several object shapes, told apart by a discriminator property ("type").
function Variant({ doc, info, value, onChange, path, disabled }) {
  const { propertyName, mapping } = info.schema.discriminator;
  const chosen = value?.[propertyName];
  const variant = chosen && mapping[chosen] ? { $ref: mapping[chosen] } : null;
  return html`<fieldset class="object">
    <div class="row">
      <label class="label">${humanize(propertyName)}</label>
      <select data-field=${`${path}.${propertyName}`} disabled=${disabled} value=${chosen ?? ""}
        onChange=${(e) => onChange({ [propertyName]: e.currentTarget.value })}>
        ${Object.keys(mapping).map((k) => html`<option value=${k}>${k}</option>`)}
      </select>
    </div>
    ${variant && html`<${ObjectFields} doc=${doc} schema=${variant} value=${value} onChange=${onChange}
      path=${path} disabled=${disabled} skip=${[propertyName]} />`}
  </fieldset>`;
}

function ListOf({ value, onChange, path, disabled, make, item }) {
  const items = Array.isArray(value) ? value : [];
  const setAt = (i, v) => onChange(items.map((x, j) => (j === i ? v : x)));
  return html`<div class="list">
    ${items.map((v, i) => html`<div class="list-item" key=${i}>
      ${item(v, (next) => setAt(i, next), `${path}.${i}`)}
      <button type="button" class="small link" title="Remove" data-remove=${`${path}.${i}`} disabled=${disabled}
        onClick=${() => onChange(items.filter((_, j) => j !== i))}>✕</button>
    </div>`)}
    <button type="button" class="small" data-add=${path} disabled=${disabled}
      onClick=${() => onChange([...items, make()])}>+ Add</button>
  </div>`;
}

// A value of several possible types (text, number, object): plain text stays text; JSON is
// read where text is not allowed or an object or list is written.
function MixedInput({ info, value, onChange, common }) {
  const allows = (type) => !info.options.length || info.options.some((o) => o.type === type || (type === "string" && o.enum));
  const shown = value == null ? "" : typeof value === "string" ? value : JSON.stringify(value);
  const hint = info.options.length
    ? info.options.map((o) => (o.enum ? o.enum.join(" | ") : o.type || o.title || "object")).join(" or ")
    : "text, or JSON (5, true, {…})";
  return html`<input type="text" ...${common} value=${shown} placeholder=${hint} title=${hint}
    onInput=${(e) => {
      const text = e.currentTarget.value;
      if (text === "") return onChange(empty(info));
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        return onChange(text);
      }
      const structured = parsed !== null && typeof parsed === "object";
      onChange(structured || !allows("string") ? parsed : text);
    }} />`;
}

// The fallback for what the form cannot draw: the value as JSON, applied when it parses.
export function JsonBox({ value, onChange, path, disabled, rows = 6 }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? null, null, 2));
  const [error, setError] = useState("");
  useEffect(() => {
    // Follow changes made elsewhere (another control, a reload), not the ones typed here.
    let same = false;
    try {
      same = JSON.stringify(JSON.parse(text)) === JSON.stringify(value ?? null);
    } catch {
      same = false;
    }
    if (!same) {
      setText(JSON.stringify(value ?? null, null, 2));
      setError("");
    }
  }, [JSON.stringify(value ?? null)]);
  return html`<div class="json">
    <textarea class="code" rows=${rows} data-field=${path} data-json="1" disabled=${disabled} value=${text}
      onInput=${(e) => {
        const next = e.currentTarget.value;
        setText(next);
        try {
          const parsed = JSON.parse(next);
          setError("");
          onChange(parsed === null ? undefined : parsed);
        } catch (err) {
          setError(`Not JSON yet: ${err.message}`);
        }
      }}></textarea>
    ${error && html`<small class="error-text">${error}</small>`}
  </div>`;
}
