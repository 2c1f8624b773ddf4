// The page's state and the URL: everything the page shows is in the URL, so a link
// reopens the same view (only the API key stays out of it, in this browser's storage).
//
// The state every module reads and changes lives in `page` (an ES module's `let` is
// read-only to its importers); `commit` is the one way a new state reaches the URL.

import {RANGES, absoluteTime} from "./util.js";

export const PAGE = 20;
export const MODES = ["relevance", "trending", "latest"];
export const VIEWS = ["search", "trends", "rising", "watches"];

export function readUrl(search = location.search) {
  const p = new URLSearchParams(search);
  const mode = p.get("mode");
  return {
    view: VIEWS.includes(p.get("view")) ? p.get("view") : "search",
    q: p.get("q") || "",
    mode: MODES.includes(mode) ? mode : "relevance",
    platform: (p.get("platform") || "").split(",").map((s) => s.trim()).filter(Boolean),
    lang: p.get("lang") || "",
    range: p.get("range") || "",
    since: p.get("since") || "",
    until: p.get("until") || "",
    min_likes: p.get("min_likes") || "",
    min_reposts: p.get("min_reposts") || "",
    has_image: p.get("has_image") === "1",
    as_of: p.get("as_of") || "",
    window: p.get("window") || "1h",
    topic: p.get("topic") || "",
  };
}

function toUrl(state) {
  const p = new URLSearchParams();
  if (state.view !== "search") p.set("view", state.view);
  if (state.q) p.set("q", state.q);
  if (state.mode !== "relevance") p.set("mode", state.mode);
  if (state.platform.length) p.set("platform", state.platform.join(","));
  for (const key of ["lang", "range", "min_likes", "min_reposts", "as_of", "topic"]) {
    if (state[key]) p.set(key, state[key]);
  }
  if (state.range === "custom") {
    if (state.since) p.set("since", state.since);
    if (state.until) p.set("until", state.until);
  }
  if (state.has_image) p.set("has_image", "1");
  if (state.window !== "1h") p.set("window", state.window);
  const query = p.toString();
  return query ? `?${query}` : location.pathname;
}

export function activeFilters(state) {
  const out = [];
  if (state.platform.length) out.push(`platform: ${state.platform.join(", ")}`);
  if (state.lang) out.push(`language: ${state.lang}`);
  if (state.range) out.push(state.range === "custom" ? "custom dates" : `last ${state.range}`);
  if (Number(state.min_likes) > 0) out.push(`≥ ${state.min_likes} likes`);
  if (Number(state.min_reposts) > 0) out.push(`≥ ${state.min_reposts} reposts`);
  if (state.has_image) out.push("has an image");
  if (state.as_of) out.push(`as of ${absoluteTime(new Date(state.as_of))}`);
  return out;
}

export const page = {
  current: readUrl(),
  // Typing makes one history entry: the first keystroke after anything else pushes,
  // the rest replace it, so Back returns to the previous search, not the previous letter.
  typing: false,
};

export function commit(state, {push}) {
  const url = toUrl(state);
  if (url !== (location.search || location.pathname)) {
    history[push ? "pushState" : "replaceState"](null, "", url);
  }
  if (push) page.typing = false;
  page.current = state;
}

// ---- the filters of a request ----------------------------------------------------------

export function referenceTime(state) {
  return state.as_of ? new Date(state.as_of) : new Date();
}

export function filtersOf(state) {
  const filters = {};
  if (state.platform.length) filters.platform = state.platform;
  if (state.lang) filters.lang = [state.lang];
  if (RANGES[state.range]) {
    filters.since = new Date(referenceTime(state) - RANGES[state.range]).toISOString();
  } else if (state.range === "custom") {
    if (state.since) filters.since = state.since;
    if (state.until) filters.until = state.until;
  }
  for (const key of ["min_likes", "min_reposts"]) {
    const value = Number(state[key]);
    if (state[key] !== "" && Number.isFinite(value)) filters[key] = value;
  }
  if (state.has_image) filters.has_image = true;
  return filters;
}
