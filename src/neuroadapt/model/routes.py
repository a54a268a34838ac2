"""Drugs and administration routes the model knows.

Each (drug, route) pair is a dosing compartment of the PK model. The drugs, their
routes and the fixed ``CMT`` numbers come from the drug table
(:mod:`neuroadapt.model.drugs`); this module is the face that the scenario
parser, the NONMEM-style event tables and the PK module share.
"""

from __future__ import annotations

from neuroadapt.model.drugs import DrugTable, load_drug_table

#: Administration routes, in the order regimens sort them.
ROUTES: tuple[str, ...] = ("iv", "smoked", "intranasal", "im", "sc", "oral", "sublingual")

#: The checked drug table and CMT ledger (``drugs.csv``, ``cmt.csv`` beside this module).
DRUG_TABLE: DrugTable = load_drug_table(ROUTES)

#: Drugs with a PK block, in drug-table order.
DRUGS: tuple[str, ...] = DRUG_TABLE.names

#: Routes each drug can be given by (the ``routes`` column of the drug table).
ALLOWED_ROUTES: dict[str, tuple[str, ...]] = {d.name: d.routes for d in DRUG_TABLE.drugs}

#: Route synonyms accepted on input (mapped to the canonical name).
ROUTE_ALIASES: dict[str, str] = {
    "intravenous": "iv",
    "inhaled": "smoked",
    "inhalation": "smoked",
    "in": "intranasal",
    "nasal": "intranasal",
    "intramuscular": "im",
    "subcutaneous": "sc",
    "po": "oral",
    "sl": "sublingual",
}

#: Synonyms for drugs (mapped to the canonical name; the ``aliases`` column).
DRUG_ALIASES: dict[str, str] = DRUG_TABLE.aliases


def dosing_compartments() -> list[tuple[str, str]]:
    """Return every allowed (drug, route) pair in ``CMT`` order.

    The position in this list plus one is the pair's ``CMT`` number in
    NONMEM-style event tables; the numbers are fixed in ``cmt.csv``, and a new
    drug or route appends pairs at the end.
    """
    return list(DRUG_TABLE.cmt)


def cmt_number(drug: str, route: str) -> int:
    """Return the 1-based NONMEM ``CMT`` number of a dosing compartment."""
    try:
        return DRUG_TABLE.cmt[(drug, route)]
    except KeyError:
        raise ValueError(f"{drug} {route} is not a dosing compartment") from None


def cmt_pair(cmt: int) -> tuple[str, str]:
    """Return the (drug, route) pair of a 1-based ``CMT`` number."""
    pairs = dosing_compartments()
    if not 1 <= cmt <= len(pairs):
        raise ValueError(f"CMT {cmt} is not a dosing compartment (allowed 1..{len(pairs)})")
    return pairs[cmt - 1]
