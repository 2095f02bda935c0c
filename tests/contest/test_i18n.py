"""A row's name or description in the caller's language (contest.i18n.localised, pure)."""

from __future__ import annotations

import pytest

from contest.i18n import current_language, localised

pytestmark = pytest.mark.unit

CRITERION = {"name_th": "ผลลัพธ์", "name_en": "Results", "description_th": "", "description_en": "What changed"}


def test_localised_follows_the_current_language():
    assert localised(CRITERION) == "ผลลัพธ์"
    token = current_language.set("en")
    try:
        assert localised(CRITERION) == "Results"
    finally:
        current_language.reset(token)


def test_localised_falls_back_to_the_other_language():
    assert localised({"name_th": "ผลลัพธ์", "name_en": ""}, language="en") == "ผลลัพธ์"
    assert localised(CRITERION, "description", language="th") == "What changed"


def test_localised_is_empty_when_neither_is_there():
    assert localised({}, language="en") == ""
    assert localised({"name_th": None}, language="th") == ""
