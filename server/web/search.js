// The search view: the request for a query and its filters, the list of results with
// its status line, "More results", and the counts beside the filters.

import {renderHistogram} from "./histogram.js";
import {card} from "./card.js";
import {PAGE, page, activeFilters, filtersOf, referenceTime} from "./state.js";
import {begin, isCurrent, later, setStatus, clearProblem, showProblem, showNetworkError,
        setBusy} from "./requests.js";
import {clearFilters} from "./views.js";
import {api, el, clear} from "./util.js";

const $ = (id) => document.getElementById(id);

let shown = 0;

// "More results" sends page 1's exact body again with its cursor: the cursor is tied to
// that search (a relative time range recomputed now would be another search).
let lastBody = null;
let nextCursor = null;

function searchBody(state) {
  const body = {query: state.q.trim(), mode: state.mode, limit: PAGE, explain: true, facets: true};
  const filters = filtersOf(state);
  if (Object.keys(filters).length) body.filters = filters;
  if (state.as_of) body.as_of = state.as_of;
  return body;
}

export async function runSearch({append = false} = {}) {
  const state = page.current;
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

export function scheduleSearch() {
  later(() => runSearch());
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
