// One result as a card: the post, its counts and thumbnails, its forecast, the box
// listing its copies, and "why this result" (the score at each stage of the pipeline).
//
// The search and rising views both list these. Post text is always inserted as text,
// never as HTML.

import {highlight} from "./highlight.js";
import {api, relativeTime, absoluteTime, el, clear} from "./util.js";

const MAX_COPIES_SHOWN = 20;

export function card(result, state, reference, rank) {
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
