"""Topic tags of a conversation, written the same way wherever they are typed.

Triage in the inbox, the API, hotline calls and social media imports all keep topics through
`clean_topics`, so that "Albergue", "albergue" and "albergue," are one tag and the counts by topic
(`messaging.insights`) do not split one subject into several rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 40
_PUNCTUATION = re.compile(r"[^\w\- ]+", re.UNICODE)


class TopicsInvalid(ValueError):
    """Too many tags, or one too long: the message says which limit."""


def clean_topics(values: Iterable[str]) -> list[str]:
    """Free tags, lower-case, without punctuation, each once ("Housing, work" → ["housing", "work"]).

    Each value may hold several tags separated by commas. More than MAX_TOPICS tags, or a tag longer
    than MAX_TOPIC_LENGTH characters, is refused rather than cut, so nobody's tag silently changes.
    """
    topics: list[str] = []
    for value in values:
        for part in str(value).split(","):
            tag = " ".join(_PUNCTUATION.sub(" ", part).split()).lower()
            if len(tag) > MAX_TOPIC_LENGTH:
                raise TopicsInvalid(
                    _("A topic is at most %(count)d characters.") % {"count": MAX_TOPIC_LENGTH}
                )
            if tag and tag not in topics:
                topics.append(tag)
    if len(topics) > MAX_TOPICS:
        raise TopicsInvalid(_("At most %(count)d topics.") % {"count": MAX_TOPICS})
    return topics


def merge_topics(kept: Iterable[str], added: Iterable[str]) -> list[str]:
    """Tags already clean, followed by new clean ones not there yet, at most MAX_TOPICS (the oldest kept)."""
    merged = list(kept)
    merged += [tag for tag in added if tag not in merged]
    return merged[:MAX_TOPICS]
