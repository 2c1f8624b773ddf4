// The newsroom page: search as you type, filters, "why this result", copies, hot topics.
//
// Plain ES modules, no build step. Everything the page shows is in the URL (so a link
// reopens the same view); only the API key stays out of it, in this browser's storage.
// Post text is always inserted as text, never as HTML.
//
// This module wires the page's controls and keys to the views and starts the page:
// the state and the URL are `state.js`, each view's request `search.js`, `rising.js`
// and `views.js`, a result `card.js`.

import {VIEWS, page, commit, readUrl} from "./state.js";
import {runSearch} from "./search.js";
import {formState, showState, selectTab, switchView, refresh, watchThis, onFormChange,
        clearFilters} from "./views.js";

const $ = (id) => document.getElementById(id);

function wire() {
  const form = $("search-form");
  $("q").addEventListener("input", () => {
    if (page.current.view !== "search") {  // typing means searching, whichever view was open
      selectTab("search", false);
      page.typing = false;
    }
    page.current = {...page.current, topic: ""};
    onFormChange({push: !page.typing, immediate: false});
    page.typing = true;
  });
  form.addEventListener("submit", (event) => {  // Enter: search now, and remember it in history
    event.preventDefault();
    commit(formState(), {push: true});
    if (page.current.view !== "search") switchView("search");
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
        const at = VIEWS.indexOf(page.current.view);
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
    page.typing = false;
    page.current = readUrl();
    showState(page.current);
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
      page.current = {...page.current, topic: ""};
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
showState(page.current);  // opens the filters only when some are on: the results come first
refresh();
if (page.current.view === "search" && !page.current.q) $("q").focus();
