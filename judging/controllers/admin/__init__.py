"""Organisers' judging pages, one module a tab: ``rounds`` (the overview and a round's state:
open, assign, close), ``rules``, ``committee``, ``calibration`` (a screening round's calibration
entries, offsets and rubric notes), ``progress`` (the round's judging cockpit, with reminders, an
extra reader and reopening a sheet), ``ranking`` (the ranking, tie orders, the decision and its
signatures), ``eligibility`` and ``presentations``; ``shared`` holds what they all use.

Server-rendered; every form posts (url-encoded, with the ``_csrf`` field) and works without
JavaScript. A successful action redirects (post/redirect/get) with ``?done=<what>`` which the
next page turns into its flash message; a refused one re-renders the page with the domain's
message next to the field it concerns, or plainly at the top for a 409. The forms are read by
``judging.forms``.

Speed: the progress page reads ``scoring.progress`` (grouped in SQL) and, for its judging-quality
section, the submitted sheets once (``judging.domain.quality``: linear in the sheets, kept while
they are unchanged, no ranking); only the ranking and decision pages compute the ranking, and the
ranking table is paginated.
"""

from judging.controllers.admin.calibration import CalibrationPages
from judging.controllers.admin.committee import CommitteePages
from judging.controllers.admin.eligibility import EligibilityPages
from judging.controllers.admin.presentations import PresentationPages
from judging.controllers.admin.progress import ProgressPages
from judging.controllers.admin.ranking import RankingPages
from judging.controllers.admin.rounds import RoundPages
from judging.controllers.admin.rules import RulesPages

ADMIN_PAGES = [RoundPages, RulesPages, CommitteePages, ProgressPages, RankingPages, EligibilityPages,
               PresentationPages, CalibrationPages]

__all__ = ["ADMIN_PAGES"]
