// The strip of matches over time: the API's `histogram`, every post that matches the query
// under the current filters, per UTC hour or day over the story's whole span (the API picks
// hours for stories under 3 days). Long spans fold into at most MAX_BARS bars, each the sum
// of its buckets, so a year-long story still fits the line.

import {el, clear} from "./util.js";

const MAX_BARS = 60;
const UNIT_MS = {hour: 3_600_000, day: 86_400_000};

function label(ms, unit) {
  const iso = new Date(ms).toISOString();
  return unit === "hour" ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

export function renderHistogram(box, histogram) {
  clear(box);
  const counts = histogram ? histogram.counts : [];
  box.hidden = !counts.length;
  if (!counts.length) return;
  const unit = histogram.unit;
  const start = Date.parse(histogram.start);
  const fold = Math.ceil(counts.length / MAX_BARS);
  const bars = [];
  for (let i = 0; i < counts.length; i += fold) {
    bars.push([start + i * UNIT_MS[unit], counts.slice(i, i + fold).reduce((a, b) => a + b, 0)]);
  }
  const top = Math.max(...bars.map(([, n]) => n));
  const end = start + (counts.length - 1) * UNIT_MS[unit];
  const per = fold === 1 ? unit : `${fold} ${unit}s`;
  const scaled = histogram.exact === false ? ", estimated from a sample" : "";
  box.append(el("span", {class: "muted"},
    `Matches per ${per} (UTC${scaled}), ${label(start, unit)} to ${label(end, unit)}: `),
    ...bars.map(([ms, n]) => {
      const bar = el("span", {class: "bar"});
      bar.style.height = `${Math.max(n ? 2 : 0, Math.round(18 * n / top))}px`;  // CSSOM: CSP allows it
      const text = `${label(ms, unit)}: ${n}`;
      return el("span", {class: "day", title: text}, bar, el("span", {class: "sr"}, text));
    }));
}
