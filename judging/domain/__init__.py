"""Judging domain. ``ranking`` and ``planner`` are pure (no I/O, no database, no web framework).

Imports go one way, so that no module imports another inside a function: ``round_rows`` (a round
as stored) and ``conflicts`` at the bottom, then ``assignments`` (the planner's I/O), then
``rounds``, ``scoring``, ``shortlist`` and ``final``.
"""
