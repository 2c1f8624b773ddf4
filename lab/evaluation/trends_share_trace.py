"""Which topics `min_label_share` holds back, with their label share and whether they
continue a story shown before: the study's replay (`trends_study.run`) with the engine's
label test watched, not changed. Reads no events file except for the checkpoint schedule.

    python -m lab.evaluation.trends_share_trace crisislex6_overlap \
        '{"background_now": true, "cluster_similarity": 0.27, "min_label_share": 0.7}' 0.6

prints every topic held back whose share is at least the last argument (those a lower bar
would have shown), one line each: checkpoint, first pass or continued, share, posts in its
span, its lead term's z, label.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from lab.evaluation import trends_study
from search.trends import engine, stages
from search.trends.models import TrendParams


def main(argv: list[str]) -> int:
    stream, knobs, floor = argv[0], json.loads(argv[1]), float(argv[2])
    corpus, events = trends_study.load(stream)
    params = TrendParams(**knobs)
    state: dict[str, Any] = {}
    held: list[tuple[str, bool, float, int, float, str]] = []
    names_itself = engine._names_itself
    detect_traced = engine.detect_traced
    lead_terms = engine.naming.lead_terms

    def watched_leads(*args: Any, **kw: Any) -> Any:
        state["leads"] = list(lead_terms(*args, **kw))
        state["next"] = 0
        return state["leads"]

    def watched_detect(part: Any, **kw: Any) -> Any:
        state["as_of"] = kw["as_of"].strftime("%m-%d %H:%M")
        return detect_traced(part, **kw)

    def watched_names(corpus_: Any, buckets: Any, members: Any, label_: Any, lead: str,
                      p: TrendParams, continued: bool = False, lead_z: float = 0.0) -> Any:
        out = names_itself(corpus_, buckets, members, label_, lead, p, continued=continued,
                           lead_z=lead_z)
        lead_z = state["leads"][state["next"]][1]
        state["next"] += 1
        if out is None:
            share = stages.lead_share(corpus_, buckets, members,
                                      frozenset(t for t, _s in label_), p)
            if share >= floor:
                held.append((state["as_of"], continued, round(share, 3),
                             len(stages.in_span(members, buckets, p)), lead_z,
                             ", ".join(s for _t, s in label_)))
        return out

    engine.detect_traced = watched_detect  # type: ignore[assignment]
    engine._names_itself = watched_names  # type: ignore[assignment]
    engine.naming.lead_terms = watched_leads  # type: ignore[assignment]
    lines = trends_study.run(corpus, events, params)
    print(f"{stream} {argv[1]} {trends_study.summary(trends_study.score(stream, lines))}")
    for as_of, continued, share, size, lead_z, label_ in held:
        print(f"{as_of} {'continued' if continued else 'first    '} {share:.3f} "
              f"{size:4d} z {lead_z:6.1f} {label_}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
