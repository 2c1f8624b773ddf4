// The watches view: saved searches and their alerts, newest first; "Watch this" saves one.
//
// A watch is the search box's query with its filters (platform, language, likes, reposts,
// images); time filters are left out, since a watch looks at posts as they arrive.
// Managing watches needs a write key where the server asks for one (the key box below).

import {api, clear, describeProblem, el, absoluteTime, relativeTime} from "./util.js";

const SHOWN_ALERTS = 10;
const SHOWN_POSTS = 3;

/** The body of POST /v1/watches for a search: its query and the filters a watch keeps. */
export function watchBody(state) {
  const filters = {};
  if (state.platform?.length) filters.platform = state.platform;
  if (state.lang) filters.lang = [state.lang];
  if (Number(state.min_likes) > 0) filters.min_likes = Number(state.min_likes);
  if (Number(state.min_reposts) > 0) filters.min_reposts = Number(state.min_reposts);
  if (state.has_image) filters.has_image = true;
  const query = state.q.trim();
  return {name: query.slice(0, 200), query,
          ...(Object.keys(filters).length ? {filters} : {})};
}

/** Save the current search as a watch; resolves to the watch, or throws a described problem. */
export async function createWatch(state) {
  const response = await api("/v1/watches", {method: "POST", body: watchBody(state)});
  if (!response.ok) throw await describeProblem(response, "watch");
  return response.json();
}

function alertItem(alert) {
  const fired = new Date(alert.fired_at);
  const why = alert.trigger === "engagement"
    ? `one post's engagement grows ${alert.growth_per_hour} an hour (usual ${alert.expected})`
    : `${alert.observed} matching posts in ${alert.window_minutes} min, ` +
      `expected ${alert.expected} (z ${alert.z})`;
  const list = el("ul", {class: "alert-posts"});
  for (const post of alert.posts.slice(0, SHOWN_POSTS)) {
    list.append(el("li", {}, el("span", {class: "alert-post-text"}, post.text),
                   el("span", {class: "meta"},
                      ` · ${post.platform} · ${relativeTime(new Date(post.created_at), fired)}` +
                      ` · relevance ${post.relevance} (z ${post.z}, words ${post.lexical})`)));
  }
  const updated = alert.revision > 1 ? ` · still going (${alert.revision} passes)` : "";
  return el("li", {class: "alert", "data-alert": alert.id},
            el("p", {class: "alert-head"},
               el("time", {datetime: alert.fired_at, title: absoluteTime(fired)},
                  absoluteTime(fired)),
               ` · ${alert.trigger} · ${why}${updated}`),
            list);
}

async function watchCard(watch, onDelete) {
  const alerts = el("ol", {class: "alerts", "aria-label": `Alerts of ${watch.name}`});
  const response = await api(`/v1/alerts?watch=${encodeURIComponent(watch.id)}&limit=${SHOWN_ALERTS}`);
  if (response.ok) {
    const body = await response.json();
    for (const alert of body.alerts) alerts.append(alertItem(alert));
    if (!body.alerts.length) alerts.append(el("li", {class: "meta"}, "No alerts yet."));
  } else {
    const problem = await describeProblem(response, "watch");
    alerts.append(el("li", {class: "meta"}, problem.title));
  }
  const remove = el("button", {type: "button", class: "secondary"}, "Delete");
  remove.addEventListener("click", () => onDelete(watch));
  return el("li", {class: "watch card", "data-watch": watch.id},
            el("h2", {}, watch.name),
            el("p", {class: "meta"}, `query: ${watch.query}`,
               watch.webhook ? ` · webhook ${watch.webhook.url}` : "",
               watch.enabled ? "" : " · paused"),
            alerts, remove);
}

/** Fill `list` with every watch and its alerts; problems go to `showProblem`. */
export async function renderWatches(list, status, showProblem) {
  status.textContent = "Loading watches…";
  const response = await api("/v1/watches");
  if (!response.ok) {
    status.textContent = "";
    showProblem(await describeProblem(response, "watch"));
    return;
  }
  const {watches} = await response.json();
  const onDelete = async (watch) => {
    const gone = await api(`/v1/watches/${encodeURIComponent(watch.id)}`, {method: "DELETE"});
    if (!gone.ok) showProblem(await describeProblem(gone, "watch"));
    await renderWatches(list, status, showProblem);
  };
  const cards = await Promise.all(watches.map((watch) => watchCard(watch, onDelete)));
  clear(list);
  list.append(...cards);
  status.textContent = watches.length
    ? `${watches.length} watch${watches.length === 1 ? "" : "es"}; alerts newest first.`
    : "No watches yet: search for something, then press “Watch this”.";
}
