"""Regex sources shared by the tokeniser and the language guess, so both agree
on what a link or a mention is."""

from __future__ import annotations

# ASCII URL characters only: Weibo puts text right after a link with no space
# ("http://t.cn/R5UKELs二孩已..."), and the Chinese is the post, not the link.
URL = r"(?i:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()]+"

# Mentions may follow Chinese directly ("今天@深圳交警"), but not a Latin word
# or digit, which makes an e-mail address ("foo@bar.com").
NOT_AFTER_WORD = r"(?<![[\p{L}\p{N}_@#&]--\p{Han}])"
MENTION_NAME = r"[\p{L}\p{N}_]+(?:-[\p{L}\p{N}_]+)*"
