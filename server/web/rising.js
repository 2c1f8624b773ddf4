// The rising view: POST /v1/rising with the search box's words (if any) and the filters:
// the posts of the last day most likely to take off, each shown as a search card with
// its forecast line.

import {card} from "./card.js";
import {PAGE, page, filtersOf} from "./state.js";
import {loadInto, setStatus} from "./requests.js";
import {api} from "./util.js";

export function runRising() {
  const state = page.current;
  const body = {limit: PAGE};
  if (state.q.trim()) body.query = state.q.trim();
  const filters = filtersOf(state);
  if (Object.keys(filters).length) body.filters = filters;
  return loadInto("rising", "rising", "Forecasting the last day's posts…",
                  (signal) => api("/v1/rising", {method: "POST", body, signal}), (list, data) => {
    const reference = new Date(data.as_of);
    data.results.forEach((item, i) => list.append(card(
      {...item.post, forecast: item.forecast, score: item.forecast.p_top ?? 0},
      {...state, q: body.query || ""}, reference, i + 1)));
    setStatus(data.results.length
      ? `${data.results.length} rising post${data.results.length === 1 ? "" : "s"} of ` +
        `${data.candidates} from the last day.`
      : "No post of the last day matches.");
  });
}
