"""Pharmacokinetics: heroin -> 6-MAM -> morphine -> M3G/M6G, fentanyl, treatments, effect sites.

Process
-------
Heroin (diacetylmorphine) is deacetylated in blood within minutes to
6-monoacetylmorphine (6-MAM), which is hydrolysed to morphine; morphine is
glucuronidated to morphine-3-glucuronide (M3G, inactive) and
morphine-6-glucuronide (M6G, active) [Rook 2006; Inturrisi 1984; Christrup
1997]. Routes differ in bioavailability and absorption: IV is a bolus into
blood; smoked ("chasing the dragon"), intranasal, IM and SC absorb from a
depot; oral heroin is converted on first pass and delivers morphine only
[Inturrisi 1984; Halbsguth 2008]. Treatments (methadone, buprenorphine,
naloxone, naltrexone) are one-compartment drugs with first-order
absorption. Fentanyl has the three-compartment mammillary disposition of the
FDA translational overdose model (central V1 exchanging with a rapid and a
slow peripheral compartment, clearances scaled by ``(WT/70)^0.75`` and
volumes by ``WT/70``) [Algera 2021, as tabulated in Mann 2022]:

    dA1/dt = -(CL + Q2 + Q3)/V1 A1 + Q2/V2 A2 + Q3/V3 A3
    dA2/dt = Q2/V1 A1 - Q2/V2 A2
    dA3/dt = Q3/V1 A1 - Q3/V3 A3

Each active species reaches the brain through its own effect compartment
(``dCe/dt = ke0 (Kp Cp - Ce)``): heroin and 6-MAM in minutes, morphine
over hours [Dahan 2004].

Heroin, its metabolites and the treatments are one-compartment (a
simplification of Rook's sequential two-compartment fit; see docs/model.md),
so their block of the system matrix is lower triangular. Fentanyl's
mammillary block is not (flows run both ways between central and peripheral
compartments), but it is similar to a symmetric matrix, so its eigenvalues are
real, negative and distinct; with the effect sites (which feed nothing back)
the whole matrix stays diagonalisable with real eigenvalues, and the engine
solves it exactly by modal superposition.

Which block a drug gets, its molar mass, its ligands and its parameter-name
stem are its row of the drug table (``model/drugs.csv``, read by
:mod:`neuroadapt.model.drugs`): a new one-compartment or mammillary drug is a
table row and its parameters, not code.

States and units: amounts in micromol, effect-site concentrations in nM
(plasma-equivalent), time in hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neuroadapt.model.drugs import Drug, DrugTable, declared_units, pk_parameter_names
from neuroadapt.model.routes import DRUG_TABLE

#: The fast layer's module declaration (``neuroadapt.model.system`` lists it).
NAME = "pk"
TITLE = "pharmacokinetics"
#: States (name -> unit); the engine starts them at the drug-free steady state.
STATES: dict[str, str] = {
    "heroin": "umol",
    "6mam": "umol",
    "morphine": "umol",
    "m6g": "umol",
    "m3g": "umol",
    "depots": "umol",
    "brain effect sites": "nM",
}
INPUTS = ("doses",)
OUTPUTS = {"effect_site_concentrations": ("nM", "brain effect-site concentration of each ligand")}
#: Daily records of this module for the slow clock (none: the receptor reads its output).
DAILY: dict[str, tuple[str, str]] = {}
#: Parameters of the table this module's equations read (name -> unit), from the
#: drug table: what each drug's block reads (``drugs.pk_parameter_names``), and the
#: molar masses of the heroin chain's metabolites (the equations work in micromol;
#: these convert the metabolites' amounts to mass).
PARAMETERS: dict[str, str] = declared_units(
    [n for d in DRUG_TABLE.drugs for n in pk_parameter_names(d)] + ["mw_6mam", "mw_m6g", "mw_m3g"]
)


LN2 = math.log(2.0)
NM_PER_UMOL_PER_L = 1000.0
UMOL_PER_MMOL = 1000.0

#: Ligands with a brain effect site, in receptor order (drug-table order).
LIGANDS: tuple[str, ...] = DRUG_TABLE.ligands

#: Which ligands each dosed drug brings into the system.
DRUG_LIGANDS: dict[str, tuple[str, ...]] = {d.name: d.ligands for d in DRUG_TABLE.drugs}

#: Molar-mass parameter of each dosed drug (doses are mg of base).
DRUG_MW: dict[str, str] = {d.name: d.mw for d in DRUG_TABLE.drugs}


@dataclass
class LinearPK:
    """A linear PK system ``dx/dt = A x + inputs`` for a cohort.

    Attributes
    ----------
    states
        State names, in matrix order.
    units
        Unit of each state.
    matrix
        System matrices, shape ``(subjects, n, n)``, lower triangular.
    dose_state
        For each dosing pair (drug, route): index of the state that receives it.
    dose_factor
        For each dosing pair: micromol entering that state per mg dosed,
        shape ``(subjects,)`` (bioavailability and molar conversion).
    effect_state
        For each ligand present: index of its effect-site state (nM).
    central_state
        For each species: index of its blood (central) amount state.
    volume
        For each species: volume of distribution in L, shape ``(subjects,)``.
    flows
        Named first-order flows ``(source, target, label)`` for diagrams and SBML.
    """

    states: list[str]
    units: list[str]
    matrix: np.ndarray
    dose_state: dict[tuple[str, str], int]
    dose_factor: dict[tuple[str, str], np.ndarray]
    effect_state: dict[str, int]
    central_state: dict[str, int]
    volume: dict[str, np.ndarray]
    flows: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of states."""
        return len(self.states)


class _Builder:
    """Collects states and first-order rates, then fills the matrix."""

    def __init__(self, n_subjects: int):
        self.n_subjects = n_subjects
        self.states: list[str] = []
        self.units: list[str] = []
        self.terms: list[tuple[int, int, np.ndarray]] = []
        self.flows: list[tuple[str, str, str]] = []

    def state(self, name: str, unit: str = "umol") -> int:
        if name in self.states:
            return self.states.index(name)
        self.states.append(name)
        self.units.append(unit)
        return len(self.states) - 1

    def rate(self, src: int, dst: int | None, k, label: str, scale=1.0) -> None:
        """Add a first-order flow with rate ``k`` from ``src`` (to ``dst``, scaled)."""
        k = np.broadcast_to(np.asarray(k, dtype=float), (self.n_subjects,))
        self.terms.append((src, src, -k))
        if dst is not None:
            s = np.broadcast_to(np.asarray(scale, dtype=float), (self.n_subjects,))
            self.terms.append((dst, src, k * s))
        self.flows.append((self.states[src], self.states[dst] if dst is not None else "", label))

    def link(self, central: int, effect: int, ke0, kp, volume, label: str) -> None:
        """Effect compartment: dCe/dt = ke0 (Kp * 1000 * A/V - Ce), no mass removed."""
        ke0 = np.broadcast_to(np.asarray(ke0, dtype=float), (self.n_subjects,))
        self.terms.append((effect, effect, -ke0))
        self.terms.append((effect, central, ke0 * kp * NM_PER_UMOL_PER_L / volume))
        self.flows.append((self.states[central], self.states[effect], label))

    def matrix(self) -> np.ndarray:
        a = np.zeros((self.n_subjects, len(self.states), len(self.states)))
        for i, j, v in self.terms:
            a[:, i, j] += v
        return a


def _p(params: dict, name: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(params[name], dtype=float), (n,)).astype(float)


def build_pk(
    params: dict,
    dosing: list[tuple[str, str]],
    n_subjects: int,
    table: DrugTable | None = None,
) -> LinearPK:
    """Build the linear PK system for the drugs and routes a regimen uses.

    Each dosed drug gets the block its drug-table row names (``structure``);
    blocks are added in drug-table order.

    Parameters
    ----------
    params
        Parameter name to value (scalar) or per-subject array, internal units.
    dosing
        The (drug, route) pairs that will be dosed.
    n_subjects
        Number of subjects (rows of ``matrix``).
    table
        The drug table (default: the shipped one, ``routes.DRUG_TABLE``).

    Returns
    -------
    LinearPK
    """
    table = DRUG_TABLE if table is None else table
    allowed = {d.name: d.routes for d in table.drugs}
    for drug, route in dosing:
        if route not in allowed.get(drug, ()):
            raise ValueError(f"route '{route}' is not allowed for drug '{drug}'")
    pk = _Blocks(params, n_subjects)
    drugs = {d for d, _ in dosing}
    chain = [d for d in table.drugs if d.structure == "heroin_chain" and d.name in drugs]
    for row in table.drugs:
        if row.name not in drugs:
            continue
        routes = sorted(r for d, r in dosing if d == row.name)
        if row.structure == "heroin_chain":
            if row is chain[0]:  # one block for every chain drug dosed
                names = {d.name for d in chain}
                pk.heroin_chain(chain, sorted(p for p in dosing if p[0] in names))
        elif row.structure == "one_compartment":
            pk.one_compartment(row, routes)
        else:
            pk.mammillary3(row, routes)
    b = pk.b
    return LinearPK(
        states=b.states,
        units=b.units,
        matrix=b.matrix(),
        dose_state=pk.dose_state,
        dose_factor=pk.dose_factor,
        effect_state=pk.effect,
        central_state=pk.central,
        volume=pk.volume,
        flows=b.flows,
    )


class _Blocks:
    """The PK blocks of the drug table's structures, added to one builder."""

    def __init__(self, params: dict, n: int):
        self.params = params
        self.n = n
        self.bw = _p(params, "body_weight", n)
        self.b = _Builder(n)
        self.dose_state: dict[tuple[str, str], int] = {}
        self.dose_factor: dict[tuple[str, str], np.ndarray] = {}
        self.central: dict[str, int] = {}
        self.volume: dict[str, np.ndarray] = {}
        self.effect: dict[str, int] = {}

    def p(self, name: str) -> np.ndarray:
        return _p(self.params, name, self.n)

    def umol_per_mg(self, drug: Drug) -> np.ndarray:
        return UMOL_PER_MMOL / self.p(drug.mw)

    def dose(self, drug: Drug, route: str, target: int, f: np.ndarray) -> None:
        self.dose_state[(drug.name, route)] = target
        self.dose_factor[(drug.name, route)] = f * self.umol_per_mg(drug)

    def depot_routes(self, drug: Drug, routes: list[str], central: int) -> None:
        """IV into the central compartment; every other route by first-order absorption."""
        s, b, n = drug.stem, self.b, self.n
        for route in routes:
            if route == "iv":
                target, f = central, np.ones(n)
            else:
                target = b.state(f"{s}_{route}_depot")
                b.rate(target, central, self.p(f"ka_{s}_{route}"), f"{route} absorption")
                f = self.p(f"f_{s}_{route}").copy()
            self.dose(drug, route, target, f)

    # --- heroin, 6-MAM, morphine and glucuronides -----------------------
    def heroin_chain(self, drugs: list[Drug], dosing: list[tuple[str, str]]) -> None:
        b, n, p, bw = self.b, self.n, self.p, self.bw
        central, volume = self.central, self.volume
        heroin = "heroin" in {d.name for d in drugs}
        k_mo = LN2 / p("t_half_morphine")
        v_mo = p("cl_morphine") / k_mo
        k_6g = LN2 / p("t_half_m6g")
        v_6g = p("cl_m6g") / k_6g
        k_3g = LN2 / p("t_half_m3g")
        v_3g = p("cl_m3g") / k_3g
        if heroin:
            k_h = LN2 / p("t_half_heroin")
            v_h = p("cl_heroin") * bw / k_h
            k_m = LN2 / p("t_half_6mam")
            v_m = p("v_6mam") * bw
            h = b.state("heroin")
            m = b.state("6mam")
        mo = b.state("morphine")
        g6 = b.state("m6g")
        g3 = b.state("m3g")
        if heroin:
            b.rate(h, m, k_h, "deacetylation", p("frac_heroin_to_6mam"))
            b.rate(m, mo, k_m, "hydrolysis", p("frac_6mam_to_morphine"))
            central.update(heroin=h, **{"6mam": m})
            volume.update(heroin=v_h, **{"6mam": v_m})
        b.rate(mo, g6, k_mo, "glucuronidation", p("frac_morphine_to_m6g"))
        # M3G receives its share of the same flow (one rate, two products)
        b.terms.append((g3, mo, k_mo * p("frac_morphine_to_m3g")))
        b.flows.append(("morphine", "m3g", "glucuronidation"))
        b.rate(g6, None, k_6g, "renal elimination")
        b.rate(g3, None, k_3g, "renal elimination")
        central.update(morphine=mo, m6g=g6, m3g=g3)
        volume.update(morphine=v_mo, m6g=v_6g, m3g=v_3g)
        links = [
            ("morphine", mo, v_mo, "t_half_ke0_morphine", 1.0),
            ("m6g", g6, v_6g, "t_half_ke0_m6g", 1.0),
        ]
        if heroin:
            links = [
                ("heroin", h, v_h, "t_half_ke0_heroin", 1.0),
                ("6mam", m, v_m, "t_half_ke0_6mam", p("kp_6mam")),
            ] + links
        for lig, c, v, kname, kp in links:
            e = b.state(f"{lig}_brain", "nM")
            b.link(c, e, LN2 / p(kname), kp, v, "blood-brain equilibration")
            self.effect[lig] = e
        rows = {d.name: d for d in drugs}
        gut = None
        for drug, route in dosing:
            f = np.ones(n)
            if route == "iv":
                target = h if drug == "heroin" else mo
            elif route == "oral":
                if gut is None:
                    gut = b.state("gut_morphine")
                    b.rate(gut, mo, p("ka_oral"), "oral absorption")
                target = gut
                if drug == "heroin":
                    # first pass: only morphine appears, in molar proportion
                    f = p("f_heroin_oral_as_morphine").copy()
                else:
                    f = p("f_morphine_oral").copy()
            elif drug == "heroin":
                target = b.state(f"heroin_{route}_depot")
                b.rate(target, h, p(f"ka_heroin_{route}"), f"{route} absorption")
                f = p(f"f_heroin_{route}").copy()
            else:  # morphine im / sc
                target = b.state(f"morphine_{route}_depot")
                b.rate(target, mo, p("ka_morphine_sc"), f"{route} absorption")
                f = p("f_morphine_sc").copy()
            self.dose(rows[drug], route, target, f)

    # --- one-compartment drugs (the treatments) --------------------------
    def one_compartment(self, drug: Drug, routes: list[str]) -> None:
        b, p, s = self.b, self.p, drug.stem
        k = LN2 / p(f"t_half_{s}")
        if drug.volume == "cl":
            v = p(f"cl_{s}") / k
        else:
            v = p(f"v_{s}") * self.bw
        c = b.state(s)
        b.rate(c, None, k, "elimination")
        self.central[s] = c
        self.volume[s] = v
        e = b.state(f"{s}_brain", "nM")
        b.link(c, e, LN2 / p(f"t_half_ke0_{s}"), 1.0, v, "blood-brain equilibration")
        self.effect[s] = e
        self.depot_routes(drug, routes, c)

    # --- three-compartment mammillary model (fentanyl) -------------------
    def mammillary3(self, drug: Drug, routes: list[str]) -> None:
        b, p, s = self.b, self.p, drug.stem
        wt = self.bw / p(f"wt_ref_{s}")
        cl_scale = wt ** p(f"allometric_exp_cl_{s}")
        cl = p(f"cl_{s}") * cl_scale
        q2 = p(f"q2_{s}") * cl_scale
        q3 = p(f"q3_{s}") * cl_scale
        v1 = p(f"v1_{s}") * wt
        v2 = p(f"v2_{s}") * wt
        v3 = p(f"v3_{s}") * wt
        c = b.state(s)
        p2 = b.state(f"{s}_rapid_peripheral")
        p3 = b.state(f"{s}_slow_peripheral")
        b.rate(c, None, cl / v1, "elimination")
        b.rate(c, p2, q2 / v1, "distribution")
        b.rate(p2, c, q2 / v2, "redistribution")
        b.rate(c, p3, q3 / v1, "distribution")
        b.rate(p3, c, q3 / v3, "redistribution")
        self.central[s] = c
        self.volume[s] = v1
        e = b.state(f"{s}_brain", "nM")
        ke0 = LN2 / p(f"t_half_ke0_{s}")
        b.link(c, e, ke0, 1.0, v1, "plasma-effect-site equilibration")
        self.effect[s] = e
        # intranasal: first-order absorption from a depot (no lag time)
        self.depot_routes(drug, routes, c)
