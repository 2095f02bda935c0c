"""How judging plugs into contest. Contest never imports judging: it offers hooks
(``contest.domain.entries.register_viewer`` and ``register_entry_links``) and the app factory,
``contest.app.create_app`` (the composition root), calls :func:`register` once per app it builds.

What judging adds:

* an assigned reviewer may read the entry (and its files) assigned to them, never one they
  recused from (``judging.domain.assignments.is_assigned_reviewer``);
* "My entries" links a finalist to its presentation slot once the finalists are invited
  (``judging.domain.final.presentation_links``);
* a person's own data includes their score sheets, and their erasure waits while a round they
  sit on is being judged (``judging.domain.personal``);
* an appeal and an entry's evidence pack show what judging decided about the entry, the score
  sheets anonymised (``judging.domain.evidence``).

Registering is explicit, not a side effect of importing a module, and calling it again changes
nothing. Code that uses the domains without the app (the ``contest`` command, the worker, tests
that call domain functions directly) does not read entries as a reviewer and needs no hooks; one
that does calls :func:`register` itself.
"""

from __future__ import annotations

from contest.domain import appeals, erasure, my_data
from contest.domain import entries as contest_entries
from judging.domain.assignments import is_assigned_reviewer
from judging.domain.evidence import entry_rounds
from judging.domain.final import presentation_links
from judging.domain.personal import my_judging, rounds_holding


def register() -> None:
    """Plug judging's entry readers, entry links and personal data into contest (idempotent)."""
    contest_entries.register_viewer(is_assigned_reviewer)
    contest_entries.register_entry_links(presentation_links)
    my_data.register_source(my_judging)
    erasure.register_blocker(rounds_holding)
    appeals.register_judging_record(entry_rounds)
