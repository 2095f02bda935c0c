"""Jinja environment: translations, Buddhist-Era dates, and small helpers for templates."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
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
from contest.i18n import current_language, format_date, format_size, gettext, ngettext, t
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
    the result is the same, as a dict's own attributes (``items``, ``get``) still win."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


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
        extensions=["jinja2.ext.i18n"],
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
    env.filters.update(date=format_date, bytes=format_size,
                       dateonly=lambda v: format_date(v, with_time=False))
    return env


def template_config(extra_dirs: list[Path] | None = None,
                    extra_globals: dict[str, Any] | None = None) -> TemplateConfig:
    env = make_environment(extra_dirs, extra_globals)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))
