"""Judging's HTTP layer: the JSON API and the committee and organiser pages."""

from judging.controllers.api import AssignmentApi, RoundApi

ROUTE_HANDLERS = [RoundApi, AssignmentApi]
