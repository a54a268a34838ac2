"""The drug table: one row per drug, and the fixed NONMEM ``CMT`` number of each route.

Two data files beside this module describe every drug the PK model can dose:

``drugs.csv``
    One row per drug: ``name``; ``aliases`` (space-separated synonyms accepted
    on input); ``structure``, the PK block that :func:`neuroadapt.model.pk.build_pk`
    builds for it (one of :data:`STRUCTURES`); ``stem``, the drug's part of its
    parameter names (``t_half_<stem>``, ``ka_<stem>_<route>``, ...); ``mw``, the
    molar-mass parameter (doses are mg of base); ``ligands``, the species with a
    brain effect site that the drug brings into the system, in receptor order;
    ``routes``, the routes it can be given by; ``volume`` (one-compartment drugs
    only): ``v`` for a volume ``v_<stem>`` per kg of body weight, ``cl`` for a
    volume ``cl_<stem> / k`` from a clearance and the elimination rate; ``note``.
    The row order is the order of :data:`neuroadapt.model.routes.DRUGS` and of
    the ligands; it does not affect any ``CMT`` number.
``cmt.csv``
    The ledger of ``CMT`` numbers (``cmt``, ``drug``, ``route``): 1, 2, 3, ... in
    order, one per (drug, route) pair of ``drugs.csv``. Numbers are fixed for
    ever so that NONMEM files written earlier keep their meaning: a new drug or
    route appends rows at the end; no row is renumbered or removed.

:func:`load_drug_table` checks both files and that every parameter the PK
block and the receptor read is in the parameter table for both species, and
raises :class:`DrugTableError` with a one-line message otherwise. The names a
block reads are listed by :func:`pk_parameter_names` (a test holds
``build_pk`` to them) and :func:`receptor_parameter_names`. How to add a drug
is summarised in ``docs/model.md`` ("Adding a drug").

Adding a drug
-------------
A one-compartment drug ``X`` given by ``oral`` and ``iv`` needs no code edit:

1. a row at the end of ``drugs.csv``: ``X,,one_compartment,X,mw_X,X,oral iv,v,``
   (appending keeps the ligand order, the order in which the receptor sums, of
   the drugs already there);
2. one row per route at the end of ``cmt.csv``, numbered on from the last
   (``22,X,oral`` and ``23,X,iv``);
3. parameter-table rows, for ``human`` and ``rat`` (or ``all``), each with a
   unit, bounds, CV and a citation or "assumption: why": ``mw_X`` (g/mol, e.g.
   PubChem), ``t_half_X`` (elimination half-life, h), ``v_X`` (volume of
   distribution, L/kg; or ``cl_X``, clearance in L/h, with ``volume`` ``cl``),
   ``t_half_ke0_X`` (blood-brain equilibration half-time, min), and for every
   route but IV ``ka_X_<route>`` (absorption rate constant, 1/h) and
   ``f_X_<route>`` (bioavailability); for the receptor ``affinity_ratio_X``
   (its MOR dissociation constant over morphine's), and for an agonist
   ``efficacy_X`` (operational tau) and ``intrinsic_activity_X`` (its weight in
   the agonist occupancy CAR, 0-1); an antagonist has neither.

A ``mammillary3`` drug needs ``cl_X``, ``q2_X``, ``q3_X`` (L/min), ``v1_X``,
``v2_X``, ``v3_X`` (L), ``wt_ref_X`` (kg), ``allometric_exp_cl_X`` and
``t_half_ke0_X`` instead of ``t_half_X``, ``v_X``. What follows without code:
the drug and its aliases in regimens, its route checks, its PK block and effect
site, its receptor ligand, its NONMEM ``CMT`` numbers and the PK and receptor
modules' parameter declarations. A new route (an entry of
``routes.ROUTES``) and a new structure are code.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files

from neuroadapt.parameters import read_rows

#: PK blocks ``build_pk`` knows. ``heroin_chain``: heroin -> 6-MAM -> morphine ->
#: M3G/M6G with its own route handling (only the drugs of ``CHAIN_DRUGS``);
#: ``one_compartment``: one compartment, first-order absorption from a depot for
#: every route but IV; ``mammillary3``: three-compartment mammillary disposition
#: with allometric scaling, first-order absorption for every route but IV.
STRUCTURES: tuple[str, ...] = ("heroin_chain", "one_compartment", "mammillary3")
#: The entries of the heroin chain (its code handles each of them by name).
CHAIN_DRUGS: tuple[str, ...] = ("heroin", "morphine")
#: How a one-compartment drug's volume is found (see ``drugs.csv``, column ``volume``).
VOLUMES: tuple[str, ...] = ("v", "cl")
#: The ligand whose dissociation constant (``kd_morphine``) the others are scaled to.
REFERENCE_LIGAND = "morphine"
#: Species every drug parameter must have a value for.
SPECIES: tuple[str, ...] = ("human", "rat")

DRUG_COLUMNS = ("name", "aliases", "structure", "stem", "mw", "ligands", "routes", "volume", "note")
CMT_COLUMNS = ("cmt", "drug", "route")

_CHAIN_SHARED = (
    "t_half_morphine",
    "cl_morphine",
    "t_half_m6g",
    "cl_m6g",
    "t_half_m3g",
    "cl_m3g",
    "frac_morphine_to_m6g",
    "frac_morphine_to_m3g",
    "t_half_ke0_morphine",
    "t_half_ke0_m6g",
)
_CHAIN_HEROIN = (
    "t_half_heroin",
    "cl_heroin",
    "t_half_6mam",
    "v_6mam",
    "frac_heroin_to_6mam",
    "frac_6mam_to_morphine",
    "t_half_ke0_heroin",
    "t_half_ke0_6mam",
    "kp_6mam",
)
_MAMMILLARY3 = ("cl", "q2", "q3", "v1", "v2", "v3", "wt_ref", "allometric_exp_cl", "t_half_ke0")


class DrugTableError(ValueError):
    """The drug table or the CMT ledger is inconsistent, or a drug lacks a parameter."""


@dataclass(frozen=True)
class Drug:
    """One row of ``drugs.csv`` (see the module docstring for the columns)."""

    name: str
    aliases: tuple[str, ...]
    structure: str
    stem: str
    mw: str
    ligands: tuple[str, ...]
    routes: tuple[str, ...]
    volume: str = ""
    note: str = ""


@dataclass(frozen=True)
class DrugTable:
    """The checked drug table and CMT ledger.

    Attributes
    ----------
    drugs
        The rows, in table order.
    cmt
        ``(drug, route) -> CMT number``, in CMT order.
    """

    drugs: tuple[Drug, ...]
    cmt: dict[tuple[str, str], int]

    @property
    def names(self) -> tuple[str, ...]:
        """Drug names in table order."""
        return tuple(d.name for d in self.drugs)

    @property
    def aliases(self) -> dict[str, str]:
        """Drug synonym -> canonical name."""
        return {a: d.name for d in self.drugs for a in d.aliases}

    @property
    def ligands(self) -> tuple[str, ...]:
        """Every ligand with a brain effect site, in receptor (table) order."""
        return tuple(dict.fromkeys(g for d in self.drugs for g in d.ligands))

    def drug(self, name: str) -> Drug:
        """The row of one drug."""
        for d in self.drugs:
            if d.name == name:
                return d
        raise KeyError(name)


def pk_parameter_names(drug: Drug) -> tuple[str, ...]:
    """Parameters the PK block of ``drug`` reads when only this drug is dosed (every route)."""
    s = drug.stem
    names = ["body_weight", drug.mw]
    if drug.structure == "heroin_chain":
        names += _CHAIN_SHARED
        if drug.name == "heroin":
            names += _CHAIN_HEROIN
        for r in drug.routes:
            if r == "oral":
                names += ["ka_oral", f"f_{s}_oral_as_morphine" if s == "heroin" else f"f_{s}_oral"]
            elif r != "iv":  # morphine's IM depot shares the SC parameters
                rs = r if s == "heroin" else "sc"
                names += [f"ka_{s}_{rs}", f"f_{s}_{rs}"]
        return tuple(dict.fromkeys(names))
    if drug.structure == "one_compartment":
        names += [f"t_half_{s}", f"{drug.volume}_{s}", f"t_half_ke0_{s}"]
    else:
        names += [f"{p}_{s}" for p in _MAMMILLARY3]
    for r in drug.routes:
        if r != "iv":
            names += [f"ka_{s}_{r}", f"f_{s}_{r}"]
    return tuple(dict.fromkeys(names))


def receptor_parameter_names(ligand: str, available: Sequence[str] | set[str]) -> tuple[str, ...]:
    """Receptor parameters of one ligand that the table holds.

    Every ligand but the reference needs ``affinity_ratio_<ligand>``; an agonist
    has ``efficacy_<ligand>`` and ``intrinsic_activity_<ligand>``, an antagonist
    neither (the engine then uses tau = 0 and e = 0).
    """
    names = [] if ligand == REFERENCE_LIGAND else [f"affinity_ratio_{ligand}"]
    names += [
        f"{p}_{ligand}" for p in ("efficacy", "intrinsic_activity") if f"{p}_{ligand}" in available
    ]
    return tuple(names)


def _read(path: str | None, default: str) -> list[dict[str, str]]:
    if path is None:
        text = files("neuroadapt.model").joinpath(default).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return list(csv.DictReader(text.splitlines()))


def _words(value: str | None) -> tuple[str, ...]:
    return tuple((value or "").split())


def _parse_drugs(rows: list[dict[str, str]], routes: Sequence[str]) -> tuple[Drug, ...]:
    out: list[Drug] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):
        missing = [c for c in DRUG_COLUMNS if c not in row]
        if missing:
            raise DrugTableError(f"drugs.csv line {i}: missing column(s) {', '.join(missing)}")
        name = (row["name"] or "").strip()
        where = f"drugs.csv line {i} ({name or '?'})"
        d = Drug(
            name=name,
            aliases=_words(row["aliases"]),
            structure=(row["structure"] or "").strip(),
            stem=(row["stem"] or "").strip(),
            mw=(row["mw"] or "").strip(),
            ligands=_words(row["ligands"]),
            routes=_words(row["routes"]),
            volume=(row["volume"] or "").strip(),
            note=(row["note"] or "").strip(),
        )
        if not name or not d.stem or not d.mw or not d.ligands or not d.routes:
            raise DrugTableError(f"{where}: name, stem, mw, ligands and routes must not be empty")
        for word in (name, *d.aliases):
            if word in seen or word in routes:
                raise DrugTableError(f"{where}: name or alias '{word}' is already taken")
            seen.add(word)
        if d.structure not in STRUCTURES:
            raise DrugTableError(
                f"{where}: unknown structure '{d.structure}' (one of {', '.join(STRUCTURES)})"
            )
        if (d.structure == "heroin_chain") != (name in CHAIN_DRUGS):
            raise DrugTableError(
                f"{where}: structure heroin_chain is for {' and '.join(CHAIN_DRUGS)} only; "
                "a new drug is one_compartment or mammillary3"
            )
        if d.structure == "heroin_chain" and d.stem != name:
            raise DrugTableError(f"{where}: a heroin_chain drug's stem is its name")
        if d.structure != "heroin_chain" and d.ligands != (d.stem,):
            raise DrugTableError(f"{where}: a {d.structure} drug's one ligand is its stem")
        if (d.structure == "one_compartment") != (d.volume != ""):
            raise DrugTableError(
                f"{where}: volume ({' or '.join(VOLUMES)}) is for one_compartment drugs only"
            )
        if d.volume and d.volume not in VOLUMES:
            raise DrugTableError(f"{where}: volume '{d.volume}' is not {' or '.join(VOLUMES)}")
        bad = [r for r in d.routes if r not in routes]
        if bad or len(set(d.routes)) != len(d.routes):
            raise DrugTableError(
                f"{where}: routes must be distinct, each one of {', '.join(routes)}"
            )
        out.append(d)
    return tuple(out)


def _parse_cmt(rows: list[dict[str, str]], drugs: tuple[Drug, ...]) -> dict[tuple[str, str], int]:
    allowed = {(d.name, r) for d in drugs for r in d.routes}
    cmt: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows, start=2):
        if any(c not in row for c in CMT_COLUMNS):
            raise DrugTableError(f"cmt.csv line {i}: columns must be {', '.join(CMT_COLUMNS)}")
        pair = ((row["drug"] or "").strip(), (row["route"] or "").strip())
        number = (row["cmt"] or "").strip()
        if number != str(len(cmt) + 1):
            raise DrugTableError(
                f"cmt.csv line {i}: CMT {number or '?'} for {pair[0]} {pair[1]}: numbers run "
                f"1, 2, 3, ... without gaps or repeats (the next is {len(cmt) + 1}; append only)"
            )
        if pair in cmt:
            raise DrugTableError(
                f"cmt.csv line {i}: {pair[0]} {pair[1]} already has CMT {cmt[pair]}"
            )
        if pair not in allowed:
            raise DrugTableError(
                f"cmt.csv line {i}: {pair[0]} {pair[1]} is not a drug and route of drugs.csv"
            )
        cmt[pair] = len(cmt) + 1
    missing = sorted(allowed - set(cmt))
    if missing:
        raise DrugTableError(
            f"cmt.csv: no CMT number for {missing[0][0]} {missing[0][1]}; append the row "
            f"'{len(cmt) + 1},{missing[0][0]},{missing[0][1]}'"
        )
    return cmt


def _check_parameters(drugs: tuple[Drug, ...], rows: Sequence[Mapping[str, str]]) -> None:
    have = {s: set() for s in SPECIES}
    for row in rows:
        for s in SPECIES if row["species"] == "all" else (row["species"],):
            have.setdefault(s, set()).add(row["name"])
    for d in drugs:
        for s in SPECIES:
            names = list(pk_parameter_names(d))
            for lig in d.ligands:
                names += receptor_parameter_names(lig, have[s])
            absent = [n for n in names if n not in have[s]]
            if absent:
                raise DrugTableError(
                    f"drug '{d.name}': the parameter table has no {s} value for {', '.join(absent)}"
                )
            for lig in d.ligands:
                agonist = {f"efficacy_{lig}", f"intrinsic_activity_{lig}"} & have[s]
                if len(agonist) == 1:
                    raise DrugTableError(
                        f"ligand '{lig}': an agonist needs both efficacy_{lig} and "
                        f"intrinsic_activity_{lig}, an antagonist neither ({s})"
                    )


def load_drug_table(
    routes: Sequence[str],
    drugs_path: str | None = None,
    cmt_path: str | None = None,
    parameter_rows: Sequence[Mapping[str, str]] | None = None,
) -> DrugTable:
    """Read and check the drug table and the CMT ledger.

    Parameters
    ----------
    routes
        The administration routes the model knows.
    drugs_path, cmt_path
        Other ``drugs.csv`` / ``cmt.csv`` files (default: the shipped ones).
    parameter_rows
        Raw parameter-table rows to check the drugs' parameters against
        (default: the shipped parameter table).

    Returns
    -------
    DrugTable

    Raises
    ------
    DrugTableError
        With a one-line message naming the file, line and problem.
    """
    drugs = _parse_drugs(_read(drugs_path, "drugs.csv"), routes)
    cmt = _parse_cmt(_read(cmt_path, "cmt.csv"), drugs)
    _check_parameters(drugs, read_rows() if parameter_rows is None else parameter_rows)
    return DrugTable(drugs=drugs, cmt=cmt)


def declared_units(names: Sequence[str], rows: Sequence[Mapping[str, str]] | None = None) -> dict:
    """Sorted ``name -> unit`` of parameters: the unit of the human (else the first) table row."""
    rows = read_rows() if rows is None else rows
    first: dict[str, str] = {}
    human: dict[str, str] = {}
    for row in rows:
        first.setdefault(row["name"], row["unit"])
        if row["species"] in ("human", "all"):
            human.setdefault(row["name"], row["unit"])
    return {n: human.get(n, first[n]) for n in sorted(set(names)) if n in first}
