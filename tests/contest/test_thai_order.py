"""Thai lists in dictionary order (ICU's Thai collation), not by code point: a name that starts
with a leading vowel (เ แ โ ใ ไ) is filed under its consonant, as in a Thai dictionary."""

from __future__ import annotations

import pytest

from contest.domain import organisations
from contest.domain.results_views import province_choices
from contest.i18n import thai_sort_key, thai_sorted
from tests.conftest import run
from tests.factories import make_org

PROVINCES = ["แพร่", "เชียงใหม่", "กรุงเทพมหานคร", "ชัยนาท", "พะเยา", "ขอนแก่น", "ตรัง", "ฟ้าใหม่", "ชลบุรี"]


@pytest.mark.unit
def test_leading_vowels_sort_under_their_consonant() -> None:
    ordered = thai_sorted(PROVINCES)
    assert ordered == ["กรุงเทพมหานคร", "ขอนแก่น", "ชลบุรี", "ชัยนาท", "เชียงใหม่", "ตรัง", "พะเยา", "แพร่",
                       "ฟ้าใหม่"]
    # Code-point order, which this replaces, puts both last.
    assert sorted(PROVINCES)[-2:] == ["เชียงใหม่", "แพร่"]


@pytest.mark.unit
def test_sort_key_orders_under_the_consonant() -> None:
    assert thai_sort_key("ชัยนาท") < thai_sort_key("เชียงใหม่") < thai_sort_key("ตรัง")
    assert thai_sort_key("พะเยา") < thai_sort_key("แพร่") < thai_sort_key("ฟ้าใหม่")
    assert thai_sort_key(None) == thai_sort_key("")
    assert thai_sorted([{"n": "แพร่"}, {"n": "น่าน"}], key=lambda r: r["n"]) == [{"n": "น่าน"}, {"n": "แพร่"}]


def test_province_list_is_in_dictionary_order(db: str) -> None:
    for code, name in (("54", "แพร่"), ("50", "เชียงใหม่"), ("40", "ขอนแก่น"), ("56", "พะเยา"), ("92", "ตรัง")):
        run(make_org(province_code=code, province_name_th=name))
    names = [p["province_name_th"] for p in run(organisations.list_provinces())]
    assert names == ["ขอนแก่น", "เชียงใหม่", "ตรัง", "พะเยา", "แพร่"]


@pytest.mark.unit
def test_showcase_province_choices_in_dictionary_order() -> None:
    document = {"awarded": [{"province_code": c, "province_name_th": n, "consent_publish": True}
                            for c, n in (("54", "แพร่"), ("50", "เชียงใหม่"), ("56", "พะเยา"), ("92", "ตรัง"))]}
    assert [n for _, n in province_choices(document)] == ["เชียงใหม่", "ตรัง", "พะเยา", "แพร่"]


def test_admin_entry_counts_by_province_in_dictionary_order(client) -> None:  # type: ignore[no-untyped-def]
    from contest.tables import Organisation
    from tests.factories import browser_login, make_edition, make_submitted_entries, make_user

    run(make_edition(2569))
    run(make_submitted_entries(2569, 4, provinces=("54", "50", "92", "56")))
    for code, name in (("54", "แพร่"), ("50", "เชียงใหม่"), ("92", "ตรัง"), ("56", "พะเยา")):
        run(Organisation.update({Organisation.province_name_th: name}).where(Organisation.province_code == code))
    run(make_user("admin", email="admin@example.go.th"))
    browser_login(client, "admin@example.go.th")
    page = client.get("/admin/editions/2569/entries").text
    assert page.index("เชียงใหม่</a>") < page.index("ตรัง</a>") < page.index("พะเยา</a>") < page.index("แพร่</a>")
