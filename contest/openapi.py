"""What the OpenAPI document (``/schema/openapi.json``) says about each API operation, kept next
to the route: the statuses it can answer with the one error body every error has, whether it
needs a bearer token, its request body when the handler reads the JSON itself, its real media
types and headers, and the links from one call's output to the next call's input.

A route says it in one place::

    @post("/api/v1/entries/{entry_id:int}/submit", ..., **api(401, 403, 404, 409, 422, auth=BEARER))

:func:`api` gives the route decorator its ``responses`` (the errors, each with the shared
``Error`` schema) and an ``operation_class`` that writes the rest into the operation.

Handlers whose domain checks the JSON itself still take ``dict[str, Any]``: a value the schema
would refuse still reaches the domain, which answers 422 with the field's name and a Thai-first
message. The msgspec Structs given here as ``body`` (and ``reply`` for answers built as plain
dicts) only *describe* what is accepted and answered.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, Operation, SecurityScheme

from contest.numbers import MAX_DB_INTEGER

#: The operation needs ``Authorization: Bearer <token>`` (from ``POST /api/v1/auth/token``).
BEARER: Final = "bearer"
#: Anyone may call it; a token may change what is answered (drafts for admins, for instance).
OPTIONAL: Final = "optional"

SECURITY_SCHEME: Final = "bearer"

#: What the request middleware (contest/web.py) may answer to any POST, PUT, PATCH or DELETE:
#: a body of a kind the route does not take (415), a JSON body over the limit (413) or nested
#: too deeply (400), a session cookie without the CSRF token (403).
UNSAFE: Final = (400, 403, 413, 415)


class Error(msgspec.Struct, kw_only=True):
    """Every error answer of the API (and of the file intake)."""

    status_code: Annotated[int, msgspec.Meta(description="The HTTP status, repeated.")]
    detail: Annotated[str, msgspec.Meta(description="What went wrong, in the caller's language (Thai unless "
                                                    "`lang=en` or `Accept-Language: en`).")]
    detail_en: Annotated[str, msgspec.Meta(description="The same message in English.")]
    code: Annotated[str, msgspec.Meta(description="A machine code: `not_found`, `validation_failed`, "
                                                  "`deadline_passed`, `stale_version`, ...")]
    errors: Annotated[dict[str, str], msgspec.Meta(
        description="422 (and a 400 the framework found): field name -> what is wrong with it.")] = {}


ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
    202: "Proposed, not done: another administrator must approve it (`pending_approval`, with "
         "`pending_action_id`).",
    400: "Not well-formed: not JSON, not an object, or a parameter of the wrong kind (`invalid_input`).",
    401: "No valid bearer token (`not_authenticated`, `invalid_token`), or wrong credentials.",
    403: "The caller's role or organisation may not do this (`forbidden`, `admin_only`, ...).",
    404: "No such item, or the caller may not know it exists.",
    405: "The method is not allowed on this path.",
    409: "Clashes with the current state: stale version, deadline passed, frozen rules, duplicate.",
    413: "The request or the file is too large.",
    415: "The file's type is not one the contest accepts.",
    416: "The range asked for lies outside the file.",
    422: "Well-formed but wrong: `errors` names each field with what is wrong (`validation_failed`).",
    429: "Too many attempts; wait and try again (`rate_limited`).",
    503: "File storage is not available right now; nothing was changed (`storage_unavailable`).",
    507: "The file storage is full; nothing was stored. Try again later (`storage_full`).",
}


def _error_response(status: int) -> ResponseSpec:
    return ResponseSpec(data_container=Error, description=ERROR_DESCRIPTIONS[status], generate_examples=False)


LANG_PARAMETER: Final = {
    "name": "lang", "in": "query", "required": False,
    "description": "The language of messages (`detail`) and of labels: `th` (the default) or `en`; "
                   "remembered in a cookie. Other values are ignored.",
    "schema": {"type": "string", "enum": ["th", "en"]},
}



def components() -> Components:
    """Shared parts of the document: the bearer scheme."""
    return Components(security_schemes={SECURITY_SCHEME: SecurityScheme(
        type="http", scheme="bearer",
        description="A token from `POST /api/v1/auth/token`, sent as `Authorization: Bearer <token>`.")})


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """msgspec's schema with its ``$defs`` references replaced by the definitions themselves."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(defs[ref.rsplit("/", 1)[1]]))
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def schema_of(shape: Any) -> dict[str, Any]:
    """The JSON schema of a msgspec type (a Struct, ``list[Struct]``, ...), inlined."""
    return _inline(msgspec.json.schema(shape))


def binary(*media_types: str, description: str | None = None) -> dict[str, Any]:
    """Content for a non-JSON answer: the same bytes under each media type it may have."""
    schema: dict[str, Any] = {"type": "string", "format": "binary"}
    return {m: {"schema": dict(schema)} for m in media_types}


def header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


def link(operation_id: str, description: str = "", **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: ``parameters`` maps the next call's parameter to a runtime expression
    (``$response.body#/id``)."""
    out: dict[str, Any] = {"operationId": operation_id, "parameters": dict(parameters)}
    if description:
        out["description"] = description
    return out


@dataclass(frozen=True)
class _Doc:
    """What :func:`api` was told about one operation, written into its schema."""

    errors: tuple[int, ...]
    auth: str | None
    body: dict[str, Any] | None
    body_required: bool
    multipart: dict[str, Any] | None
    reply: dict[str, Any] | None
    media: dict[str, Any] | None
    headers: dict[str, dict[str, Any]] | None
    links: dict[str, dict[str, Any]] | None
    also: dict[int, dict[str, Any]]
    request_headers: tuple[dict[str, Any], ...]

    def parameters(self, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parameters = [*generated, *copy.deepcopy(self.request_headers), dict(LANG_PARAMETER)]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "integer":
                # A whole-number query parameter (contest.numbers.query_number): the handler
                # reads the text itself, but what the client sends is an integer in range.
                schema.pop("oneOf", None)
                if parameter.get("in") == "path":  # ids and years: ASCII digits, else 404
                    schema.setdefault("minimum", 0)
                    schema.setdefault("maximum", MAX_DB_INTEGER)
        return parameters

    def request_body(self) -> dict[str, Any] | None:
        if self.body is not None:
            return {"required": self.body_required, "content": {"application/json": {"schema": self.body}}}
        if self.multipart is not None:
            return {"required": True, "content": {"multipart/form-data": self.multipart}}
        return None

    def responses(self, responses: dict[str, Any]) -> dict[str, Any]:
        if 400 not in self.errors:
            # The framework lists a 400 for any parameter; a path parameter that is not a
            # number is a 404 here, so only the operations that say so can answer 400.
            responses.pop("400", None)
        success = next((s for s in sorted(responses) if s.startswith("2")), None)
        if success is not None:
            answer = responses[success]
            if self.media is not None:
                answer["content"] = self.media
            elif self.reply is not None:
                answer["content"] = {"application/json": {"schema": self.reply}}
            if self.headers:
                answer["headers"] = {**answer.get("headers", {}), **self.headers}
            if self.links:
                answer["links"] = self.links
        responses.update({str(status): response for status, response in self.also.items()})
        return responses

    def write(self, out: dict[str, Any]) -> dict[str, Any]:
        out["parameters"] = self.parameters(out.get("parameters", []))
        out["security"] = SECURITY[self.auth]
        if (body := self.request_body()) is not None:
            out["requestBody"] = body
        out["responses"] = self.responses(out.get("responses", {}))
        return copy.deepcopy(out)


SECURITY: Final[Mapping[str | None, list[dict[str, list[str]]]]] = {
    BEARER: [{SECURITY_SCHEME: []}], OPTIONAL: [{}, {SECURITY_SCHEME: []}], None: []}


def api(*errors: int, auth: str | None = None, body: Any = None, body_required: bool = True,
        multipart: dict[str, Any] | None = None, reply: Any = None, media: dict[str, Any] | None = None,
        headers: dict[str, dict[str, Any]] | None = None, links: dict[str, dict[str, Any]] | None = None,
        also: dict[int, dict[str, Any]] | None = None, request_headers: Sequence[dict[str, Any]] = (),
        ) -> dict[str, Any]:
    """Route decorator arguments documenting one API operation.

    ``errors``: every error status the operation can answer (each with the ``Error`` body);
    ``auth``: :data:`BEARER` or :data:`OPTIONAL` (left out: no token is looked at);
    ``body``: the msgspec type of a JSON body the handler reads as a plain object
    (``body_required=False`` when it may be left out); ``multipart``: a multipart/form-data body
    (``{"schema": ..., "encoding": ...}``); ``reply``: the msgspec type of a success answer built
    as a plain dict; ``media``: the success answer's content when it is not JSON (see
    :func:`binary`); ``headers``: the success answer's headers; ``links``: OpenAPI links from the
    success answer; ``also``: other statuses (206, 304) as whole OpenAPI responses;
    ``request_headers``: header parameters the operation reads.
    """
    statuses = tuple(sorted(set(errors)))
    unknown = set(statuses) - set(ERROR_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for the statuses {sorted(unknown)}")
    doc = _Doc(errors=statuses, auth=auth, body=schema_of(body) if body is not None else None,
               body_required=body_required, multipart=multipart, reply=schema_of(reply) if reply is not None else None,
               media=media, headers=headers, links=links, also=dict(also or {}),
               request_headers=tuple(request_headers))

    class ApiOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            return doc.write(super().to_schema())

    return {"responses": {status: _error_response(status) for status in statuses}, "operation_class": ApiOperation}
