"""Searching the showcase of every published edition, as officials type in Thai.

Thai writes no spaces between words, so a plain substring search finds "ตา" inside "ตาราง" and
cannot rank. Texts are cut into words with PyThaiNLP's dictionary segmenter (``newmm``), each word
compared in ``registry.match_key`` form (tone-mark and spacing slips forgiven), and documents
ranked with BM25 over their fields, the title counting most. A query word also matches the words
is part of ("ขยะ" finds "ขยะมูลฝอย") at a lower weight, and the query as typed matches as a phrase,
so a fragment copied from a title still finds it; neither for a query word or query of one or two
letters, which would be found inside far too many words.

What the showcase does not show of an organisation that did not consent (its description,
province, kind and category) neither matches nor filters it, as on the showcase's own page.

The index is built from the published snapshots in a worker thread and kept in memory. A
published snapshot never changes, so each edition's texts are segmented once; a new or replaced
snapshot rebuilds the index from the segments kept (quick) plus that edition's.
"""

from __future__ import annotations

import asyncio
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from contest.domain.announcement import PublishedResults, get_results, published_years
from contest.domain.registry import match_key
from contest.i18n import thai_sort_key

#: Field weights: where a word is found says how much the innovation is about it.
FIELDS: dict[str, float] = {
    "title": 3.0, "organisation_name_th": 2.0, "organisation_name_en": 2.0, "province_name_th": 1.5,
    "summary": 1.2, "problem": 1.0, "solution": 1.0, "results": 1.0, "technology": 1.0,
}
#: The fields of an innovation whose organisation did not consent to publish its details.
UNCONSENTED_FIELDS = ("title", "organisation_name_th", "organisation_name_en")
PARTIAL_WEIGHT = 0.5
PHRASE_BONUS = 2.0
#: Shorter query words match whole words only, and shorter queries match no phrase: two Thai
#: letters are inside far too many words ("ตา" in "ตาราง", "ตำบล" and "ตาม").
PARTIAL_MIN = 3
PHRASE_MIN = 4
K1, B = 1.2, 0.75
MAX_QUERY = 200


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    from pythainlp.tokenize import word_tokenize  # imported on first use: its dictionary loads then

    return word_tokenize


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def words(text: str) -> list[str]:
    """The words of a text in match form, in order (empty pieces and punctuation dropped)."""
    if not text:
        return []
    out = []
    for piece in _segmenter()(_clean(text), engine="newmm", keep_whitespace=False):
        key = match_key(piece)
        if key and any(ch.isalnum() for ch in key):
            out.append(key)
    return out


@dataclass
class Document:
    year: int
    entry_id: int
    item: dict[str, Any]
    consented: bool
    phrase_text: str  # the searchable fields in match form, for the phrase match
    length: float = 0.0
    winner: bool = False  # also holds the DG Awards


@dataclass
class Index:
    """Inverted index of the showcased innovations: word -> {document: weighted frequency}."""

    key: tuple[tuple[int, str], ...]
    documents: list[Document] = field(default_factory=list)
    postings: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    average_length: float = 1.0
    vocabulary: list[str] = field(default_factory=list)
    #: category code -> its names, from the snapshots (the newest edition's names win)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, year: int, item: dict[str, Any], fields: list[tuple[float, str, list[str]]], *,
            winner: bool = False) -> None:
        """One innovation, with its fields already cut into words (``segment``)."""
        doc_id = len(self.documents)
        length = 0.0
        for weight, _phrase, field_words in fields:
            for word in field_words:
                bucket = self.postings[word]
                bucket[doc_id] = bucket.get(doc_id, 0.0) + weight
                length += weight
        self.documents.append(Document(year, item["entry_id"], item, bool(item.get("consent_publish")),
                                       "\n".join(phrase for _w, phrase, _ in fields), length, winner))

    def finish(self) -> None:
        self.postings = dict(self.postings)
        if self.documents:
            self.average_length = max(1.0, sum(d.length for d in self.documents) / len(self.documents))
        self.vocabulary = sorted(self.postings)

    def _idf(self, word: str) -> float:
        n = len(self.postings.get(word, ()))
        total = len(self.documents)
        return math.log(1 + (total - n + 0.5) / (n + 0.5))

    def _bm25(self, word: str, doc_id: int, tf: float) -> float:
        doc = self.documents[doc_id]
        norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * doc.length / self.average_length))
        return self._idf(word) * norm

    def _matches(self, word: str) -> dict[int, float]:
        """Documents holding the word (full score) or a longer word containing it (partial)."""
        found: dict[int, float] = {}
        for doc_id, tf in self.postings.get(word, {}).items():
            found[doc_id] = self._bm25(word, doc_id, tf)
        if len(word) >= PARTIAL_MIN:
            for other in self.vocabulary:
                if other != word and word in other:
                    for doc_id, tf in self.postings[other].items():
                        score = PARTIAL_WEIGHT * self._bm25(other, doc_id, tf)
                        if score > found.get(doc_id, 0.0):
                            found[doc_id] = score
        return found

    def search(self, query: str, *, year: int | None = None, province: str = "", kind: str = "",
               category: str = "", region: str = "") -> list[Document]:
        """Matching documents, best first; without a query, newest edition first and each edition
        in its published order."""
        candidates = [i for i, d in enumerate(self.documents) if _passes(d, year, province, kind, category, region)]
        text = query.strip()[:MAX_QUERY]
        if not text:
            return [self.documents[i] for i in candidates]
        allowed = set(candidates)
        query_words = list(dict.fromkeys(words(text)))
        phrase = match_key(text) if len(match_key(text)) >= PHRASE_MIN else ""
        scores: dict[int, float] = {}
        if query_words:
            per_word = [self._matches(w) for w in query_words]
            every = set.intersection(*(set(m) for m in per_word)) & allowed
            for doc_id in every:
                scores[doc_id] = sum(m[doc_id] for m in per_word)
        if phrase:
            for doc_id in allowed:
                if phrase in self.documents[doc_id].phrase_text:
                    scores[doc_id] = scores.get(doc_id, 0.0) + PHRASE_BONUS * (
                        2.0 if phrase in match_key(str(self.documents[doc_id].item.get("title") or "")) else 1.0)
        ranked = sorted(scores, key=lambda i: (-scores[i], -self.documents[i].year, self.documents[i].entry_id))
        return [self.documents[i] for i in ranked]


def choices(index: Index) -> dict[str, list[Any]]:
    """What the filters offer: only what the showcase shows (consented innovations)."""
    shown = [d for d in index.documents if d.consented]
    provinces = {d.item["province_code"]: d.item["province_name_th"] for d in shown}
    return {
        "years": sorted({d.year for d in index.documents}, reverse=True),
        "provinces": sorted(provinces.items(), key=lambda p: (thai_sort_key(p[1]), p[0])),
        "kinds": sorted({d.item["organisation_kind"] for d in shown}),
        "categories": sorted({c for d in shown if (c := d.item.get("category"))}),
    }


def _passes(doc: Document, year: int | None, province: str, kind: str, category: str, region: str) -> bool:
    if year is not None and doc.year != year:
        return False
    if (province or kind or category or region) and not doc.consented:
        return False
    item = doc.item
    return ((not province or item.get("province_code") == province) and (not kind or item.get(
        "organisation_kind") == kind) and (not category or item.get("category") == category)
            and (not region or item.get("region") == region))


def segment(item: dict[str, Any]) -> list[tuple[float, str, list[str]]]:
    """An innovation's searchable fields: (weight, text in match form, words), the slow part of
    indexing (the word segmenter), done once per published edition."""
    fields = FIELDS if item.get("consent_publish") else {f: FIELDS[f] for f in UNCONSENTED_FIELDS}
    out = []
    for name, weight in fields.items():
        text = str(item.get(name) or "")
        out.append((weight, match_key(text), words(text)))
    return out


#: (year, snapshot hash) -> each awarded item with its segmented fields. A published snapshot
#: never changes, so publishing an edition segments only that edition's innovations.
_segments: dict[tuple[int, str], list[tuple[dict[str, Any], list[tuple[float, str, list[str]]]]]] = {}


def _segmented(results: PublishedResults) -> list[tuple[dict[str, Any], list[tuple[float, str, list[str]]]]]:
    key = (results.year, results.sha256)
    if key not in _segments:
        _segments[key] = [(item, segment(item)) for item in results.document["awarded"]]
    return _segments[key]


def build_index(editions: Iterable[PublishedResults]) -> Index:
    """An index of the awarded innovations of these published editions."""
    editions = list(editions)
    index = Index(key=tuple(sorted((r.year, r.sha256) for r in editions)))
    for results in sorted(editions, key=lambda r: -r.year):
        winners = {w["entry_id"] for w in results.document["winners"]}
        for item, fields in _segmented(results):
            index.add(results.year, item, fields, winner=item["entry_id"] in winners)
        for category in results.document.get("categories", []):
            index.categories.setdefault(category["code"], category)
    index.finish()
    for key in set(_segments) - set(index.key):  # a snapshot replaced or gone
        del _segments[key]
    return index


_index: Index | None = None


async def current_index() -> Index:
    """The index of every published edition, rebuilt (in a worker thread) when one changed."""
    global _index
    years = await published_years()
    key = tuple(sorted((y["year"], y["sha256"]) for y in years))
    if _index is None or _index.key != key:
        # Two requests may both rebuild after a publication; the second result simply replaces
        # the first, which is the same.
        editions = [await get_results(y["year"]) for y in years]
        _index = await asyncio.to_thread(build_index, editions)
    return _index


def cached_index() -> Index | None:
    """The index as last built, if any (for benchmarks: no database read)."""
    return _index


async def search(query: str = "", **filters: Any) -> list[Document]:
    return (await current_index()).search(query, **filters)
