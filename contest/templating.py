"""Jinja environment: translations, Buddhist-Era dates, and small helpers for templates."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_COMMA,
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from contest.audit_labels import action_label, changes
from contest.dates import DateEntry, ce_note, entry_from_value, month_names
from contest.domain.registry import KIND_LABELS
from contest.enums import (
    AdoptionState,
    AppealState,
    AppealStates,
    AuthTokenKind,
    EditionState,
    EntryState,
    EntryStates,
    MembershipState,
    PendingActionState,
    PendingActionStates,
    RoundKind,
)
from contest.i18n import LANGUAGES, current_language, format_date, format_size, gettext, ngettext, t
from contest.labels import code_label
from contest.web import same_site_path
from uploads.checks import CheckState, CheckStates

TEMPLATE_DIRS = [Path(__file__).parent / "templates"]


def _kind_label(kind: str) -> str:
    labels = KIND_LABELS.get(kind)
    if not labels:
        return kind
    return labels[0] if current_language.get() == "th" else labels[1]


#: Membership states as people read them (message ids, translated when shown).
MEMBERSHIP_STATE_LABELS = {"pending": "Waiting for approval", "verified": "Verified member",
                           "rejected": "Not approved", "removed": "Removed"}


def _membership_state_label(state: str) -> str:
    return t(MEMBERSHIP_STATE_LABELS[state]) if state in MEMBERSHIP_STATE_LABELS else state


def _lang_url(request: Any, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{same_site_path(request.url.path)}?{urlencode(params)}"


#: A size in bytes for people (512 B, 1.5 MB).
file_size = format_size


def _date_entry(value: Any, with_time: bool = False) -> DateEntry:
    """A date field's parts: as typed (a DateEntry) or from a stored date or time."""
    return value if isinstance(value, DateEntry) else entry_from_value(value or None, with_time)


#: What a template can reach as an attribute of a plain dict (``d.items()``, ``d.get(k)``).
_DICT_ATTRIBUTES = frozenset(dir(dict))


class ContestEnvironment(Environment):
    """Jinja's environment, with ``row.field`` on a plain dict read as the key straight away.
    Jinja first tries the attribute, which a dict never has, and pays for the failed lookup;
    the result is the same, as a dict's own attributes (``items``, ``get``) still win.

    Templates are compiled once per language: the environment the app holds hands each template
    asked for to its current language's own (``languages``, overlays sharing the loader, globals
    and filters, each with its own cache of compiled templates), where :class:`FixedMessages`
    has translated the fixed texts. A template compiled for one language is only ever asked for,
    and so rendered, while that language is the current one."""

    #: The language this environment compiles for; ``None`` for the one that dispatches.
    language: str | None = None
    #: The per-language environments (on the dispatching one).
    languages: dict[str, ContestEnvironment] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def get_template(self, name: str | Template, parent: str | None = None,
                     globals: MutableMapping[str, Any] | None = None) -> Template:
        own = self.languages.get(current_language.get()) if self.language is None else None
        if own is not None:
            return own.get_template(name, parent, globals)
        return super().get_template(name, parent, globals)


def _fill(text: str, **params: Any) -> str:
    """A message translated already, its ``{placeholders}`` filled (``t`` after the lookup)."""
    return text.format(**params)


class FixedMessages(Extension):
    """``_("fixed text")`` translated when a template is compiled for a language
    (``ContestEnvironment.language``): the page holds the text as it holds its markup, escaped
    once at compile time exactly as it was escaped on every render, instead of a lookup per text
    per request. ``_("{n} of {total}", n=..., total=...)`` becomes the translated text filled in
    when rendered. Any other use of ``_`` (a message id held in a variable) runs as written, as
    does everything in an environment without a language."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        language = getattr(self.environment, "language", None)
        if language is None:
            yield from stream
            return
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if (tok.type == TOKEN_NAME and tok.value == "_" and i + 3 < len(tokens)
                    and (i == 0 or tokens[i - 1].type != TOKEN_DOT)
                    and tokens[i + 1].type == TOKEN_LPAREN and tokens[i + 2].type == TOKEN_STRING
                    and tokens[i + 3].type in (TOKEN_RPAREN, TOKEN_COMMA)):
                text = Token(tokens[i + 2].lineno, TOKEN_STRING, gettext(tokens[i + 2].value, language))
                if tokens[i + 3].type == TOKEN_RPAREN:
                    yield text
                    i += 4
                else:
                    yield from (Token(tok.lineno, TOKEN_NAME, "_fill"), tokens[i + 1], text, tokens[i + 3])
                    i += 4
                continue
            yield tok
            i += 1


#: The states and kinds (and their groups) templates compare with, as members: a template says
#: ``a.state == PendingActionState.pending``, never the stored string.
STATE_GLOBALS: dict[str, Any] = {
    e.__name__: e for e in (
        AdoptionState, AppealState, AppealStates, AuthTokenKind, EditionState, EntryState, EntryStates,
        MembershipState, PendingActionState, PendingActionStates, RoundKind, CheckState, CheckStates)
}


def make_environment(extra_dirs: list[Path] | None = None,
                     extra_globals: dict[str, Any] | None = None) -> Environment:
    """The environment; ``extra_globals`` are what a package that builds on contest (judging)
    gives its templates, such as its own states."""
    env = ContestEnvironment(
        loader=FileSystemLoader([str(p) for p in [*TEMPLATE_DIRS, *(extra_dirs or [])]]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n", FixedMessages],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # The i18n extension adds this method to the environment.
    i18n_env: Any = env
    i18n_env.install_gettext_callables(
        gettext=lambda m, **kw: t(m, **kw) if kw else gettext(m),
        ngettext=lambda s, p, n, **kw: ngettext(s, p, n) % ({"num": n, **kw}) if "%(" in s else ngettext(s, p, n),
        newstyle=False)
    env.globals.update(
        lang=lambda: current_language.get(),
        t=t,
        lang_url=_lang_url,
        kind_label=_kind_label,
        membership_state_label=_membership_state_label,
        code_label=code_label,
        date_entry=_date_entry, ce_note=ce_note, month_names=month_names, audit_action_label=action_label,
        audit_changes=changes,
        # A fresh key per upload form: resending the same form (a lost answer) stores the file once.
        new_upload_key=lambda: secrets.token_urlsafe(18),
        **STATE_GLOBALS,
        **(extra_globals or {}),
    )
    env.globals["_fill"] = _fill
    env.filters.update(date=format_date, bytes=format_size,
                       dateonly=lambda v: format_date(v, with_time=False))
    # One environment per language, made last: they share the globals and filters set above
    # (and the callables the app registers later) but compile and cache their own templates.
    languages = {}
    for language in LANGUAGES:
        own = env.overlay()
        own.language = language
        languages[language] = own
    env.languages = languages
    return env


def template_config(extra_dirs: list[Path] | None = None,
                    extra_globals: dict[str, Any] | None = None) -> TemplateConfig:
    env = make_environment(extra_dirs, extra_globals)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))
