"""Text handling shared by indexing and querying: one normal form, one tokeniser,
one language guess, so the two sides of the index can never disagree."""

from __future__ import annotations

from search.text.lang import detect_lang
from search.text.normalize import normalize
from search.text.tokenize import tokenize

__all__ = ["detect_lang", "normalize", "tokenize"]
