// Small helpers shared by the page's modules: DOM building, API calls, problems, time.

export const RANGES = {"1h": 3600e3, "6h": 6 * 3600e3, "24h": 86400e3, "7d": 7 * 86400e3,
                       "30d": 30 * 86400e3};
const KEY_STORE = "trendsearch.apiKey";

/** Build an element; attributes as an object, children as nodes or strings ("" is skipped). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === "" || child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
}

/** fetch() with JSON bodies and the API key (if the user saved one). */
export function api(path, {method = "GET", body, signal} = {}) {
  const headers = {accept: "application/json"};
  if (body !== undefined) headers["content-type"] = "application/json";
  const key = localStorage.getItem(KEY_STORE);
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(path, {method, headers, signal,
                      body: body === undefined ? undefined : JSON.stringify(body)});
}

const HINTS = {
  400: "The request was malformed; reload the page.",
  401: "This server asks for an API key: enter it under “API key” at the bottom of the page.",
  403: "Your API key may not do this; ask whoever runs the server for one that may.",
  409: "The index was built with another model than the server runs; whoever runs the server " +
       "should start it with the matching profile or run `trendsearch reindex`.",
  413: "The request is too large; shorten the query.",
  422: "Fix the field named above and try again.",
  500: "Something broke on the server; try again, and tell whoever runs it if it keeps happening.",
  503: "The search service is not ready (starting, or its store is unreachable); try again in a minute.",
};

/** {title, detail, errors, hint} from an RFC 9457 problem (or whatever came back instead). */
export async function describeProblem(response, what) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const title = (body && body.title) || response.statusText || `HTTP ${response.status}`;
  const detail = body && typeof body.detail === "string" ? body.detail : "";
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  let hint = HINTS[response.status] || "";
  if (response.status === 429) {
    const wait = response.headers.get("retry-after");
    hint = `Too many requests from you in a short time; wait${wait ? ` ${wait} seconds` : " a moment"} and try again.`;
  }
  if (response.status === 404 && what === "trends") {
    hint = "This server has no trends (GET /v1/trends answered 404): it may be an older version. " +
           "Search still works.";
  }
  const doing = {trends: "Trends", watch: "Watch"}[what] || "Search";
  return {title: `${doing} failed: ${title} (${response.status})`, detail, errors, hint,
          status: response.status};
}

// ---- time ----------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");

/** "2024-05-01T12:00" (local, what datetime-local holds) -> ISO instant, or "". */
export function localToIso(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().replace(".000Z", "Z");
}

/** ISO instant -> "2024-05-01T14:00" in this browser's zone, or "". */
export function isoToLocal(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const UNITS = [["year", 365 * 86400], ["month", 30 * 86400], ["day", 86400], ["hour", 3600],
               ["minute", 60]];
const relative = new Intl.RelativeTimeFormat(undefined, {numeric: "auto"});

/** "3 hours ago" relative to `reference` (now, or the replayed moment). */
export function relativeTime(date, reference = new Date()) {
  const seconds = (date - reference) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

const absolute = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});

export function absoluteTime(date) {
  return absolute.format(date);
}
