// The public API, as the page uses it: the key the user pasted (sessionStorage only), the same
// origin as the page, and problem+json answers turned into values the page can show.

const KEY_ITEM = "flows.apiKey";

// The page is served at <prefix>/ui (the prefix is API Gateway's stage, or nothing locally);
// the API lives under the same prefix.
export const BASE = location.pathname.replace(/\/ui\/?$/, "");

export function storedKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

// An answer the API refused, or a request that never got one. `problem` is the problem+json
// body (title, detail, errors, problems) or one made up for a network failure.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    throw new ApiError(0, { title: "The API did not answer", detail: String(error) });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: `HTTP ${response.status}`, detail: text.slice(0, 500) };
    }
  }
  if (!response.ok) {
    const problem = data && typeof data === "object" ? data : {};
    problem.title ||= `HTTP ${response.status}`;
    throw new ApiError(response.status, problem);
  }
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body) => call("PUT", path, body);
export const del = (path) => call("DELETE", path);

let openapi = null;

// The served OpenAPI document, fetched once: the step types and their settings' schemas.
export function openapiDocument() {
  openapi ||= get("/openapi.json").catch((error) => {
    openapi = null;
    throw error;
  });
  return openapi;
}
