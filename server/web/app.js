// The newsroom page: search as you type, filters, "why this result", copies, hot topics.
//
// Plain ES modules, no build step. Everything the page shows is in the URL (so a link
// reopens the same view); only the API key stays out of it, in this browser's storage.
// Post text is always inserted as text, never as HTML.

import {highlight} from "./highlight.js";
import {renderHistogram} from "./histogram.js";
import {renderTopics, trendsParams} from "./trends.js";
import {createWatch, renderWatches} from "./watches.js";
import {api, describeProblem, RANGES, isoToLocal, localToIso, relativeTime, absoluteTime,
        el, clear} from "./util.js";

const $ = (id) => document.getElementById(id);
const PAGE = 20;
const DEBOUNCE_MS = 250;
const MAX_COPIES_SHOWN = 20;
const MODES = ["relevance", "trending", "latest"];
const VIEWS = ["search", "trends", "rising", "watches"];
const FIELD_INPUTS = {  // API error field -> the input to mark
  "query": "q", "mode": "q", "as_of": "as_of", "filters.since": "since", "filters.until": "until",
  "filters.min_likes": "min_likes", "filters.min_reposts": "min_reposts", "filters.lang": "lang",
};

// ---- state <-> URL ---------------------------------------------------------------------

function readUrl(search = location.search) {
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

function formState() {
  const form = $("search-form");
  return {
    view: VIEWS.find((v) => $(`tab-${v}`).getAttribute("aria-selected") === "true") || "search",
    q: $("q").value,
    mode: form.querySelector("input[name=mode]:checked")?.value || "relevance",
    platform: [...form.querySelectorAll("input[name=platform]:checked")].map((i) => i.value),
    lang: $("lang").value,
    range: $("range").value,
    since: localToIso($("since").value),
    until: localToIso($("until").value),
    min_likes: $("min_likes").value,
    min_reposts: $("min_reposts").value,
    has_image: $("has_image").checked,
    as_of: localToIso($("as_of").value),
    window: $("window").value,
    topic: current.topic,
  };
}

function showState(state) {
  $("q").value = state.q;
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.checked = radio.value === state.mode;
  }
  const box = $("platforms");
  for (const name of state.platform) {  // a platform from a shared link that we do not list
    if (!box.querySelector(`input[value="${CSS.escape(name)}"]`)) {
      const input = el("input", {type: "checkbox", name: "platform", value: name});
      box.append(el("label", {}, input, ` ${name}`));
    }
  }
  for (const input of box.querySelectorAll("input")) input.checked = state.platform.includes(input.value);
  if (state.lang && !$("lang").querySelector(`option[value="${CSS.escape(state.lang)}"]`)) {
    $("lang").append(el("option", {value: state.lang}, state.lang));
  }
  $("lang").value = state.lang;
  $("range").value = RANGES[state.range] || state.range === "custom" ? state.range : "";
  $("since").value = isoToLocal(state.since);
  $("until").value = isoToLocal(state.until);
  $("custom-range").hidden = $("range").value !== "custom";
  $("min_likes").value = state.min_likes;
  $("min_reposts").value = state.min_reposts;
  $("has_image").checked = state.has_image;
  $("as_of").value = isoToLocal(state.as_of);
  $("window").value = ["1h", "6h", "24h", "7d"].includes(state.window) ? state.window : "1h";
  const active = activeFilters(state);
  $("filter-count").textContent = active.length ? `(${active.length} on)` : "";
  if (active.length) $("filters").open = true;
  selectTab(state.view, false);
  showScope(state);
}

function activeFilters(state) {
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

let current = readUrl();
// Typing makes one history entry: the first keystroke after anything else pushes,
// the rest replace it, so Back returns to the previous search, not the previous letter.
let typing = false;

function commit(state, {push}) {
  const url = toUrl(state);
  if (url !== (location.search || location.pathname)) {
    history[push ? "pushState" : "replaceState"](null, "", url);
  }
  if (push) typing = false;
  current = state;
}

// ---- the search request ----------------------------------------------------------------

function referenceTime(state) {
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

function searchBody(state) {
  const body = {query: state.q.trim(), mode: state.mode, limit: PAGE, explain: true, facets: true};
  const filters = filtersOf(state);
  if (Object.keys(filters).length) body.filters = filters;
  if (state.as_of) body.as_of = state.as_of;
  return body;
}

// ---- running requests: the last one wins ------------------------------------------------

let sequence = 0;
let inflight = null;
let debounce = null;
let shown = 0;
// "More results" sends page 1's exact body again with its cursor: the cursor is tied to
// that search (a relative time range recomputed now would be another search).
let lastBody = null;
let nextCursor = null;

function begin() {
  clearTimeout(debounce);
  inflight?.abort();
  inflight = new AbortController();
  return {id: ++sequence, signal: inflight.signal};
}

const isCurrent = (ticket) => ticket.id === sequence;

function setStatus(text) {
  $("status").textContent = text;
}

function clearProblem() {
  $("problem").hidden = true;
  clear($("problem"));
  for (const input of document.querySelectorAll("[aria-invalid=true]")) input.removeAttribute("aria-invalid");
}

async function showProblem(response, what) {
  renderProblem(await describeProblem(response, what), response.status);
}

/** A described problem ({title, detail, errors, hint}) in the alert box. */
function renderProblem(problem, status = 0) {
  const box = $("problem");
  clear(box);
  box.append(el("p", {class: "problem-title"}, problem.title));
  if (problem.detail) box.append(el("p", {class: "problem-detail"}, problem.detail));
  if (problem.errors.length) {
    const unsaid = problem.errors.filter((e) => !problem.detail.includes(e.problem));
    if (unsaid.length) {
      box.append(el("ul", {}, ...unsaid.map((e) => el("li", {}, `${e.field}: ${e.problem}`))));
    }
    for (const e of problem.errors) {
      const input = $(FIELD_INPUTS[e.field] || "");
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }
  if (problem.hint) box.append(el("p", {class: "problem-hint"}, problem.hint));
  box.hidden = false;
  if (status === 401) $("key-box").open = true;
  setStatus("");  // the alert below says it; saying it twice makes screen readers repeat it
}

function showNetworkError(error) {
  const box = $("problem");
  clear(box);
  box.append(el("p", {class: "problem-title"}, "The API did not answer."),
             el("p", {class: "problem-hint"},
                `Is the server running (trendsearch serve)? Check your connection and try again. (${error.message})`));
  box.hidden = false;
  setStatus("");
}

function setBusy(region, busy) {
  $(region).setAttribute("aria-busy", busy ? "true" : "false");
}

async function runSearch({append = false} = {}) {
  const state = current;
  if (state.view !== "search") return;
  const query = state.q.trim();
  $("intro").hidden = Boolean(query);
  if (!query) {
    begin();
    clearProblem();
    clear($("results"));
    $("more").hidden = true;
    setStatus("Type a query to search.");
    return;
  }
  const ticket = begin();
  if (append && !(lastBody && nextCursor)) return;
  // More results: the counts above do not change, so the next page does not ask for them
  // again (each costs a pass over every match).
  const body = append ? {...lastBody, cursor: nextCursor, facets: false} : searchBody(state);
  setBusy("results", true);
  setStatus(append ? "Loading more…" : "Searching…");
  try {
    const response = await api("/v1/search", {method: "POST", body, signal: ticket.signal});
    if (!isCurrent(ticket)) return;
    if (!response.ok) {
      if (!append) clear($("results"));
      $("more").hidden = true;
      await showProblem(response, "search");
      return;
    }
    const data = await response.json();
    if (!isCurrent(ticket)) return;
    clearProblem();
    if (!append) lastBody = body;
    nextCursor = data.next_cursor || null;
    renderResults(data, state, append);
    if (!append) showFacets(data.match_facets, data.histogram);
  } catch (error) {
    if (error.name !== "AbortError" && isCurrent(ticket)) showNetworkError(error);
  } finally {
    if (isCurrent(ticket)) setBusy("results", false);
  }
}

function scheduleSearch() {
  clearTimeout(debounce);
  debounce = setTimeout(() => runSearch(), DEBOUNCE_MS);
}

// ---- results -----------------------------------------------------------------------------

function renderResults(data, state, append) {
  const list = $("results");
  if (!append) {
    clear(list);
    shown = 0;
  }
  const reference = referenceTime(state);
  data.results.forEach((result, i) => list.append(card(result, state, reference, shown + i + 1)));
  shown += data.results.length;
  $("more").hidden = !data.next_cursor;
  if (!shown) {
    list.append(emptyState(state));
    setStatus(`No posts match “${state.q.trim()}”.`);
    return;
  }
  // `total` counts every post that matches (its words, or close by meaning), not the page:
  // the size of the story under these filters; "at least" when the API says it is a bound.
  const total = `${data.total_exact ? "" : "at least "}${data.total.toLocaleString("en")}`;
  const scope = activeFilters(state);
  if (!data.total) {  // ranked results, none of which holds the words or is close enough
    setStatus(`No post matches “${state.q.trim()}” by its words or closely by meaning` +
              `${scope.length ? ` (${scope.join("; ")})` : ""}; showing the ${shown} nearest.`);
    return;
  }
  setStatus(`${total} post${data.total === 1 ? "" : "s"} match “${state.q.trim()}”` +
            `${scope.length ? ` (${scope.join("; ")})` : ""}; showing ${shown}, ${state.mode}, ` +
            `in ${Math.round(data.took_ms)} ms.`);
}

// ---- facet counts beside the filters -----------------------------------------------------

// Counts come from the API (`match_facets`: every match per platform and language, see
// search/counting.py); each list's own filter is left out of its counts, so the numbers
// say what ticking another box would give. The strip below is the matches over time.
// Past a thousand matches the API scales the counts up from a sample (`exact` false): "~".
function showFacets(facets, histogram) {
  const about = facets && !facets.exact ? "~" : "";
  for (const input of $("platforms").querySelectorAll("input[name=platform]")) {
    const label = input.closest("label");
    let badge = label.querySelector(".facet");
    if (!badge) {
      badge = el("span", {class: "facet"});
      label.append(badge);
    }
    const n = facets ? facets.platform[input.value] || 0 : null;
    badge.textContent = n === null ? "" : ` (${about}${n})`;
    label.classList.toggle("zero", n === 0);
  }
  for (const option of $("lang").options) {
    if (!option.dataset.name) option.dataset.name = option.textContent;
    const n = facets && option.value ? facets.lang[option.value] || 0 : null;
    option.textContent = n === null ? option.dataset.name : `${option.dataset.name} (${about}${n})`;
  }
  renderHistogram($("facet-days"), histogram);
}

function emptyState(state) {
  const tips = ["Use fewer or different words, or another language."];
  const active = activeFilters(state);
  if (active.length) tips.push(`Loosen the filters (${active.join("; ")}).`);
  if (state.mode !== "relevance") tips.push("Switch to Relevance.");
  const item = el("li", {class: "empty"},
    el("p", {}, `No posts match “${state.q.trim()}”.`),
    el("ul", {}, ...tips.map((t) => el("li", {}, t))));
  if (active.length) {
    const button = el("button", {type: "button", class: "secondary"}, "Clear filters");
    button.addEventListener("click", clearFilters);
    item.append(button);
  }
  return item;
}

function card(result, state, reference, rank) {
  const created = new Date(result.created_at);
  const id = `r-${rank}`;
  const meta = el("p", {class: "meta"},
    el("span", {class: `badge platform-${result.platform}`}, result.platform),
    result.author ? el("span", {class: "author"}, result.author) : "",
    result.lang ? el("span", {class: "lang", title: "language"}, result.lang) : "",
    el("time", {datetime: result.created_at, title: created.toISOString()},
       `${relativeTime(created, reference)} · ${absoluteTime(created)}`));
  const text = el("p", {class: "text", id: `${id}-text`});
  text.append(highlight(result.text, state.q, result.highlights));
  // No query word in the post: the dense model found it by meaning (e.g. an English
  // query, a Chinese post). Said, so the missing marks are not read as a miss.
  if (Array.isArray(result.highlights) && !result.highlights.length) {
    meta.append(el("span", {class: "meaning", title: "none of the query's words is in this "
                            + "post; the multilingual model matched its meaning"},
                   "found by meaning"));
  }
  const counts = el("p", {class: "counts"},
    count("♥", result.likes, "likes"), count("⟳", result.reposts, "reposts"),
    count("✎", result.comments, "comments"),
    el("span", {class: "score", title: "final score"}, `score ${fmt(result.score)}`),
    result.url ? el("a", {href: result.url, target: "_blank", rel: "noopener noreferrer"},
                    "original post") : "");
  const article = el("article", {class: "card", "aria-labelledby": `${id}-text`}, meta, text);
  if (result.image_urls?.length) article.append(thumbnails(result.image_urls));
  article.append(counts);
  if (result.forecast) article.append(forecastLine(result.forecast));
  if ((result.copies || 1) > 1) article.append(copiesBox(result, reference, id));
  if (result.explain) article.append(explainPanel(result.explain, result.score));
  return el("li", {}, article);
}

// The post's engagement forecast a day in (issue 16): the number when there is one, and
// always the sentence saying why (or why there is none yet).
function forecastLine(f) {
  const head = f.status === "ok"
    ? `Forecast: ${Math.round(f.p_top * 100)} % chance of the top tenth, ~${fmt(f.expected)} in a day`
    : "No forecast yet";
  return el("p", {class: "forecast muted", title: `computed ${f.computed_at}`}, `${head}. ${f.why}`);
}

function count(icon, value, label) {
  const n = value ?? 0;
  return el("span", {class: "count-item"}, el("span", {"aria-hidden": "true", class: "icon"}, icon),
            ` ${n} ${n === 1 ? label.slice(0, -1) : label}`);
}

function thumbnails(urls) {
  const box = el("div", {class: "thumbs"});
  urls.slice(0, 4).forEach((url, i) => {
    const img = el("img", {src: url, alt: `image ${i + 1} of ${urls.length}`, loading: "lazy",
                           referrerpolicy: "no-referrer", decoding: "async"});
    const link = el("a", {href: url, target: "_blank", rel: "noopener noreferrer"}, img);
    img.addEventListener("error", () => {  // a dead link still says where the image was
      link.classList.add("broken");
      link.replaceChildren(`image ${i + 1} (not loaded)`);
    });
    box.append(link);
  });
  return box;
}

// ---- copies --------------------------------------------------------------------------

function copiesBox(result, reference, id) {
  const others = result.duplicate_ids || [];
  const panelId = `${id}-copies`;
  const button = el("button", {type: "button", class: "linkish", "aria-expanded": "false",
                               "aria-controls": panelId}, `${result.copies} copies`);
  const panel = el("div", {id: panelId, class: "copies-panel", hidden: ""});
  const box = el("div", {class: "copies"}, button);
  if (result.earliest_id && result.earliest_created_at) {
    const first = new Date(result.earliest_created_at);
    box.append(el("span", {class: "earliest"},
      ` · first posted ${relativeTime(first, reference)} (${result.earliest_id})`));
  }
  box.append(panel);
  let loaded = false;
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (!open || loaded) return;
    loaded = true;
    panel.append(el("p", {class: "muted"}, "Loading copies…"));
    const list = el("ul", {class: "copy-list"});
    for (const copyId of others.slice(0, MAX_COPIES_SHOWN)) {
      list.append(await copyItem(copyId, reference));
    }
    clear(panel);
    panel.append(el("p", {class: "muted"},
      `The same text was posted ${result.copies} times; this card stands for all of them.`), list);
    if (others.length > MAX_COPIES_SHOWN) {
      panel.append(el("p", {class: "muted"}, `and ${others.length - MAX_COPIES_SHOWN} more: ` +
                                               others.slice(MAX_COPIES_SHOWN).join(", ")));
    }
  });
  return box;
}

async function copyItem(copyId, reference) {
  try {
    const response = await api(`/v1/posts/${encodeURIComponent(copyId)}`);
    if (!response.ok) return el("li", {}, `${copyId} (${response.status === 404 ? "gone" : "not loaded"})`);
    const post = await response.json();
    const created = new Date(post.created_at);
    return el("li", {}, el("span", {class: "badge"}, post.platform), " ",
              post.author ? `${post.author} · ` : "",
              el("time", {datetime: post.created_at, title: created.toISOString()},
                 `${relativeTime(created, reference)} · ${absoluteTime(created)}`),
              ` · ${copyId}`);
  } catch {
    return el("li", {}, `${copyId} (not loaded)`);
  }
}

// ---- why this result -------------------------------------------------------------------

function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  return Number.isInteger(x) ? String(x) : Number(x).toFixed(digits);
}

function rankText(rank, score, signal) {
  return rank ? `#${rank} (score ${fmt(score)})` : `not in the ${signal} top candidates`;
}

const FINAL = {
  relevance: "relevance: the rerank score (recall order where the reranker did not reach)",
  trending: "trending: relevance × time decay × engagement, posts about the query first",
  latest: "latest: relevant posts, newest first",
};

function explainPanel(x, finalScore) {
  const rows = [
    ["1. Recall: meaning", "dense vectors, nearest posts", rankText(x.dense_rank, x.dense_score, "dense")],
    ["1. Recall: words", "sparse lexical match", rankText(x.sparse_rank, x.sparse_score, "word")],
    ["1. Recall: fused", `${x.fusion || "fusion"} combines both lists`,
     `#${x.fused_rank} (score ${fmt(x.fused_score)})`],
    ["2. Rerank", "cross-encoder reads query and post together",
     x.rerank_score !== null && x.rerank_score !== undefined
       ? `#${x.rerank_rank} (score ${fmt(x.rerank_score)})${x.rerank_note ? ` · ${x.rerank_note}` : ""}`
       : (x.rerank_note || "not reranked")],
  ];
  if (x.on_topic !== null && x.on_topic !== undefined) {  // trending's gate (search.topical)
    const evidence = x.on_topic_rule === "watch"
      ? ` · meaning z ${fmt(x.topic_z)}, words ${fmt(x.topic_terms)} of the query's`
      : " · by the match rule";
    rows.push(["3. About the query", "posts that count for the query come first",
               `${x.on_topic ? "yes" : "no"}${evidence}`]);
  }
  if (x.decay !== null && x.decay !== undefined) {
    rows.push(["3. Time decay", "newer posts weigh more", `× ${fmt(x.decay)}`]);
  }
  if (x.engagement !== null && x.engagement !== undefined) {
    rows.push(["3. Engagement", "likes, reposts and comments", `× ${fmt(x.engagement)}`]);
  }
  rows.push(["Final", FINAL[x.mode] || `${x.mode} mode`, fmt(x.final ?? finalScore)]);
  const known = new Set(["mode", "fusion", "dense_rank", "dense_score", "sparse_rank", "sparse_score",
    "fused_rank", "fused_score", "rerank_score", "rerank_rank", "rerank_note", "decay", "engagement",
    "final", "models", "on_topic", "on_topic_rule", "topic_z", "topic_terms"]);
  for (const [key, value] of Object.entries(x)) {  // fields added to explain later still show
    if (!known.has(key) && value !== null && typeof value !== "object") rows.push([key, "", fmt(value)]);
  }
  const table = el("table", {class: "explain"},
    el("caption", {class: "sr"}, "Score at each stage"),
    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Stage"), el("th", {scope: "col"}, "What it does"),
                       el("th", {scope: "col"}, "This post"))),
    el("tbody", {}, ...rows.map(([stage, what, value]) =>
      el("tr", {}, el("th", {scope: "row"}, stage), el("td", {}, what), el("td", {}, value)))));
  const models = x.models ? Object.entries(x.models).map(([k, v]) => `${k}: ${v}`).join(" · ") : "";
  return el("details", {class: "why"}, el("summary", {}, "Why this result"), table,
            models ? el("p", {class: "muted models"}, `Models: ${models}`) : "");
}

// ---- trends ------------------------------------------------------------------------------

async function runTrends() {
  const state = current;
  const ticket = begin();
  const list = $("topics");
  setBusy("topics", true);
  setStatus("Finding hot topics…");
  try {
    const response = await api(`/v1/trends?${trendsParams(state, filtersOf(state))}`,
                               {signal: ticket.signal});
    if (!isCurrent(ticket)) return;
    clear(list);
    if (!response.ok) {
      await showProblem(response, "trends");
      return;
    }
    const data = await response.json();
    if (!isCurrent(ticket)) return;
    clearProblem();
    const topics = data.topics || [];
    renderTopics(list, data, state, openTopic);
    setStatus(topics.length ? `${topics.length} hot topic${topics.length === 1 ? "" : "s"}.`
                            : "No hot topics in this window.");
  } catch (error) {
    if (error.name !== "AbortError" && isCurrent(ticket)) showNetworkError(error);
  } finally {
    if (isCurrent(ticket)) setBusy("topics", false);
  }
}

// ---- rising ------------------------------------------------------------------------------

// POST /v1/rising with the search box's words (if any) and the filters: the posts of the last
// day most likely to take off, each shown as a search card with its forecast line.
async function runRising() {
  const state = current;
  const ticket = begin();
  const list = $("rising");
  setBusy("rising", true);
  setStatus("Forecasting the last day's posts…");
  const body = {limit: PAGE};
  if (state.q.trim()) body.query = state.q.trim();
  const filters = filtersOf(state);
  if (Object.keys(filters).length) body.filters = filters;
  try {
    const response = await api("/v1/rising", {method: "POST", body, signal: ticket.signal});
    if (!isCurrent(ticket)) return;
    clear(list);
    if (!response.ok) {
      await showProblem(response, "rising");
      return;
    }
    const data = await response.json();
    if (!isCurrent(ticket)) return;
    clearProblem();
    const reference = new Date(data.as_of);
    data.results.forEach((item, i) => list.append(card(
      {...item.post, forecast: item.forecast, score: item.forecast.p_top ?? 0},
      {...state, q: body.query || ""}, reference, i + 1)));
    setStatus(data.results.length
      ? `${data.results.length} rising post${data.results.length === 1 ? "" : "s"} of ` +
        `${data.candidates} from the last day.`
      : "No post of the last day matches.");
  } catch (error) {
    if (error.name !== "AbortError" && isCurrent(ticket)) showNetworkError(error);
  } finally {
    if (isCurrent(ticket)) setBusy("rising", false);
  }
}

function openTopic(scope) {
  const state = {...current, view: "search", q: scope.query, topic: scope.label, range: "custom",
                 since: scope.since || "", until: scope.until || ""};
  commit(state, {push: true});
  showState(state);
  runSearch();
  $("main").focus();  // the clicked title is gone; start reading from the results
}

function showScope(state) {
  const box = $("scope");
  clear(box);
  box.hidden = !(state.topic && state.view === "search");
  if (box.hidden) return;
  const back = el("button", {type: "button", class: "linkish"}, "back to trends");
  back.addEventListener("click", () => switchView("trends"));
  const drop = el("button", {type: "button", class: "linkish"}, "search everything");
  drop.addEventListener("click", () => {
    const next = {...current, topic: "", range: "", since: "", until: ""};
    commit(next, {push: true});
    showState(next);
    runSearch();
  });
  box.append(`Posts about the hot topic “${state.topic}” in its window · `, back, " · ", drop);
}

// ---- views, tabs, keys -------------------------------------------------------------------

function selectTab(view, focus) {
  for (const [name, tab, panel] of VIEWS.map((v) => [v, `tab-${v}`, `view-${v}`])) {
    const on = name === view;
    $(tab).setAttribute("aria-selected", String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(panel).hidden = !on;
  }
  if (focus) $(`tab-${view}`).focus();
}

function switchView(view) {
  const state = {...formState(), view, topic: view === "trends" ? "" : current.topic};
  commit(state, {push: true});
  showState(state);
  clearProblem();
  refresh();
}

function refresh() {
  if (current.view === "trends") runTrends();
  else if (current.view === "rising") runRising();
  else if (current.view === "watches") runWatches();
  else runSearch();
}

function runWatches() {
  clearProblem();
  renderWatches($("watches"), $("status"), (problem) => renderProblem(problem, problem.status));
}

async function watchThis() {
  const state = formState();
  if (!state.q.trim()) {
    renderProblem({title: "Nothing to watch yet", errors: [{field: "query", problem: "empty"}],
                   detail: "Type a search first, then press “Watch this”.", hint: ""});
    return;
  }
  try {
    await createWatch(state);
  } catch (problem) {
    renderProblem(problem, problem.status);
    return;
  }
  switchView("watches");
}

function onFormChange({push, immediate}) {
  const state = formState();
  $("custom-range").hidden = state.range !== "custom";
  commit(state, {push});
  const active = activeFilters(state);
  $("filter-count").textContent = active.length ? `(${active.length} on)` : "";
  showScope(state);
  if (current.view === "trends") {
    runTrends();
  } else if (current.view === "rising") {
    runRising();
  } else if (immediate) {
    runSearch();
  } else {
    scheduleSearch();
  }
}

function clearFilters() {
  const form = $("search-form");
  for (const input of form.querySelectorAll("input[name=platform]")) input.checked = false;
  for (const id of ["lang", "range", "since", "until", "min_likes", "min_reposts", "as_of"]) $(id).value = "";
  $("has_image").checked = false;
  current = {...current, topic: ""};
  onFormChange({push: true, immediate: true});
}

function wire() {
  const form = $("search-form");
  $("q").addEventListener("input", () => {
    if (current.view !== "search") {  // typing means searching, whichever view was open
      selectTab("search", false);
      typing = false;
    }
    current = {...current, topic: ""};
    onFormChange({push: !typing, immediate: false});
    typing = true;
  });
  form.addEventListener("submit", (event) => {  // Enter: search now, and remember it in history
    event.preventDefault();
    commit(formState(), {push: true});
    if (current.view !== "search") switchView("search");
    else runSearch();
  });
  form.addEventListener("change", (event) => {
    if (event.target.id === "q") return;
    onFormChange({push: true, immediate: true});
  });
  $("window").addEventListener("change", () => onFormChange({push: true, immediate: true}));
  $("trends-form").addEventListener("submit", (event) => event.preventDefault());
  $("clear-filters").addEventListener("click", clearFilters);
  $("more").addEventListener("click", () => runSearch({append: true}));
  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => {
      $("q").value = button.dataset.q;
      if (button.dataset.mode) {
        for (const radio of document.querySelectorAll("input[name=mode]")) {
          radio.checked = radio.value === button.dataset.mode;
        }
      }
      onFormChange({push: true, immediate: true});
      $("q").focus();
    });
  }
  for (const view of VIEWS) {
    $(`tab-${view}`).addEventListener("click", () => switchView(view));
    $(`tab-${view}`).addEventListener("keydown", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) {
        event.preventDefault();
        const at = VIEWS.indexOf(current.view);
        const next = {ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: VIEWS.length - 1}[event.key];
        const target = VIEWS[(next + VIEWS.length) % VIEWS.length];
        switchView(target);
        selectTab(target, true);
      }
    });
  }
  $("watch-this").addEventListener("click", watchThis);
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", () => {
    typing = false;
    current = readUrl();
    showState(current);
    refresh();
  });
  const saved = localStorage.getItem("trendsearch.apiKey");
  if (saved) $("api-key").value = saved;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) localStorage.setItem("trendsearch.apiKey", key);
    else localStorage.removeItem("trendsearch.apiKey");
    $("key-box").open = false;
    refresh();
  });
  $("forget-key").addEventListener("click", () => {
    localStorage.removeItem("trendsearch.apiKey");
    $("api-key").value = "";
  });
}

function onKey(event) {
  const target = event.target;
  const typing = target.closest?.("input, textarea, select, [contenteditable=true]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    $("q").focus();
    $("q").select();
    return;
  }
  if (event.key !== "Escape") return;
  if (target === $("q")) {
    event.preventDefault();  // the browser would clear it without an input event
    if ($("q").value) {
      $("q").value = "";
      current = {...current, topic: ""};
      onFormChange({push: true, immediate: true});
    } else {
      $("q").blur();
    }
    return;
  }
  const open = target.closest?.("details[open]") ||
               document.querySelector("#results details[open], #filters[open], #key-box[open]");
  if (open) {
    open.open = false;
    open.querySelector("summary")?.focus();
    return;
  }
  const expanded = target.closest?.(".copies")?.querySelector("[aria-expanded=true]");
  if (expanded) expanded.click();
}

// ---- start -------------------------------------------------------------------------------

wire();
showState(current);  // opens the filters only when some are on: the results come first
refresh();
if (current.view === "search" && !current.q) $("q").focus();
