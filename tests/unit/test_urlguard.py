"""A webhook URL the standard library cannot even split is a 422 naming the field, not a 500."""

from __future__ import annotations

import pytest

from search.errors import FieldError
from server.watches.urlguard import UrlGuard


def test_an_unsplittable_url_names_the_field() -> None:
    # Found by the schema fuzz: an unbalanced "[" makes `urlsplit` raise ValueError.
    with pytest.raises(FieldError) as caught:
        UrlGuard().check("https://y\u00b4\u00f2[")
    assert str(caught.value) == "`webhook.url`: not a URL: Invalid IPv6 URL"
