"""Committee members' pages: my rounds, my queue, the scoring page (built in a later step)."""

from __future__ import annotations

from litestar import Controller


class ReviewPages(Controller):
    path = "/review"
    include_in_schema = False
