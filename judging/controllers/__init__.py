"""Judging's HTTP layer: the JSON API and the committee and organiser pages."""

from judging.controllers.admin import ADMIN_PAGES
from judging.controllers.api import AssignmentApi, PresentationApi, RoundApi
from judging.controllers.calibration_api import CalibrationApi
from judging.controllers.calibration_pages import CalibrationReviewPages
from judging.controllers.final_pages import FinalistPages
from judging.controllers.review_pages import ReviewPages

ROUTE_HANDLERS = [RoundApi, AssignmentApi, PresentationApi, CalibrationApi, ReviewPages, CalibrationReviewPages,
                  *ADMIN_PAGES, FinalistPages]
