"""Drugs and administration routes the model knows.

Each (drug, route) pair is a dosing compartment of the PK model. This module
is the single list that the scenario parser, the NONMEM-style event tables
(CMT numbers) and the PK module share.
"""

from __future__ import annotations

#: Drugs with a PK block, in compartment-numbering order.
DRUGS: tuple[str, ...] = (
    "heroin",
    "morphine",
    "methadone",
    "buprenorphine",
    "naloxone",
    "naltrexone",
    "fentanyl",
)

#: Administration routes, in compartment-numbering order.
ROUTES: tuple[str, ...] = ("iv", "smoked", "intranasal", "im", "sc", "oral", "sublingual")

#: Routes each drug can be given by.
ALLOWED_ROUTES: dict[str, tuple[str, ...]] = {
    "heroin": ("iv", "smoked", "intranasal", "im", "sc", "oral"),
    "morphine": ("iv", "im", "sc", "oral"),
    "methadone": ("oral", "iv"),
    "buprenorphine": ("sublingual", "iv"),
    "naloxone": ("iv", "im", "intranasal", "sc"),
    "naltrexone": ("oral",),
    # no smoked fentanyl: no sourced human bioavailability and absorption rate
    # for smoked street fentanyl yet (see docs/model.md, Fentanyl)
    "fentanyl": ("iv", "intranasal"),
}

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

#: Synonyms for drugs (mapped to the canonical name).
DRUG_ALIASES: dict[str, str] = {"diamorphine": "heroin", "diacetylmorphine": "heroin"}


def dosing_compartments() -> list[tuple[str, str]]:
    """Return every allowed (drug, route) pair in a fixed order.

    The position in this list plus one is the ``CMT`` number used in
    NONMEM-style event tables.
    """
    return [(d, r) for d in DRUGS for r in ROUTES if r in ALLOWED_ROUTES[d]]


def cmt_number(drug: str, route: str) -> int:
    """Return the 1-based NONMEM ``CMT`` number of a dosing compartment."""
    return dosing_compartments().index((drug, route)) + 1


def cmt_pair(cmt: int) -> tuple[str, str]:
    """Return the (drug, route) pair of a 1-based ``CMT`` number."""
    pairs = dosing_compartments()
    if not 1 <= cmt <= len(pairs):
        raise ValueError(f"CMT {cmt} is not a dosing compartment (allowed 1..{len(pairs)})")
    return pairs[cmt - 1]
