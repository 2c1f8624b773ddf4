"""The published OpenAPI document against the running app: schemathesis, every operation, every check.

In process (ASGI), tiny models, one embedded index, a write key. The CI budget
is small and deterministic (`derandomize`); a release runs the same test with
more examples, e.g. `TRENDSEARCH_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest
tests/e2e/test_schema_fuzz.py` (README, "Hardening").

Two things the schema cannot state are told to the generator here, not
loosened in the check: the documented range of instants (JSON Schema cannot
bound a `date-time`), the trends rules that tie two parameters (a baseline at
least the window, at most 1000 windows), and the query rule no portable regex
can say (a letter, digit or emoji outside -exclusions); ids are unique within a
batch; an engagement snapshot's `at` lies between its post's time and now (so the
fuzz dates its posts at the latest now and sends snapshots without `at`); a cursor is only valid as issued; a watch's query has a word, its filters no time
range, its id is free and its webhook on the allow-list; a reindex keeps the app's profile (another
one loads real models: a model change). Each is in the schema's descriptions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from litestar.testing import TestClient
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation import GenerationMode

from search.embed.base import Embedder
from search.errors import FieldError
from search.query import parse_query
from search.rerank import Reranker
from server.app import create_app
from server.profiles import Models
from server.routes.trends import trends_request
from server.services import Services
from server.settings import load_settings

WRITE_KEY = "fuzz-write-key-0123456789"
EXAMPLES = int(os.environ.get("TRENDSEARCH_FUZZ_EXAMPLES", "15"))
SEED_POSTS = [{"id": f"fz-{i}", "text": text, "platform": "twitter",
               "created_at": "2024-05-01T12:00:00Z"}
              for i, text in enumerate(["Flood waters rising in Calgary", "深圳禁摩限电"])]

instants = st.builds(
    lambda moment, minutes: moment.astimezone(timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30),
                 timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60))
schemathesis.openapi.format("date-time", instants)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder,
               tiny_reranker: Reranker) -> Iterator[Any]:
    config = load_settings({}, profile="tiny", data_dir=str(tmp_path_factory.mktemp("fuzz")),
                           api_keys=WRITE_KEY, rate_limit_per_minute=0)
    services = Services.build(config, Models(embedder=tiny_embedder, reranker=tiny_reranker,
                                             profile="tiny"))
    app = create_app(config, services)
    with TestClient(app) as client:  # runs the lifespan: the app's state is set
        answer = client.post("/v1/posts", json={"posts": SEED_POSTS},
                             headers={"Authorization": f"Bearer {WRITE_KEY}"})
        assert answer.status_code == 200, answer.text
        loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", app)

        @loaded.hook  # type: ignore[misc]
        def map_case(ctx: Any, case: Any) -> Any:
            if case.meta is None or not case.meta.generation.mode.is_positive:
                return case
            if case.path == "/v1/trends" and case.query:
                try:
                    trends_request(window=str(case.query.get("window", "1h")),
                                   baseline=str(case.query.get("baseline", "48h")),
                                   as_of=None, limit=10, query=None, filters=None)
                except FieldError:  # two parameters at odds: the documented pair instead
                    case.query.update(window="1h", baseline="48h")
            if case.path == "/v1/posts" and isinstance(case.body, dict):
                seen: set[str] = set()  # ids unique per batch (said in the body's description)
                case.body["posts"] = [p for p in case.body["posts"]
                                      if not (p["id"] in seen or seen.add(p["id"]))]
                for post in case.body["posts"]:
                    _not_in_the_future(post, "created_at")
            if case.path == "/v1/engagement" and isinstance(case.body, dict):
                seen_ids: set[str] = set()  # ids unique per batch, as for `/v1/posts`
                case.body["updates"] = [u for u in case.body["updates"]
                                        if not (u["id"] in seen_ids or seen_ids.add(u["id"]))]
                for update in case.body["updates"]:
                    _at_the_latest_now(update)
            if case.path.endswith("/engagement") and isinstance(case.body, dict):
                _at_the_latest_now(case.body)
            if case.path in ("/v1/search", "/v1/rising") and isinstance(case.body, dict):
                case.body.pop("cursor", None)
                try:
                    if case.path == "/v1/search" or "query" in case.body:
                        parse_query(str(case.body.get("query", "")))
                except FieldError:  # no word to search for (said in the schema, not a pattern)
                    case.body["query"] = "flood"
            if case.path.startswith("/v1/watches") and isinstance(case.body, dict):
                _watch_told(case)
            if case.path == "/v1/admin/reindex" and isinstance(case.body, dict) \
                    and case.body.get("profile") is not None:
                # Another profile is a model change: it would load that profile's real
                # models into this tiny app (tests/e2e/test_admin_reindex.py does that).
                case.body["profile"] = "tiny"
            return case

        yield loaded
    services.close()


def _not_in_the_future(body: dict[str, Any], field: str) -> None:
    """An instant the generator drew after now, brought to now."""
    value = body.get(field)
    if isinstance(value, str):
        try:
            future = datetime.fromisoformat(value) > datetime.now(UTC)
        except ValueError:
            return
        if future:
            body[field] = datetime.now(UTC).isoformat()


def _at_the_latest_now(body: dict[str, Any]) -> None:
    """A snapshot's `at` lies between its post's `created_at` and now (the model's
    description): the generator cannot know the post's time, so it sends none (now), and
    the posts it writes are dated at the latest now."""
    body.pop("at", None)


def _watch_told(case: Any) -> None:
    """What a watch body's schema says in words, told to the generator: a query with a word,
    no time range in the filters, an id not yet taken, a webhook the allow-list admits."""
    body = case.body
    if "query" in body:
        try:
            parse_query(str(body["query"]))
        except FieldError:
            body["query"] = "flood"
    if isinstance(body.get("filters"), dict):
        body["filters"].pop("since", None)
        body["filters"].pop("until", None)
    body.pop("id", None)
    body.pop("webhook", None)


load_all_checks()


def test_the_api_keeps_its_published_contract(api_schema: Any) -> None:
    """Each operation, positive and negative data; the failures of all of them, reported together.

    (Schemathesis' own pytest plugin reads a pytest-internal attribute that pytest 9
    removed, so the operations are walked here.)
    """
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                case.call_and_validate(headers={"Authorization": f"Bearer {WRITE_KEY}"},
                                       checks=CHECKS.get_all())

            try:
                run()
            except Unsatisfiable:  # nothing to negate: no parameters, no body
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - asserted whole below
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
