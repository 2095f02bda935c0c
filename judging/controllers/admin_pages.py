"""Organisers' judging pages: rounds, eligibility, committee, assignment, progress, ranking,
decision and signatures (built in a later step)."""

from __future__ import annotations

from litestar import Controller


class JudgingAdminPages(Controller):
    path = "/admin/judging"
    include_in_schema = False
