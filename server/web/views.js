// The page's views and its form: the state shown in the form and read back from it,
// the tabs, and which view's request a change runs.
//
// The search box and filters serve every view (trends and rising read the same filters),
// so a change of either is dispatched here to the view that is open.

import {renderTopics, trendsParams} from "./trends.js";
import {createWatch, renderWatches} from "./watches.js";
import {VIEWS, page, commit, activeFilters, filtersOf} from "./state.js";
import {loadInto, setStatus, clearProblem, renderProblem} from "./requests.js";
import {runSearch, scheduleSearch} from "./search.js";
import {runRising} from "./rising.js";
import {api, RANGES, isoToLocal, localToIso, el, clear} from "./util.js";

const $ = (id) => document.getElementById(id);

// ---- state <-> form ----------------------------------------------------------------------

export function formState() {
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
    topic: page.current.topic,
  };
}

export function showState(state) {
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

// ---- trends ------------------------------------------------------------------------------

function runTrends() {
  const state = page.current;
  return loadInto("topics", "trends", "Finding hot topics…",
                  (signal) => api(`/v1/trends?${trendsParams(state, filtersOf(state))}`, {signal}),
                  (list, data) => {
    const topics = data.topics || [];
    renderTopics(list, data, state, openTopic);
    setStatus(topics.length ? `${topics.length} hot topic${topics.length === 1 ? "" : "s"}.`
                            : "No hot topics in this window.");
  });
}

function openTopic(scope) {
  const state = {...page.current, view: "search", q: scope.query, topic: scope.label,
                 range: "custom", since: scope.since || "", until: scope.until || ""};
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
    const next = {...page.current, topic: "", range: "", since: "", until: ""};
    commit(next, {push: true});
    showState(next);
    runSearch();
  });
  box.append(`Posts about the hot topic “${state.topic}” in its window · `, back, " · ", drop);
}

// ---- views and tabs ---------------------------------------------------------------------

export function selectTab(view, focus) {
  for (const [name, tab, panel] of VIEWS.map((v) => [v, `tab-${v}`, `view-${v}`])) {
    const on = name === view;
    $(tab).setAttribute("aria-selected", String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(panel).hidden = !on;
  }
  if (focus) $(`tab-${view}`).focus();
}

export function switchView(view) {
  const state = {...formState(), view, topic: view === "trends" ? "" : page.current.topic};
  commit(state, {push: true});
  showState(state);
  clearProblem();
  refresh();
}

export function refresh() {
  if (page.current.view === "trends") runTrends();
  else if (page.current.view === "rising") runRising();
  else if (page.current.view === "watches") runWatches();
  else runSearch();
}

function runWatches() {
  clearProblem();
  renderWatches($("watches"), $("status"), (problem) => renderProblem(problem, problem.status));
}

export async function watchThis() {
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

// ---- a change in the form --------------------------------------------------------------

export function onFormChange({push, immediate}) {
  const state = formState();
  $("custom-range").hidden = state.range !== "custom";
  commit(state, {push});
  const active = activeFilters(state);
  $("filter-count").textContent = active.length ? `(${active.length} on)` : "";
  showScope(state);
  if (page.current.view === "trends") {
    runTrends();
  } else if (page.current.view === "rising") {
    runRising();
  } else if (immediate) {
    runSearch();
  } else {
    scheduleSearch();
  }
}

export function clearFilters() {
  const form = $("search-form");
  for (const input of form.querySelectorAll("input[name=platform]")) input.checked = false;
  for (const id of ["lang", "range", "since", "until", "min_likes", "min_reposts", "as_of"]) $(id).value = "";
  $("has_image").checked = false;
  page.current = {...page.current, topic: ""};
  onFormChange({push: true, immediate: true});
}
