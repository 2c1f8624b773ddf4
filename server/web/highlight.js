// Highlighting a post's matched words.
//
// The server says which characters matched (`highlights`: [start, end) spans from
// the engine's own tokeniser, stemmer and jieba, see search/highlight.py), counted in
// code points; JavaScript strings count UTF-16 code units, so an emoji before a match
// shifts it by one: `fromCodePoints` converts. Only when a result has no spans (an
// older server) does the page guess from the query itself, the way a reader would: words written with spaces match at the start
// of a word ("flood" marks "flooding"; a crude suffix strip lets "flooding" mark
// "floods"), and Chinese or Japanese runs, written without spaces, match any
// substring of two or more characters (深圳禁摩限电 marks 深圳 and 禁摩 in
// "深圳今起禁摩"). Excluded terms (-word, -"two words") are not marked.
// Nothing here touches innerHTML: the result is text nodes and <mark> elements.

const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const QUOTES = /["\u201c\u201d\u201e\u300c\u300d\u300e\u300f\u00ab\u00bb]/g;
// A letter, mark or digit of a script written with spaces: where a word may start or go on.
// "iPhone在深圳" is the word "iPhone" followed by Chinese, not one long word.
const SPACED_CHAR = "(?:[^\\P{L}\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}]|[\\p{M}\\p{N}])";
const MAX_RUN = 16;  // substrings of a longer run would be many and mostly noise
// Words that would mark half of every English post.
const STOPWORDS = new Set(["the", "a", "an", "of", "in", "on", "at", "to", "for", "and", "or",
  "is", "are", "was", "were", "be", "by", "with", "from", "as", "it", "this", "that"]);

// Query tokens: quoted phrases (kept together so a leading "-" excludes all of it) or words.
const TOKEN = /-?["\u201c\u201e\u300c\u300e\u00ab][^"\u201c\u201d\u201e\u300c\u300d\u300e\u300f\u00ab\u00bb]*["\u201d\u201c\u300d\u300f\u00bb]?|\S+/gu;

function stem(word) {
  const lower = word.toLowerCase();
  const cut = lower.replace(/(ing|ed|es|s)$/u, "");
  return cut.length >= 3 ? cut : lower;
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The pieces of a query worth marking: {prefixes: [...], substrings: [...]}. */
export function queryTerms(query) {
  const prefixes = new Set();
  const substrings = new Set();
  for (const token of (query || "").match(TOKEN) || []) {
    const excluded = token.length > 1 && token.startsWith("-") && !/^-\d/.test(token);
    if (excluded) continue;
    const text = token.replace(QUOTES, " ");
    for (const run of text.match(UNSPACED) || []) {
      const chars = Array.from(run).slice(0, MAX_RUN);
      if (chars.length === 1) substrings.add(chars[0]);
      for (let i = 0; i < chars.length; i++) {
        for (let j = i + 2; j <= chars.length; j++) substrings.add(chars.slice(i, j).join(""));
      }
    }
    for (const word of text.replace(UNSPACED, " ").match(WORD) || []) {
      if (STOPWORDS.has(word.toLowerCase())) continue;
      if (Array.from(word).length >= 2 || /\p{N}/u.test(word)) prefixes.add(stem(word));
    }
  }
  return {prefixes: [...prefixes], substrings: [...substrings]};
}

/** One regular expression for all the terms, longest first, or null when none. */
export function termPattern(query) {
  const {prefixes, substrings} = queryTerms(query);
  const parts = [];
  if (substrings.length) {
    parts.push(substrings.sort((a, b) => b.length - a.length).map(escape).join("|"));
  }
  if (prefixes.length) {
    const words = prefixes.sort((a, b) => b.length - a.length).map(escape).join("|");
    parts.push(`(?<!${SPACED_CHAR})(?:${words})${SPACED_CHAR}*`);
  }
  return parts.length ? new RegExp(parts.join("|"), "giu") : null;
}

/** [{text, hit}] segments of `text`; consecutive hits stay separate segments. */
export function segments(text, query) {
  const pattern = termPattern(query);
  if (!pattern) return [{text, hit: false}];
  const out = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (!match[0]) continue;
    if (match.index > last) out.push({text: text.slice(last, match.index), hit: false});
    out.push({text: match[0], hit: true});
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push({text: text.slice(last), hit: false});
  return out;
}

/** [start, end) code-point spans as UTF-16 indices of the same string. */
export function fromCodePoints(text, spans) {
  const at = [0];  // at[i]: UTF-16 index of code point i
  for (const char of text) at.push(at[at.length - 1] + char.length);
  const last = at.length - 1;
  return spans
    .map(([start, end]) => [at[Math.min(start, last)], at[Math.min(end, last)]])
    .filter(([start, end]) => end > start);
}

/** [{text, hit}] segments of `text` for server spans (code points, sorted, disjoint). */
export function spanSegments(text, spans) {
  const out = [];
  let last = 0;
  for (const [start, end] of fromCodePoints(text, spans)) {
    if (start < last) continue;
    if (start > last) out.push({text: text.slice(last, start), hit: false});
    out.push({text: text.slice(start, end), hit: true});
    last = end;
  }
  if (last < text.length) out.push({text: text.slice(last), hit: false});
  return out;
}

/** A DocumentFragment of text nodes and <mark>s: the server's spans when given,
 * else the page's own guess from the query. */
export function highlight(text, query, spans) {
  const fragment = document.createDocumentFragment();
  const parts = Array.isArray(spans) ? spanSegments(text, spans) : segments(text, query);
  for (const part of parts) {
    if (part.hit) {
      const mark = document.createElement("mark");
      mark.textContent = part.text;
      fragment.append(mark);
    } else {
      fragment.append(document.createTextNode(part.text));
    }
  }
  return fragment;
}
