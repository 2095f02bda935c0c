"""Confirmation pages for the actions that cannot be undone: opening or closing a round, signing
a decision, inviting the finalists, publishing the results, removing a file from an entry.

The page in front of such an action says plainly what will happen and what cannot be undone,
then offers a Confirm button (a form that posts, with the CSRF token, to the action itself) and
a Cancel link back to where the person came from. It is a plain page: it works without
JavaScript. The JSON API is not concerned: an API call acts at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.response import Template


@dataclass
class Confirmation:
    """What the confirmation page says and where its two choices lead."""

    #: the question, as the page's heading ("Open the round?")
    title: str
    #: what will happen, one plain sentence a paragraph
    happens: list[str]
    #: what cannot be undone, shown as a warning
    cannot_undo: str
    #: where the Confirm button posts
    action: str
    #: the Confirm button's words ("Yes, open the round")
    confirm: str
    #: where Cancel leads back to
    cancel: str
    #: (term, value) pairs that identify what is acted on (a round, a file and its size)
    facts: list[tuple[str, str]] = field(default_factory=list)
    #: hidden fields posted with the confirmation (what was read, such as a decision's hash)
    hidden: dict[str, str] = field(default_factory=dict)
    #: a destructive action: the button is red
    danger: bool = False
    #: why the action cannot be done now: said instead of the Confirm button
    blocked: str | None = None


def confirmation_page(confirmation: Confirmation, *, status: int = 200, **extra: Any) -> Template:
    """The page itself (``contest/confirm.html``); ``extra`` goes to the template (``error``)."""
    return Template("contest/confirm.html", status_code=status, context={"c": confirmation, **extra})
