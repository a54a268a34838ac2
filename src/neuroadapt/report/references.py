"""The report's numbered reference list and its list of assumptions, from source strings.

:class:`References` turns the free-text ``source`` of a parameter or target
(``"Rook 2006 Clin Pharmacokinet, doi:10.2165/..."``, ``"assumption: ..."``)
into citation markers (``[1, 3]``, ``[A2]``), one numbered entry per work
(identified by DOI, PMID, PMC id or first author and year) and one entry per
assumption with the rows that rely on it.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

__all__ = ["References"]

_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
#: Identifiers of a cited work and where they link to (in the reference list only).
_LINKS = (
    (re.compile(r"doi:\s*(10\.\S+?)(?=[,;)\s]|$)", re.I), "https://doi.org/{}"),
    (re.compile(r"PMID:\s*(\d+)"), "https://pubmed.ncbi.nlm.nih.gov/{}/"),
    (re.compile(r"\b(PMC\d+)"), "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"),
)


def _split_top(text: str, sep: str = ";") -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in [*out, cur] if p.strip()]


def _parenthesised(text: str) -> list[str]:
    """Contents of the top-level parenthesised groups."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(text[start:i])
    return out


_AUTHOR = r"[A-Z](?:[^\W\d_]|['\-])+(?:/[A-Z](?:[^\W\d_]|['\-])+)?"
_CITE = re.compile(
    rf"{_AUTHOR}(?: [A-Z]{{1,3}})?(?: et al\.?| (?:&|and) {_AUTHOR}(?: [A-Z]{{1,3}})?)?"
    r",? (?:19|20)\d{2}\b[^;]*"
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _strip_note(text: str) -> str:
    i = text.find(" (")
    return text[:i].strip() if i > 0 else text.strip()


def _embedded(text: str) -> list[str]:
    """Author-year citations inside the parenthesised groups of ``text``."""
    out = []
    for group in _parenthesised(text):
        for piece in _split_top(group):
            m = _CITE.search(piece)
            if m:
                out.append(_strip_note(piece[m.start() :]))
    return out


def _citations(source: str) -> list[str]:
    """The works a parameter or target source cites (empty for a bare assumption)."""
    source = source.strip()
    lowered = source.lower()
    if lowered.startswith("standard"):
        return [_strip_note(c) for g in _parenthesised(source) for c in _split_top(g)]
    if lowered.startswith(("assumption", "fitted")):
        return _embedded(source)
    out = []
    for piece in _split_top(source):
        out.append(_strip_note(piece))
        out.extend(_embedded(piece))
    return out


def _keys(citation: str) -> set[str]:
    """Identities of a cited work: DOI, PMID, PMC id and first author + year."""
    if citation.lower().startswith("pubchem"):
        return {"pubchem"}
    keys = {f"id:{m.group(1).lower()}" for rx, _ in _LINKS for m in rx.finditer(citation)}
    text = _ascii(citation)
    year = _YEAR.search(text)
    first = text.split()[0].strip(",").lower()
    keys.add(f"{first}:{year.group()}" if year else " ".join(text.lower().split()))
    return keys


class References:
    """A numbered reference list with deduplication, and a separate list of assumptions.

    Works are identified by DOI, PMID, PMC id or first author and year, so
    ``"Rook 2006 Clin Pharmacokinet"`` and ``"Rook EJ et al. 2006 Clin
    Pharmacokinet 45:401"`` are one reference (shown in its longest form).
    Sources starting with ``assumption`` are numbered ``A1, A2, ...``; works
    they cite still enter the reference list.
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._alias: dict[str, int] = {}
        self._pubchem: list[str] = []
        self._assumptions: list[str] = []
        self._users: dict[str, list[str]] = {}

    def _add(self, citation: str) -> int:
        keys = _keys(citation)
        hits = sorted({self._alias[k] for k in keys if k in self._alias})
        if hits:
            idx = hits[0]
            if len(citation) > len(self._text[idx]):
                self._text[idx] = citation
        else:
            idx = len(self._text)
            self._text.append(citation)
        for k in keys:
            self._alias.setdefault(k, idx)
        if "pubchem" in keys:
            self._pubchem.append(citation.split()[-1])
        return idx

    def cite(self, source: str, user: str | None = None) -> list[str]:
        """Register a source; return its labels (``"3"``, ``"A2"``) in citation order."""
        labels = []
        if source.strip().lower().startswith("assumption"):
            if source not in self._assumptions:
                self._assumptions.append(source)
            labels.append(f"A{self._assumptions.index(source) + 1}")
            users = self._users.setdefault(source, [])
            if user and user not in users:
                users.append(user)
        for c in _citations(source):
            label = str(self._add(c) + 1)
            if label not in labels:
                labels.append(label)
        return labels

    def marker(self, source: str, user: str | None = None) -> str:
        """``[1, 3]`` style citation marker for a source (empty if nothing is cited)."""
        labels = self.cite(source, user)
        return f"[{', '.join(labels)}]" if labels else ""

    def entries(self) -> list[tuple[int, Markup]]:
        """Numbered references, with DOI, PMID and PMC identifiers as links."""
        out = []
        for i, text in enumerate(self._text, start=1):
            if text.lower().startswith("pubchem"):
                text = "PubChem compound database, CIDs " + ", ".join(dict.fromkeys(self._pubchem))
            out.append((i, _linkify(text)))
        return out

    def assumptions(self) -> list[tuple[str, str, str]]:
        """``(label, assumption text, parameters or rows that rely on it)``."""
        return [
            (f"A{i}", a[len("assumption") :].lstrip(" :"), ", ".join(self._users.get(a, [])))
            for i, a in enumerate(self._assumptions, start=1)
        ]


def _linkify(text: str) -> Markup:
    html = str(escape(text))
    for pattern, url in _LINKS:
        html = pattern.sub(
            lambda m, u=url: f'<a href="{u.format(m.group(1))}">{m.group(0)}</a>', html
        )
    return Markup(html)
