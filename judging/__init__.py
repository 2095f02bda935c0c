"""Judging: rounds, rubrics, committees, assignment, scoring, ranking, shortlist, final, sign-off."""
