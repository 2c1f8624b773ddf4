// Running the page's requests, and what the page says about them.
//
// The last request wins: each new one aborts the one in flight, and an answer that
// arrives after a newer request began is dropped, so a slow early search cannot
// overwrite a later one. The status line, the problem box and `aria-busy` are here
// because every view's request reports through them the same way.

import {describeProblem, el, clear} from "./util.js";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 250;
const FIELD_INPUTS = {  // API error field -> the input to mark
  "query": "q", "mode": "q", "as_of": "as_of", "filters.since": "since", "filters.until": "until",
  "filters.min_likes": "min_likes", "filters.min_reposts": "min_reposts", "filters.lang": "lang",
};

let sequence = 0;
let inflight = null;
let debounce = null;

export function begin() {
  clearTimeout(debounce);
  inflight?.abort();
  inflight = new AbortController();
  return {id: ++sequence, signal: inflight.signal};
}

export const isCurrent = (ticket) => ticket.id === sequence;

/** Run `run` once typing has paused; a request begun meanwhile cancels it. */
export function later(run) {
  clearTimeout(debounce);
  debounce = setTimeout(run, DEBOUNCE_MS);
}

export function setStatus(text) {
  $("status").textContent = text;
}

export function clearProblem() {
  $("problem").hidden = true;
  clear($("problem"));
  for (const input of document.querySelectorAll("[aria-invalid=true]")) input.removeAttribute("aria-invalid");
}

export async function showProblem(response, what) {
  renderProblem(await describeProblem(response, what), response.status);
}

/** A described problem ({title, detail, errors, hint}) in the alert box. */
export function renderProblem(problem, status = 0) {
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

export function showNetworkError(error) {
  const box = $("problem");
  clear(box);
  box.append(el("p", {class: "problem-title"}, "The API did not answer."),
             el("p", {class: "problem-hint"},
                `Is the server running (trendsearch serve)? Check your connection and try again. (${error.message})`));
  box.hidden = false;
  setStatus("");
}

export function setBusy(region, busy) {
  $(region).setAttribute("aria-busy", busy ? "true" : "false");
}

/** One view's load: `request(signal)` fetches, the region is busy meanwhile, a problem
 * or a network error shows in the usual place, and `render(region, data)` runs only
 * while this is still the page's newest request (the trends and rising views). */
export async function loadInto(regionId, what, status, request, render) {
  const ticket = begin();
  const region = $(regionId);
  setBusy(regionId, true);
  setStatus(status);
  try {
    const response = await request(ticket.signal);
    if (!isCurrent(ticket)) return;
    clear(region);
    if (!response.ok) {
      await showProblem(response, what);
      return;
    }
    const data = await response.json();
    if (!isCurrent(ticket)) return;
    clearProblem();
    render(region, data);
  } catch (error) {
    if (error.name !== "AbortError" && isCurrent(ticket)) showNetworkError(error);
  } finally {
    if (isCurrent(ticket)) setBusy(regionId, false);
  }
}
