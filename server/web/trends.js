// The trends view: hot topics as cards with a sparkline of volume against baseline.

import {el, relativeTime, absoluteTime} from "./util.js";

const WINDOW_WORDS = {"1h": "hour", "6h": "6 hours", "24h": "24 hours", "7d": "7 days"};
const SHOWN_POSTS = 3;

/** Query string for GET /v1/trends from the page state. */
export function trendsParams(state, filters) {
  const params = new URLSearchParams({window: WINDOW_WORDS[state.window] ? state.window : "1h",
                                      limit: "10"});
  if (state.as_of) params.set("as_of", state.as_of);
  for (const key of ["platform", "lang"]) {
    for (const value of filters[key] || []) params.append(key, value);
  }
  for (const key of ["min_likes", "min_reposts", "has_image"]) {
    if (filters[key] !== undefined) params.set(key, String(filters[key]));
  }
  return params;
}

/** [{t: Date, count}] from either series shape: counts + series_start/bucket_seconds, or {t, count}. */
export function seriesOf(topic) {
  const raw = topic.series || [];
  if (raw.length && typeof raw[0] === "object") {
    return raw.map((point) => ({t: new Date(point.t), count: Number(point.count) || 0}));
  }
  const start = topic.series_start ? new Date(topic.series_start).getTime() : null;
  const step = (topic.bucket_seconds || 3600) * 1000;
  return raw.map((count, i) => ({t: start === null ? null : new Date(start + i * step),
                                 count: Number(count) || 0}));
}

function sparkline(points, baseline, label) {
  const width = 180;
  const height = 44;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  if (!points.length) return svg;
  const top = Math.max(1, baseline || 0, ...points.map((p) => p.count));
  const x = (i) => (points.length === 1 ? width / 2 : 2 + (i * (width - 4)) / (points.length - 1));
  const y = (v) => height - 3 - (v / top) * (height - 8);
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.count).toFixed(1)}`).join(" ");
  const area = document.createElementNS(ns, "polygon");
  area.setAttribute("points", `${x(0).toFixed(1)},${height - 3} ${line} ${x(points.length - 1).toFixed(1)},${height - 3}`);
  area.setAttribute("class", "spark-area");
  const path = document.createElementNS(ns, "polyline");
  path.setAttribute("points", line);
  path.setAttribute("class", "spark-line");
  svg.append(area, path);
  if (baseline !== null && baseline !== undefined) {
    const base = document.createElementNS(ns, "line");
    for (const [k, v] of [["x1", 0], ["x2", width], ["y1", y(baseline)], ["y2", y(baseline)]]) {
      base.setAttribute(k, v.toFixed ? v.toFixed(1) : v);
    }
    base.setAttribute("class", "spark-base");
    svg.append(base);
  }
  const last = document.createElementNS(ns, "circle");
  last.setAttribute("cx", x(points.length - 1).toFixed(1));
  last.setAttribute("cy", y(points[points.length - 1].count).toFixed(1));
  last.setAttribute("r", "2.5");
  last.setAttribute("class", "spark-now");
  svg.append(last);
  return svg;
}

function number(x, digits = 1) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits).replace(/\.0+$/, "");
}

/** "3 hours", "21 days": a span of windows in words (the API counts bursts over a span). */
function spanWords(seconds) {
  const hours = seconds / 3600;
  if (hours < 1) return `${number(seconds / 60)} minutes`;
  if (hours <= 48) return `${number(hours)} hour${hours === 1 ? "" : "s"}`;
  return `${number(hours / 24)} days`;
}

/** Expected posts per window: the API's `expected` is for its span of `span_windows` windows. */
export function expectedPerWindow(explain) {
  const x = explain || {};
  if (x.expected === undefined || x.expected === null) return null;
  return x.expected / (x.span_windows || 1);
}

/** The burst in words, each count beside the expectation for the same stretch of time:
 * the burst score is computed on the span (`posts_in_span` against `expected`), so that
 * pair is the one compared; `growth` is the API's relative change (+1.2 is 2.2×). */
export function burstText(topic, windowWord) {
  const x = topic.explain || {};
  const inWindow = x.posts_in_window ?? topic.post_count;
  const span = x.span_windows || 1;
  let text = `${inWindow} post${inWindow === 1 ? "" : "s"} in the last ${windowWord}`;
  if (x.expected !== undefined && x.expected !== null) {
    if (span > 1 && x.posts_in_span !== undefined) {
      const spanWord = spanWords(span * (topic.bucket_seconds || 3600));
      text += `; ${x.posts_in_span} in the last ${spanWord}, where about ${number(x.expected)} ` +
              `were expected from its baseline (${number(expectedPerWindow(x))} per ${windowWord})`;
    } else {
      text += `, where about ${number(x.expected)} expected from its baseline`;
    }
  }
  text += ".";
  if (x.z !== undefined || topic.score !== undefined) {
    text += ` Burst score ${number(topic.score ?? x.z)}: that many standard deviations above its usual rate`;
    if (x.growth !== undefined && x.growth !== null) {
      const before = x.previous_window;
      text += `; ${number(1 + Number(x.growth))}× the ${windowWord} before` +
              (before !== undefined && before !== null ? ` (${before} post${before === 1 ? "" : "s"}).` : ".");
    } else {
      text += ".";
    }
  }
  return text;
}

/** Why the topic counted as unusual, in words: the baseline it was held to (the highest of
 * its baseline's median window and its neighbourhood's same hours on previous days and
 * weeks), its independent voices, the size rule it passed, and since when it is followed. */
export function whyText(topic, reference) {
  const x = topic.explain || {};
  const parts = [];
  if (x.compared_with) parts.push(`Compared with: ${x.compared_with}`);
  if (x.wordings) {
    parts.push(`${x.wordings}${x.wordings >= 10 ? "+" : ""} different wordings` +
               (x.authors !== undefined && x.authors !== null ? `, ${x.authors} authors` : ""));
  }
  if (x.size_rule) parts.push(`large enough by its ${x.size_rule}`);
  if (x.label_share_bar) {
    parts.push(`${Math.round(x.label_share * 100)}% of its posts use its label's words ` +
               `(held to ${Math.round(x.label_share_bar * 100)}%)`);
  }
  if (topic.first_seen) {
    parts.push(`followed as one story since ${relativeTime(new Date(topic.first_seen), reference)}`);
  }
  return parts.length ? `${parts.join(". ")}.` : "";
}

/** Where a click on the topic should take the search: its words, within its window. */
export function topicScope(topic, data) {
  const terms = Array.isArray(topic.terms) && topic.terms.length ? topic.terms : [topic.label];
  const query = terms.map((t) => String(t).replace(/^#|#$/g, "")).join(" ");
  const until = data.as_of ? new Date(data.as_of) : null;
  const windowSeconds = data.window_seconds || topic.bucket_seconds;
  const since = until && windowSeconds ? new Date(until - windowSeconds * 1000) : null;
  const iso = (d) => (d ? d.toISOString().replace(".000Z", "Z") : "");
  return {label: topic.label, query, since: iso(since), until: iso(until)};
}

function topicCard(topic, data, state, onOpen, rank) {
  const windowWord = WINDOW_WORDS[state.window] || "window";
  const reference = data.as_of ? new Date(data.as_of) : new Date();
  const points = seriesOf(topic);
  // The chart is per window, so its dashed line is the expectation per window.
  const baseline = expectedPerWindow(topic.explain) ?? topic.explain?.baseline ?? null;
  const first = points[0]?.t;
  const label = `Posts per ${windowWord}, oldest to newest: ${points.map((p) => p.count).join(", ")}` +
                (baseline !== null ? `; baseline about ${number(baseline)} per ${windowWord}` : "");
  const open = el("button", {type: "button", class: "topic-open",
                             "aria-describedby": `topic-${rank}-burst`}, topic.label);
  open.addEventListener("click", () => onOpen(topicScope(topic, data)));
  const posts = topic.representatives || topic.posts || [];
  const list = el("ul", {class: "reps"}, ...posts.slice(0, SHOWN_POSTS).map((post) => {
    const created = post.created_at ? new Date(post.created_at) : null;
    return el("li", {},
      el("span", {class: "rep-text"}, post.text.length > 220 ? `${post.text.slice(0, 220)}…` : post.text),
      el("span", {class: "muted"}, ` — ${post.platform || ""}${created ? `, ${relativeTime(created, reference)}` : ""}` +
                                   `${post.copies > 1 ? `, ${post.copies} copies` : ""}`));
  }));
  return el("li", {}, el("article", {class: "topic card", "aria-labelledby": `topic-${rank}-title`},
    el("h2", {id: `topic-${rank}-title`, class: "topic-title"}, open),
    el("p", {class: "burst", id: `topic-${rank}-burst`}, burstText(topic, windowWord)),
    el("p", {class: "muted why"}, whyText(topic, reference)),
    el("div", {class: "spark-row"}, sparkline(points, baseline, label),
       el("p", {class: "muted spark-legend"},
          `${first ? `since ${absoluteTime(first)}; ` : ""}line: posts per ${windowWord}; dashes: baseline`)),
    el("p", {class: "muted"}, `${topic.post_count} posts in all · click the title to search them`),
    list));
}

export function renderTopics(list, data, state, onOpen) {
  const topics = data.topics || [];
  if (!topics.length) {
    list.append(el("li", {class: "empty"},
      el("p", {}, "Nothing is bursting in this window."),
      el("ul", {}, el("li", {}, "Try a longer window."),
         el("li", {}, "Replaying old data? Set “As of” (under Filters) to a moment inside it."))));
    return;
  }
  topics.forEach((topic, i) => list.append(topicCard(topic, data, state, onOpen, i + 1)));
}
