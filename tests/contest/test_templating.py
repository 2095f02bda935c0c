"""Templates compiled once per language (contest.templating): the fixed texts translated when a
template is compiled give the page the same HTML as translating them on every render, in Thai
and in English, and a template compiled for one language is never served in the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from contest.i18n import current_language
from contest.templating import ContestEnvironment, make_environment

pytestmark = pytest.mark.unit

SOURCE = """<h2>{{ _("Per member") }}</h2>
<p title="{{ _('Per member') }}">{{ _("Entries not fully reviewed ({n})", n=n) }}</p>
<p>{{ _("A <b> & 'quoted' \\"text\\"") }}|{{ _(state) }}|{{ _("Per member")|upper }}|{{ _("Per" " member") }}</p>
{% set label = _("Per member") %}{{ label ~ "<" }}{{ ngettext("{num} entry", "{num} entries", 2) }}
{% macro cell(text) %}<td>{{ text }}</td>{% endmacro %}{{ cell(_("Entries not fully reviewed ({n})", n="<7>")) }}
"""


@pytest.fixture
def env(tmp_path: Path) -> ContestEnvironment:
    (tmp_path / "fixed.html").write_text(SOURCE, encoding="utf-8")
    made = make_environment([tmp_path])
    assert isinstance(made, ContestEnvironment)
    return made


def render_in(env: ContestEnvironment, language: str, compiled: bool) -> str:
    """The page in ``language``: from the template the app would serve (its texts translated when
    compiled), or from the same source compiled without a language (translated as rendered)."""
    token = current_language.set(language)
    try:
        template = env.get_template("fixed.html") if compiled else env.from_string(SOURCE)
        return template.render(n="<1,234>", state="submitted")
    finally:
        current_language.reset(token)


def test_fixed_texts_translated_at_compile_time_render_as_they_did_in_both_languages(
        env: ContestEnvironment) -> None:
    for language in ("th", "en", "th"):
        assert render_in(env, language, compiled=True) == render_in(env, language, compiled=False)
    thai, english = render_in(env, "th", compiled=True), render_in(env, "en", compiled=True)
    assert "<h2>รายกรรมการ</h2>" in thai and "ผลงานที่ยังให้คะแนนไม่ครบ (&lt;1,234&gt;)" in thai
    assert "<h2>Per member</h2>" in english and "Entries not fully reviewed (&lt;1,234&gt;)" in english
    assert "A &lt;b&gt; &amp; &#39;quoted&#39; &#34;text&#34;" in english and "<td>" in english
    # Compiled for Thai, the page holds the Thai texts; only ``_(state)`` and the two joined
    # strings still look the message up when rendered.
    code = env.languages["th"].compile(SOURCE, raw=True)
    assert "รายกรรมการ" in code and code.count("'Per member'") == 1


def test_each_language_has_its_own_compiled_template(env: ContestEnvironment) -> None:
    token = current_language.set("th")
    try:
        thai = env.get_template("fixed.html")
    finally:
        current_language.reset(token)
    token = current_language.set("en")
    try:
        english = env.get_template("fixed.html")
    finally:
        current_language.reset(token)
    assert thai is not english
    assert thai.environment is env.languages["th"] and english.environment is env.languages["en"]
    # The app's own callables reach every language's templates.
    env.globals["registered_later"] = lambda: "yes"
    assert env.languages["en"].from_string("{{ registered_later() }}").render() == "yes"
