"""Function words that carry no topic, in the folded form the tokeniser emits.

Small on purpose. Long lists (scikit-learn's has 318 words) also drop words
that matter in news: "fire", "bill", "call", "found", "system". English is
NLTK's list without its apostrophe forms, plus contractions as they look once
the tokeniser deletes the apostrophe ("don't" -> "dont"). Chinese is particles,
pronouns and connectives only; negation (不, 没) stays because it is not noise
in stance-heavy posts. Changing either set changes tokens: it is part of the
tokeniser fingerprint.
"""

from __future__ import annotations

ENGLISH: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during
    each few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same
    she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself
    yourselves
    s t d ll m o re ve y
    im ive youre youve youd youll hes shes theyre theyve weve
    isnt arent wasnt werent dont doesnt didnt cant couldnt wont wouldnt shouldnt
    hasnt havent hadnt thats theres whats lets
    """.split()  # noqa: SIM905 - a block of words reads better than 170 quoted strings
)

CHINESE: frozenset[str] = frozenset(
    """
    的 地 得 了 着 过 是 在 和 与 及 或 也 都 就 而 之 其 这 那 这个 那个 这些 那些
    这样 那样 一个 啊 吧 呢 吗 嘛 哦 嗯 呀 啦 哈 么 把 被 给 对 从 于 以 为 向 让
    所 等 还 又 但 但是 而且 并且 因为 所以 如果 虽然 然后 我 你 您 他 她 它 我们
    你们 他们 她们 它们 自己 什么 怎么 这么 那么 已经 就是 还是 可以 一 个
    """.split()  # noqa: SIM905
)

ALL: frozenset[str] = ENGLISH | CHINESE
