"""Walk a generated HTML report: its table of contents, sections, headings, figures and tables.

Used by the report tests to check that every heading sits over its own content.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

PNG = b"\x89PNG\r\n\x1a\n"
#: Words that name a group of people in a table header; such a header must carry its n.
GROUP_WORDS = ("users", "controls", "continued use", "detoxified", "relapsed")
N_LABEL = re.compile(r"\(n = \d+\)")


@dataclass
class Table:
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Section:
    id: str
    heading: str = ""
    text: str = ""
    images: list[tuple[str, str]] = field(default_factory=list)  # (src, alt)
    tables: list[Table] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)  # (tag, class)


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.toc: list[tuple[str, str]] = []
        self.sections: list[Section] = []
        self.stray_h2: list[str] = []
        self._in_nav = False
        self._link: list[str] | None = None
        self._sec: Section | None = None
        self._h2: list[str] | None = None
        self._table: Table | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._header_row = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav":
            self._in_nav = True
        elif tag == "a" and self._in_nav:
            self._link = [a.get("href", "")]
        elif tag == "section":
            self._sec = Section(a.get("id", ""))
            self.sections.append(self._sec)
        elif tag == "h2":
            self._h2 = []
        if self._sec is None:
            return
        self._sec.tags.append((tag, a.get("class") or ""))
        if tag == "img":
            self._sec.images.append((a.get("src", ""), a.get("alt", "")))
        elif tag == "table":
            self._table = Table()
            self._sec.tables.append(self._table)
        elif tag == "tr":
            self._row = []
            self._header_row = False
        elif tag in ("td", "th"):
            self._cell = []
            self._header_row = tag == "th"

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_nav = False
        elif tag == "a" and self._link is not None:
            self.toc.append((self._link[0], "".join(self._link[1:]).strip()))
            self._link = None
        elif tag == "h2" and self._h2 is not None:
            text = " ".join("".join(self._h2).split())
            if self._sec is None or self._sec.heading:
                self.stray_h2.append(text)
            else:
                self._sec.heading = text
            self._h2 = None
        elif tag == "section":
            self._sec = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._header_row and not self._table.header:
                self._table.header = self._row
            else:
                self._table.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._link is not None:
            self._link.append(data)
        if self._h2 is not None:
            self._h2.append(data)
        elif self._sec is not None:
            self._sec.text += data
        if self._cell is not None:
            self._cell.append(data)


def walk(html: str) -> _Walker:
    """Parse a report into its table of contents and sections."""
    w = _Walker()
    w.feed(html)
    w.close()
    return w


#: Text that only the section of that heading holds (its own content): in its
#: paragraphs, table headers or image alt texts; ``<ol class="references">`` for
#: the references.
OWN_CONTENT = {
    "Summary": "simulated time",
    "Cohort results": "Overdose episodes",
    "Model structure": "Drawn from the model registry",
    "Structural and functional abnormalities": "Regional gray-matter volume",
    "Neurotransmitter dysregulation": "Top: dopamine",
    "The signalling pathway": "receptor-to-cAMP pathway",
    "Neuroinflammation": "Microglia/astrocyte activation and pro-inflammatory",
    "Cognitive and neurological consequences": "cognitive domains",
    "Recovery with abstinence": "end-of-use deficit remaining",
    "Behaviour: escalation, lapse and relapse, overdose after abstinence": (
        "Each person decides every day"
    ),
    "Methods": "This paragraph is generated from the parameter table",
    "Calibration against the literature": "By status:",
    "What this model cannot do": "Receptor binding is at equilibrium with the effect-site",
    "Parameters": "name value unit CV fitted",
    "References": '<ol class="references">',
    "Assumptions": "assumption used by",
    "Provenance": "parameter hash",
}


def _own(sec: Section) -> str:
    return " ".join(
        [
            sec.text,
            *(" ".join(t.header) for t in sec.tables),
            *(alt for _, alt in sec.images),
            *(f'<{tag} class="{cls}">' for tag, cls in sec.tags if cls),
        ]
    )


def check_report(
    html: str, figure_titles: dict[str, str], own: dict[str, str] | None = None
) -> list[Section]:
    """Assert that the report's headings, tables and figures match; return its sections.

    ``figure_titles`` maps section id to title for the figure sections, whose
    image's alt text is the title. ``own`` maps headings to the content only
    their section holds (default :data:`OWN_CONTENT`); every heading it names
    must be in the report, over that content and nowhere else.
    """
    own = OWN_CONTENT if own is None else own
    w = walk(html)
    assert not w.stray_h2, f"headings outside a section or a second heading: {w.stray_h2}"
    by_id = {s.id: s for s in w.sections}
    assert len(by_id) == len(w.sections), "section ids are not unique"
    # the table of contents lists every section, in order, with its own heading
    assert [href for href, _ in w.toc] == [f"#{s.id}" for s in w.sections]
    for href, title in w.toc:
        sec = by_id[href[1:]]
        assert title, f"empty table-of-contents entry for {href}"
        assert sec.heading == title, f"{href}: heading {sec.heading!r} under link {title!r}"
    for sec in w.sections:
        assert sec.heading, f"section {sec.id} has an empty heading"
        assert _own(sec).strip() or sec.images, f"section {sec.heading!r} has no content"
        assert "Not computed" not in sec.text, f"{sec.heading!r}: panel not computed"
        for src, alt in sec.images:
            assert alt, f"{sec.heading!r}: image without alt text"
            assert src.startswith("data:image/png;base64,"), f"{sec.heading!r}: {src[:30]}"
            assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG, sec.heading
        for t in sec.tables:
            assert t.rows, f"{sec.heading!r}: a table without rows"
            if sec.id == "summary":
                assert all("n/a" not in r[-1] for r in t.rows), f"summary row without data: {t}"
            for h in t.header:
                if any(word in h for word in GROUP_WORDS) and h != "used by":
                    assert N_LABEL.search(h), f"{sec.heading!r}: group {h!r} without its n"
        if sec.id in figure_titles:
            assert sec.heading == figure_titles[sec.id]
            assert [alt for _, alt in sec.images] == [sec.heading], sec.heading
    # each heading is followed by its own content (nothing shifted by one)
    headings = [s.heading for s in w.sections]
    for heading, marker in own.items():
        assert heading in headings, f"no section {heading!r}"
        holders = [s.heading for s in w.sections if marker in _own(s)]
        assert holders == [heading], f"{marker!r} (content of {heading!r}) is under {holders}"
    return w.sections
