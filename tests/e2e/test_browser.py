"""The web page in a real browser: headless Chromium driven by Playwright.

The app (tiny models, a handful of posts) is served by uvicorn on 127.0.0.1 in a
thread; Debian's `chromium` is driven by Python Playwright (no browser download).
Screenshots land in `test-artifacts/browser/` for a human to look at. On a
developer's machine without Chromium or Playwright they skip, saying why; under CI
(`CI` set, as `.ci/run` sets it) a missing browser fails them, so a page regression
can never pass as a skip (`.ci/run` installs Chromium or stops).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ci import IN_CI

CHROMIUM = Path(os.environ.get("TRENDSEARCH_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists() and not IN_CI:
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium fonts-noto-cjk)",
                allow_module_level=True)
sync_api = (importlib.import_module("playwright.sync_api") if IN_CI else
            pytest.importorskip("playwright.sync_api",
                                reason="Playwright is not installed (pip install playwright)"))

from search.embed.base import Embedder
from search.rerank import Reranker
from server.app import create_app
from server.profiles import Models
from server.services import Services
from server.settings import load_settings
from tests.factories import free_port, served_api

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "browser"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
NOW = datetime.now(UTC).replace(microsecond=0)
BURST = ["Calgary flood update: the Bow River keeps rising",
         "Bow River still rising in Calgary, more flood evacuations tonight",
         "Flooding in Calgary gets worse, the Bow River rises by the hour",
         "Calgary flood: downtown streets under water as the Bow River rises"]
COPY_TEXT = "Calgary flood: evacuation ordered for Mission and Erlton, leave now"


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def posts(base: str) -> list[dict[str, Any]]:
    image = f"{base}/favicon.svg"
    return [
        {"id": "tw-1", "text": "Flood waters rising fast in Calgary, the Bow River is over its banks",
         "platform": "twitter", "author": "yycnews", "created_at": ago(minutes=20), "likes": 120,
         "reposts": 45, "comments": 12, "image_urls": [image], "url": "https://example.org/tw-1"},
        {"id": "tw-2", "text": "Flooding closes roads downtown; stay away from the river",
         "platform": "twitter", "author": "cityalerts", "created_at": ago(hours=3), "likes": 8},
        {"id": "tw-3", "text": COPY_TEXT, "platform": "twitter", "author": "a1",
         "created_at": ago(minutes=50), "likes": 30},
        {"id": "tw-4", "text": COPY_TEXT, "platform": "twitter", "author": "a2",
         "created_at": ago(minutes=40), "likes": 2},
        {"id": "tw-5", "text": COPY_TEXT, "platform": "twitter", "author": "a3",
         "created_at": ago(minutes=30), "likes": 1},
        {"id": "wb-1", "text": "深圳禁摩限电今起实施，快递小哥怎么办？#深圳禁摩#", "platform": "weibo",
         "author": "深圳新闻", "created_at": ago(hours=2), "likes": 300, "reposts": 80,
         "image_urls": [image]},
        {"id": "wb-2", "text": "电动车被扣了，深圳交警说禁摩限电不是一刀切", "platform": "weibo",
         "author": "路人甲", "created_at": ago(hours=30), "likes": 15},
        {"id": "rd-1", "text": "Anyone else in Calgary dealing with basement flooding? Insurance advice?",
         "platform": "reddit", "author": "u/basement", "created_at": ago(days=3), "likes": 55,
         "comments": 40},
        {"id": "tw-6", "text": "West Texas fertilizer plant explosion: many injured in West",
         "platform": "twitter", "author": "wacotrib", "created_at": ago(days=10), "likes": 500},
        # A burst: with tw-1 and the three copies, sixteen Calgary flood posts within the hour
        # (a hot topic needs at least 6 posts across its recent windows, more over a loud background).
        # Four wordings, numbered per post: a topic needs three distinct voices, and texts
        # that differ by a number are near-copies of one (`TrendParams.min_voices`).
        *({"id": f"burst-{i}", "text": f"{BURST[i % 4]} (update {i})",
           "platform": "twitter", "author": f"resident{i}", "created_at": ago(minutes=3 + 3 * i)}
          for i in range(12)),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
         tiny_reranker: Reranker) -> Iterator[dict[str, Any]]:
    port = free_port()
    settings = load_settings({}, profile="tiny", data_dir=str(tmp_path_factory.mktemp("web")),
                             port=port)
    services = Services.build(settings, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                               profile="tiny"))
    with served_api(create_app(settings, services), services, port) as base:
        answer = httpx.post(f"{base}/v1/posts", json={"posts": posts(base)}, timeout=60)
        assert answer.status_code == 200, answer.text
        yield {"base": base, "services": services}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    assert CHROMIUM.exists(), (f"CI is set and there is no Chromium at {CHROMIUM}: "
                               ".ci/run installs it (apt-get install chromium fonts-noto-cjk)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "status of 4" not in msg.text else None)
    page.problems = problems
    yield page
    context.close()
    assert problems == [], problems


def shot(page: Any, name: str, full: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def search_bodies(page: Any) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data))
            if r.url.endswith("/v1/search") else None)
    return bodies


def wait_for_results(page: Any, query: str) -> None:
    page.wait_for_function(
        "q => document.getElementById('status').textContent.includes('“' + q + '”')", arg=query)


def texts(page: Any) -> list[str]:
    return list(page.locator("#results article .text").all_inner_texts())


# -- search ---------------------------------------------------------------------------

def test_typing_searches_as_you_type_and_highlights(page: Any, site: dict[str, Any]) -> None:
    bodies = search_bodies(page)
    page.goto(site["base"] + "/")
    assert page.locator("#q").evaluate("el => el === document.activeElement")
    page.locator("#q").press_sequentially("calgary flood", delay=40)
    wait_for_results(page, "calgary flood")
    # The story's size and its time line, over every match (not the page of 20)
    status = page.locator("#status").inner_text()
    total = int(re.search(r"([\d,]+) posts match “calgary flood”", status)[1].replace(",", ""))
    assert total >= 16 and "showing" in status
    assert page.locator("#facet-days .day").count() >= 1
    marks = [m.lower() for m in page.locator("#results mark").all_inner_texts()]
    assert "calgary" in marks and any(m.startswith("flood") for m in marks), marks
    # Debounced: far fewer requests than keystrokes, and the last one is the whole query.
    assert 1 <= len(bodies) < len("calgary flood") and bodies[-1]["query"] == "calgary flood"
    assert bodies[-1]["explain"] is True
    assert re.search(r"[?&]q=calgary(\+|%20)flood", page.url)
    card = page.locator("#results article").first
    assert card.locator(".meta .badge").inner_text() in {"twitter", "weibo", "reddit"}
    assert re.search(r"ago|now|\d", card.locator("time").inner_text())
    assert card.locator(".counts").inner_text().count("likes") == 1
    # Each card says its engagement forecast, or why there is none yet (issue 16).
    assert "forecast" in card.locator(".forecast").inner_text().lower()
    shot(page, "01-search-typing")


def test_chinese_queries_highlight_substrings(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/")
    page.locator("#q").fill("深圳禁摩限电")
    wait_for_results(page, "深圳禁摩限电")
    weibo = page.locator("#results article", has_text="快递小哥")
    marks = weibo.locator("mark").all_inner_texts()
    assert "深圳禁摩限电" in marks, marks
    other = page.locator("#results article", has_text="一刀切").locator("mark").all_inner_texts()
    assert {"深圳", "禁摩限电"} <= set(other), other
    shot(page, "02-search-chinese")


def test_highlighting_rules(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/")
    marked = page.evaluate("""async () => {
        const {segments} = await import('/highlight.js');
        const hits = (text, q) => segments(text, q).filter(s => s.hit).map(s => s.text);
        return {
            english: hits('Flooding in Calgary; floods and a rainbow', 'flooding calgary rain'),
            excluded: hits('Flood and sport news', 'flood -sport'),
            phrase: hits('state of emergency declared', '"state of emergency"'),
            chinese: hits('深圳今起禁摩，市民不满', '深圳禁摩限电'),
            mixed: hits('iPhone在深圳发布', 'iphone 深圳'),
            none: hits('nothing here', '-nothing'),
        };
    }""")
    assert marked["english"] == ["Flooding", "Calgary", "floods", "rainbow"]
    assert marked["excluded"] == ["Flood"]
    assert marked["phrase"] == ["state", "emergency"]
    assert marked["chinese"] == ["深圳", "禁摩"]
    assert marked["mixed"] == ["iPhone", "深圳"]
    assert marked["none"] == []


def test_mode_and_filters_change_the_request_and_the_url(page: Any, site: dict[str, Any]) -> None:
    bodies = search_bodies(page)
    page.goto(site["base"] + "/?q=flood")
    wait_for_results(page, "flood")
    page.get_by_label("Trending").check()
    page.wait_for_function("() => location.search.includes('mode=trending')")
    wait_for_results(page, "flood")
    assert bodies[-1]["mode"] == "trending"
    assert "trending" in page.locator("#status").inner_text()
    assert page.locator("#filters").get_attribute("open") is None  # results first
    page.locator("#filters summary").click()
    page.get_by_label("Weibo").check()
    page.wait_for_function("() => location.search.includes('platform=weibo')")
    wait_for_results(page, "flood")
    assert bodies[-1]["filters"]["platform"] == ["weibo"] and bodies[-1]["facets"] is True
    assert set(page.locator("#results .meta .badge").all_inner_texts()) == {"weibo"}
    # Counts beside each box; the platform filter is left out of the platform counts,
    # so Twitter still says how many ticking it would add.
    weibo_n = int(re.search(r"\((\d+)\)", page.locator("#platforms label", has_text="Weibo")
                            .inner_text())[1])
    twitter_n = int(re.search(r"\((\d+)\)", page.locator("#platforms label", has_text="Twitter")
                              .inner_text())[1])
    # The counts are of every match (a post's words, or close by meaning), not of the page:
    # no Weibo post says "flood", though recall still shows the nearest ones.
    assert weibo_n == 0 and twitter_n > 0 and page.locator("#results article").count() >= 1
    assert "No post matches “flood”" in page.locator("#status").inner_text()
    assert re.search(r"Chinese \(\d+\)", page.locator("#lang").inner_text())
    shot(page, "03a-facet-counts")
    page.get_by_label("Weibo").uncheck()
    page.get_by_label("At least this many likes").fill("100")
    page.get_by_label("At least this many likes").press("Tab")
    page.get_by_label("Has an image").check()
    page.wait_for_function("() => location.search.includes('has_image=1')")
    wait_for_results(page, "flood")
    assert bodies[-1]["filters"] == {"min_likes": 100, "has_image": True}
    assert page.locator("#results article").count() == 2  # tw-1 and wb-1
    image = page.locator("#results .thumbs img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    before = datetime.now(UTC)
    page.get_by_label("Posted").select_option("24h")
    wait_for_results(page, "flood")
    after = datetime.now(UTC)
    since = datetime.fromisoformat(bodies[-1]["filters"]["since"])
    slack = timedelta(seconds=2)  # the page rounds to the second
    assert before - timedelta(hours=24) - slack <= since <= after - timedelta(hours=24) + slack
    assert "(3 on)" in page.locator("#filter-count").inner_text()
    shot(page, "03-filters")
    page.get_by_role("button", name="Clear filters").first.click()
    wait_for_results(page, "flood")
    assert "filters" not in bodies[-1]


def test_why_this_result_shows_every_stage(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/?q=calgary%20flood&mode=trending")
    wait_for_results(page, "calgary flood")
    panel = page.locator("#results details.why").first
    panel.locator("summary").click()
    table = panel.locator("table.explain")
    assert table.is_visible()
    stages = table.locator("tbody th").all_inner_texts()
    assert stages[:4] == ["1. Recall: meaning", "1. Recall: words", "1. Recall: fused", "2. Rerank"]
    assert {"3. About the query", "3. Time decay", "3. Engagement", "Final"} <= set(stages)
    assert "Models:" in panel.inner_text() and "bge-reranker" in panel.inner_text()
    shot(page, "04-explain")
    panel.locator("summary").focus()
    page.keyboard.press("Escape")
    assert not table.is_visible()


def test_copies_are_one_card_that_expands(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/?q=evacuation%20Mission%20Erlton")
    wait_for_results(page, "evacuation Mission Erlton")
    card = page.locator("#results article", has_text="leave now")
    assert card.count() == 1
    button = card.get_by_role("button", name="3 copies")
    assert "first posted" in card.locator(".copies").inner_text()
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    listed = card.locator(".copy-list li")
    listed.first.wait_for()
    assert listed.count() == 2
    listed_ids = {t.rsplit(" · ", 1)[-1].strip() for t in listed.all_inner_texts()}
    assert len(listed_ids) == 2 and listed_ids < {"tw-3", "tw-4", "tw-5"}, listed_ids
    shot(page, "05-copies")


def test_a_shared_link_reopens_the_same_view(page: Any, site: dict[str, Any]) -> None:
    url = (site["base"] + "/?q=%E6%B7%B1%E5%9C%B3&mode=latest&platform=weibo&lang=zh"
           "&range=custom&since=2000-01-01T00%3A00%3A00Z&min_likes=10")
    page.goto(url)
    wait_for_results(page, "深圳")
    assert page.locator("#q").input_value() == "深圳"
    assert page.get_by_label("Latest").is_checked() and page.get_by_label("Weibo").is_checked()
    assert page.locator("#lang").input_value() == "zh"
    assert page.locator("#min_likes").input_value() == "10"
    assert page.locator("#since").input_value().startswith("2000-01-01")
    before = texts(page)
    assert before and all("深圳" in t for t in before)
    page.reload()
    wait_for_results(page, "深圳")
    assert texts(page) == before and page.url == url
    shot(page, "06-shared-link")


def test_keyboard_slash_enter_and_escape(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/?q=flood")
    wait_for_results(page, "flood")
    page.locator("body").click(position={"x": 5, "y": 880})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('q=')")
    assert page.locator("#q").input_value() == "" and page.locator("#intro").is_visible()
    page.keyboard.type("explosion")
    page.keyboard.press("Enter")
    wait_for_results(page, "explosion")
    page.go_back()
    page.wait_for_function("() => document.getElementById('q').value === ''")


def test_problems_and_empty_states_say_what_to_do(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/?q=flood&min_likes=1000000")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('No posts')")
    empty = page.locator("#results .empty")
    assert "Loosen the filters" in empty.inner_text()
    shot(page, "07-empty")
    page.locator("#q").fill("-flood")  # nothing left to search for: a 422 from the API
    page.locator("#problem").wait_for()
    problem = page.locator("#problem").inner_text()
    assert "422" in problem and "query" in problem and "Fix the field" in problem
    assert page.locator("#q").get_attribute("aria-invalid") == "true"
    shot(page, "08-problem")
    page.route("**/v1/search", lambda route: route.fulfill(
        status=401, content_type="application/problem+json",
        body=json.dumps({"type": "x", "title": "Unauthorized", "status": 401,
                         "detail": "this read needs an API key"})))
    page.locator("#q").fill("flood again")
    page.locator("#problem", has_text="needs an API key").wait_for()
    assert "API key" in page.locator("#problem .problem-hint").inner_text()
    assert page.locator("#key-box").get_attribute("open") is not None


def test_trends_view(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/")
    page.get_by_role("tab", name="Trends").click()
    page.wait_for_function("() => location.search.includes('view=trends')")
    page.wait_for_function("() => document.getElementById('topics').getAttribute('aria-busy') === 'false'")
    shot(page, "09-trends")
    problem = page.locator("#problem")
    assert problem.is_hidden(), problem.inner_text()
    topics = page.locator("#topics .topic-open")
    assert topics.count() > 0, page.locator("#topics").inner_text()
    label = topics.first.inner_text()
    assert page.locator("#topics svg.spark").first.get_attribute("aria-label")
    topics.first.click()
    page.wait_for_function("() => !location.search.includes('view=trends')")
    assert label in page.locator("#scope").inner_text()
    page.locator("#results article, #results .empty").first.wait_for()
    shot(page, "10-trend-to-search")


def test_rising_tab_lists_the_last_days_posts_with_their_forecasts(
        page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/")
    page.get_by_role("tab", name="Rising").click()
    page.wait_for_function("() => location.search.includes('view=rising')")
    page.wait_for_function("() => document.getElementById('rising').getAttribute('aria-busy') === 'false'")
    shot(page, "11-rising")
    problem = page.locator("#problem")
    assert problem.is_hidden(), problem.inner_text()
    cards = page.locator("#rising article.card")
    assert cards.count() > 0, page.locator("#main").inner_text()
    texts = page.locator("#rising").inner_text()
    assert "basement flooding" not in texts and "West Texas" not in texts  # days old: not rising
    # Each card says its forecast, or why there is none yet.
    assert "forecast" in cards.first.locator(".forecast").inner_text().lower()
    assert "rising post" in page.locator("#status").inner_text()


def canned_trends(as_of: datetime) -> dict[str, Any]:
    """A `GET /v1/trends` answer in the route's shape, so the view is tested on known numbers."""
    start = as_of - timedelta(hours=8)
    return {"as_of": as_of.isoformat().replace("+00:00", "Z"), "window": "1h", "baseline": "7h",
            "query": None, "took_ms": 12.5, "cached": False, "posts_read": 40, "truncated": False,
            "timings_ms": {"read": 3.0}, "topics": [{
                "id": "t-1", "label": "calgary, flood, evacuation", "terms": ["calgary", "flood", "evacuation"],
                "score": 6.2, "explain": {"posts_in_window": 9, "span_windows": 3, "posts_in_span": 12,
                                          "expected": 3.3, "z": 6.2, "poisson_tail": 0.0,
                                          "previous_window": 2, "growth": 2.333,
                                          "engagement_per_hour": 310.0, "baseline_hours_known": 7.0},
                "post_count": 12, "representative_method": "centroid",
                "representatives": [{"id": "tw-1", "text": "Flood waters rising fast in Calgary",
                                     "created_at": (as_of - timedelta(minutes=20)).isoformat(),
                                     "platform": "twitter", "similarity": 0.9, "copies": 1},
                                    {"id": "tw-3", "text": COPY_TEXT, "platform": "twitter",
                                     "created_at": (as_of - timedelta(minutes=50)).isoformat(),
                                     "similarity": 0.8, "copies": 3}],
                "series": [1, 0, 2, 1, 1, 0, 2, 9], "series_start": start.isoformat(),
                "bucket_seconds": 3600}]}


def test_trends_cards_explain_the_burst_and_click_through(page: Any, site: dict[str, Any]) -> None:
    as_of = NOW.replace(second=0)
    asked: list[str] = []

    def answer(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(canned_trends(as_of)))

    page.route("**/v1/trends?*", answer)
    page.goto(site["base"] + "/?view=trends&window=1h")
    card = page.locator("#topics article.topic")
    card.wait_for()
    assert "window=1h" in asked[-1] and "limit=10" in asked[-1]
    assert card.locator(".topic-open").inner_text() == "calgary, flood, evacuation"
    burst = card.locator(".burst").inner_text()
    # Like with like: the span's 12 posts against the span's 3.3 expected (1.1 an hour) ...
    assert burst.startswith("9 posts in the last hour; 12 in the last 3 hours, where about 3.3 were "
                            "expected from its baseline (1.1 per hour). Burst score 6.2"), burst
    # ... and growth +2.333 is (9 + 1) / (2 + 1): 3.3 times the hour before.
    assert burst.endswith("; 3.3× the hour before (2 posts)."), burst
    spark = card.locator("svg.spark")
    assert spark.get_attribute("aria-label") == ("Posts per hour, oldest to newest: 1, 0, 2, 1, 1, 0, 2, 9; "
                                                 "baseline about 1.1 per hour")
    assert spark.locator("polyline").count() == 1 and spark.locator("line.spark-base").count() == 1
    # The dashed line is per hour, as the chart is: between the hours of 1 and of 2 posts.
    ys = [float(pt.split(",")[1]) for pt in spark.locator("polyline").get_attribute("points").split()]
    base_y = float(spark.locator("line.spark-base").get_attribute("y1"))
    assert ys[0] > base_y > ys[2], (ys, base_y)  # SVG y grows downwards
    assert "3 copies" in card.locator(".reps").inner_text()
    shot(page, "12-trends-canned")
    card.locator(".topic-open").click()
    wait_for_results(page, "calgary flood evacuation")
    assert "view=trends" not in page.url and "topic=" in page.url
    assert "calgary, flood, evacuation" in page.locator("#scope").inner_text()
    assert page.locator("#range").input_value() == "custom"
    assert page.locator("#filters").get_attribute("open") is not None
    shot(page, "13-topic-search")
    page.locator("#scope").get_by_role("button", name="back to trends").click()
    page.wait_for_function("() => location.search.includes('view=trends')")
    card.wait_for()


# Three wordings (numbered per post): the test models' dense vectors are random, so what
# joins the posts into one topic must be their words (trends shrink the dense space's shared
# direction, `cluster.shrink_common`, so random vectors no longer agree by accident); and a
# topic needs three distinct voices (`TrendParams.min_voices`).
HAIL = ["Huge hailstorm over Lisbon smashes car windows downtown, streets flooded",
        "Lisbon hailstorm: car windows smashed downtown and the streets flooded",
        "Hailstorm in Lisbon, smashed car windows and flooded streets downtown"]


def hail_posts(as_of: datetime) -> list[dict[str, Any]]:
    """A story with a steady past, then a burst: one Lisbon hailstorm post an hour for the
    48 hours before `as_of`'s last hour, then 14 in it (long before NOW: no other test sees them)."""
    out = [{"id": f"hail-{h}", "text": f"{HAIL[h % 3]} (update {h})", "platform": "twitter",
            "created_at": (as_of - timedelta(hours=h + 0.5)).isoformat()} for h in range(1, 49)]
    out += [{"id": f"hail-now-{i}", "text": f"{HAIL[i % 3]} (update {100 + i})", "platform": "twitter",
             "created_at": (as_of - timedelta(minutes=2 + 4 * i)).isoformat()} for i in range(14)]
    return out


def test_trends_explain_a_real_burst(page: Any, site: dict[str, Any]) -> None:
    """Posts in through the API, the burst found by the real engine, explained by the page:
    each count beside the expectation for the same stretch, the factor over the window
    before, and the dashed baseline at the usual posts per window (here 1, the past's rate)."""
    as_of = (NOW - timedelta(days=300)).replace(minute=0, second=0)
    answer = httpx.post(f"{site['base']}/v1/posts", json={"posts": hail_posts(as_of)}, timeout=60)
    assert answer.status_code == 200, answer.text
    stamp = as_of.isoformat().replace("+00:00", "Z")
    api = httpx.get(f"{site['base']}/v1/trends", params={"as_of": stamp}, timeout=60).json()
    [topic] = api["topics"]
    x = topic["explain"]
    assert (x["posts_in_window"], x["posts_in_span"], x["span_windows"]) == (14, 16, 3), x
    assert (x["expected"], x["previous_window"]) == (3, 1), x
    page.goto(f"{site['base']}/?view=trends&as_of={stamp}")
    card = page.locator("#topics article.topic")
    card.wait_for()
    assert card.locator(".topic-open").inner_text() == topic["label"]
    burst = card.locator(".burst").inner_text()
    growth = f"{1 + x['growth']:.1f}".removesuffix(".0")
    assert burst.startswith("14 posts in the last hour; 16 in the last 3 hours, where about 3 were "
                            "expected from its baseline (1 per hour). Burst score "), burst
    assert burst.endswith(f"; {growth}× the hour before (1 post)."), burst
    assert growth == "7.5"  # (14 + 1) / (1 + 1): the API's +1-smoothed growth, 6.5, plus one
    # The dashed line lies on the windows that held the usual one post, not three times higher.
    spark = card.locator("svg.spark")
    counts = [int(c) for c in spark.get_attribute("aria-label").split(": ")[1].split(";")[0].split(", ")]
    ys = [float(pt.split(",")[1]) for pt in spark.locator("polyline").get_attribute("points").split()]
    usual = {y for c, y in zip(counts, ys, strict=True) if c == 1}
    assert len(usual) == 1 and counts.count(1) >= 40, counts
    assert float(spark.locator("line.spark-base").get_attribute("y1")) == pytest.approx(usual.pop())
    assert "baseline about 1 per hour" in spark.get_attribute("aria-label")
    shot(page, "16-trends-real-burst")
    # The 7-day window, the page's longest, gets a baseline of its own (not a 422).
    asked: list[Any] = []
    page.on("response", lambda r: asked.append(r) if "/v1/trends?" in r.url else None)
    page.locator("#window").select_option("7d")
    page.wait_for_function("() => location.search.includes('window=7d')")
    page.wait_for_function("() => document.getElementById('topics').getAttribute('aria-busy') === 'false'")
    assert asked and "window=7d" in asked[-1].url and asked[-1].status == 200
    assert page.locator("#problem").is_hidden(), page.locator("#problem").inner_text()


def test_phone_width(browser: Any, site: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(site["base"] + "/?q=calgary%20flood")
        wait_for_results(page, "calgary flood")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("#filters").get_attribute("open") is None
        shot(page, "11-phone", full=False)
    finally:
        context.close()


# -- server highlights and "More results" (last: it adds posts to the shared site) ----------

def test_server_highlights_emoji_and_load_more_across_new_posts(page: Any, site: dict[str, Any]) -> None:
    extra = [{"id": f"volcano-{i:02d}", "platform": "reddit" if i % 3 else "twitter",
              "text": f"{'🌋' * (i % 3)}Volcano ash over Reykjavik, flights grounded (report {i})",
              "created_at": ago(days=400 + i), "url": f"https://example.org/volcano-{i}"}
             for i in range(30)]
    assert httpx.post(f"{site['base']}/v1/posts", json={"posts": extra}, timeout=60).status_code == 200
    bodies = search_bodies(page)
    page.goto(site["base"] + "/?q=volcano%20ash")
    wait_for_results(page, "volcano ash")
    # Marks are the server's spans, converted from code points to UTF-16 past the emoji.
    card = page.locator("#results article", has_text="🌋🌋Volcano").first
    assert card.locator("mark").all_inner_texts() == ["Volcano", "ash"]
    assert card.locator(".text").inner_text().startswith("🌋🌋Volcano ash")
    first = texts(page)
    assert len(first) == 20 and page.locator("#more").is_visible()
    shot(page, "14-server-highlights-emoji")
    # Newer posts arrive between pages: the next page neither repeats nor shows them.
    # (created after page 1 by the real clock: NOW was fixed when this module was imported)
    arrived = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    news = [{"id": f"volcano-new-{i}", "platform": "twitter", "created_at": arrived,
             "text": f"Volcano ash breaking news {i}"} for i in range(5)]
    assert httpx.post(f"{site['base']}/v1/posts", json={"posts": news}, timeout=60).status_code == 200
    page.locator("#more").click()
    page.wait_for_function("() => document.querySelectorAll('#results article').length > 20")
    assert bodies[-1]["cursor"] and bodies[-1]["query"] == "volcano ash" and "offset" not in bodies[-1]
    while page.locator("#more").is_visible():
        count = page.locator("#results article").count()
        page.locator("#more").click()
        page.wait_for_function("n => document.querySelectorAll('#results article').length > n",
                               arg=count)
    every = texts(page)
    assert every[:20] == first and len(every) == len(set(every)), "a post was shown twice"
    assert not any("breaking news" in t for t in every)
    assert sum("Reykjavik" in t for t in every) == 30
    shot(page, "15-load-more")


# -- watches --------------------------------------------------------------------------

def test_watch_this_saves_the_search_and_lists_its_alerts_newest_first(
        page: Any, site: dict[str, Any]) -> None:
    from search.watches.models import Alert

    page.goto(site["base"] + "/?q=calgary%20flood&platform=twitter")
    wait_for_results(page, "calgary flood")
    page.locator("#watch-this").click()
    card = page.locator("#watches li.watch").first
    card.wait_for()
    assert "view=watches" in page.url
    assert card.locator("h2").inner_text() == "calgary flood"
    assert "query: calgary flood" in card.inner_text()
    runtime = site["services"].watches
    (watch,) = runtime.service.watches()
    assert watch.filters is not None and watch.filters.platform == ["twitter"]
    for hours, observed in ((5, 6), (1, 14)):  # two episodes, the newer one last
        fired = NOW - timedelta(hours=hours)
        runtime.ledger.record(watch, Alert(
            id="", watch_id=watch.id, episode=0, trigger="burst", fired_at=fired,
            updated_at=fired, last_hot_at=fired, observed=observed, expected=1.0, z=5.0,
            window_minutes=60, posts=[]))
    page.locator("#tab-watches").click()
    page.wait_for_selector("#watches li.alert")
    heads = page.locator("#watches li.alert .alert-head").all_inner_texts()
    assert len(heads) == 2 and "14 matching posts" in heads[0] and "6 matching posts" in heads[1]
    shot(page, "20-watches")
    page.locator("#watches li.watch button", has_text="Delete").click()
    page.wait_for_function("() => !document.querySelector('#watches li.watch')")
    assert runtime.service.watches() == []


def test_watch_this_without_a_query_says_what_to_do(page: Any, site: dict[str, Any]) -> None:
    page.goto(site["base"] + "/")
    page.locator("#watch-this").click()
    assert "Type a search first" in page.locator("#problem").inner_text()
