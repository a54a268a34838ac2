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

States and units: amounts in micromol, effect-site concentrations in nM
(plasma-equivalent), time in hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neuroadapt.model.routes import ALLOWED_ROUTES

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
#: Parameters of the table this module's equations read (name -> unit).
PARAMETERS: dict[str, str] = {
    "allometric_exp_cl_fentanyl": "dimensionless",
    "body_weight": "kg",
    "cl_fentanyl": "L/min",
    "cl_heroin": "mL/min/kg",
    "cl_m3g": "L/h",
    "cl_m6g": "L/h",
    "cl_morphine": "L/h",
    "cl_naloxone": "L/h",
    "f_buprenorphine_sublingual": "dimensionless",
    "f_fentanyl_intranasal": "dimensionless",
    "f_heroin_im": "dimensionless",
    "f_heroin_intranasal": "dimensionless",
    "f_heroin_oral_as_morphine": "dimensionless",
    "f_heroin_sc": "dimensionless",
    "f_heroin_smoked": "dimensionless",
    "f_methadone_oral": "dimensionless",
    "f_morphine_oral": "dimensionless",
    "f_morphine_sc": "dimensionless",
    "f_naloxone_im": "dimensionless",
    "f_naloxone_intranasal": "dimensionless",
    "f_naloxone_sc": "dimensionless",
    "f_naltrexone_oral": "dimensionless",
    "frac_6mam_to_morphine": "dimensionless",
    "frac_heroin_to_6mam": "dimensionless",
    "frac_morphine_to_m3g": "dimensionless",
    "frac_morphine_to_m6g": "dimensionless",
    "ka_buprenorphine_sublingual": "1/h",
    "ka_fentanyl_intranasal": "1/h",
    "ka_heroin_im": "1/h",
    "ka_heroin_intranasal": "1/h",
    "ka_heroin_sc": "1/h",
    "ka_heroin_smoked": "1/h",
    "ka_methadone_oral": "1/h",
    "ka_morphine_sc": "1/h",
    "ka_naloxone_im": "1/h",
    "ka_naloxone_intranasal": "1/h",
    "ka_naloxone_sc": "1/h",
    "ka_naltrexone_oral": "1/h",
    "ka_oral": "1/h",
    "kp_6mam": "dimensionless",
    "mw_6mam": "g/mol",
    "mw_buprenorphine": "g/mol",
    "mw_fentanyl": "g/mol",
    "mw_heroin": "g/mol",
    "mw_m3g": "g/mol",
    "mw_m6g": "g/mol",
    "mw_methadone": "g/mol",
    "mw_morphine": "g/mol",
    "mw_naloxone": "g/mol",
    "mw_naltrexone": "g/mol",
    "q2_fentanyl": "L/min",
    "q3_fentanyl": "L/min",
    "t_half_6mam": "min",
    "t_half_buprenorphine": "h",
    "t_half_heroin": "min",
    "t_half_ke0_6mam": "min",
    "t_half_ke0_buprenorphine": "min",
    "t_half_ke0_fentanyl": "min",
    "t_half_ke0_heroin": "min",
    "t_half_ke0_m6g": "h",
    "t_half_ke0_methadone": "h",
    "t_half_ke0_morphine": "h",
    "t_half_ke0_naloxone": "min",
    "t_half_ke0_naltrexone": "min",
    "t_half_m3g": "h",
    "t_half_m6g": "h",
    "t_half_methadone": "h",
    "t_half_morphine": "h",
    "t_half_naloxone": "h",
    "t_half_naltrexone": "h",
    "v1_fentanyl": "L",
    "v2_fentanyl": "L",
    "v3_fentanyl": "L",
    "v_6mam": "L/kg",
    "v_buprenorphine": "L/kg",
    "v_methadone": "L/kg",
    "v_naltrexone": "L/kg",
    "wt_ref_fentanyl": "kg",
}


LN2 = math.log(2.0)
NM_PER_UMOL_PER_L = 1000.0
UMOL_PER_MMOL = 1000.0

#: Ligands with a brain effect site, in receptor order.
LIGANDS: tuple[str, ...] = (
    "heroin",
    "6mam",
    "morphine",
    "m6g",
    "methadone",
    "buprenorphine",
    "naloxone",
    "naltrexone",
    "fentanyl",
)

#: Which ligands each dosed drug brings into the system.
DRUG_LIGANDS: dict[str, tuple[str, ...]] = {
    "heroin": ("heroin", "6mam", "morphine", "m6g"),
    "morphine": ("morphine", "m6g"),
    "methadone": ("methadone",),
    "buprenorphine": ("buprenorphine",),
    "naloxone": ("naloxone",),
    "naltrexone": ("naltrexone",),
    "fentanyl": ("fentanyl",),
}

#: Molar-mass parameter of each dosed drug (doses are mg of base).
DRUG_MW: dict[str, str] = {
    "heroin": "mw_heroin",
    "morphine": "mw_morphine",
    "methadone": "mw_methadone",
    "buprenorphine": "mw_buprenorphine",
    "naloxone": "mw_naloxone",
    "naltrexone": "mw_naltrexone",
    "fentanyl": "mw_fentanyl",
}


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


def build_pk(params: dict, dosing: list[tuple[str, str]], n_subjects: int) -> LinearPK:
    """Build the linear PK system for the drugs and routes a regimen uses.

    Parameters
    ----------
    params
        Parameter name to value (scalar) or per-subject array, internal units.
    dosing
        The (drug, route) pairs that will be dosed.
    n_subjects
        Number of subjects (rows of ``matrix``).

    Returns
    -------
    LinearPK
    """
    for drug, route in dosing:
        if route not in ALLOWED_ROUTES.get(drug, ()):
            raise ValueError(f"route '{route}' is not allowed for drug '{drug}'")
    n = n_subjects
    bw = _p(params, "body_weight", n)
    b = _Builder(n)
    drugs = {d for d, _ in dosing}
    dose_state: dict[tuple[str, str], int] = {}
    dose_factor: dict[tuple[str, str], np.ndarray] = {}
    central: dict[str, int] = {}
    volume: dict[str, np.ndarray] = {}
    effect: dict[str, int] = {}

    def umol_per_mg(drug: str) -> np.ndarray:
        return UMOL_PER_MMOL / _p(params, DRUG_MW[drug], n)

    # --- heroin, 6-MAM, morphine and glucuronides -----------------------
    if drugs & {"heroin", "morphine"}:
        k_h = LN2 / _p(params, "t_half_heroin", n)
        v_h = _p(params, "cl_heroin", n) * bw / k_h
        k_m = LN2 / _p(params, "t_half_6mam", n)
        v_m = _p(params, "v_6mam", n) * bw
        k_mo = LN2 / _p(params, "t_half_morphine", n)
        v_mo = _p(params, "cl_morphine", n) / k_mo
        k_6g = LN2 / _p(params, "t_half_m6g", n)
        v_6g = _p(params, "cl_m6g", n) / k_6g
        k_3g = LN2 / _p(params, "t_half_m3g", n)
        v_3g = _p(params, "cl_m3g", n) / k_3g
        if "heroin" in drugs:
            h = b.state("heroin")
            m = b.state("6mam")
        mo = b.state("morphine")
        g6 = b.state("m6g")
        g3 = b.state("m3g")
        if "heroin" in drugs:
            b.rate(h, m, k_h, "deacetylation", _p(params, "frac_heroin_to_6mam", n))
            b.rate(m, mo, k_m, "hydrolysis", _p(params, "frac_6mam_to_morphine", n))
            central.update(heroin=h, **{"6mam": m})
            volume.update(heroin=v_h, **{"6mam": v_m})
        b.rate(mo, g6, k_mo, "glucuronidation", _p(params, "frac_morphine_to_m6g", n))
        # M3G receives its share of the same flow (one rate, two products)
        b.terms.append((g3, mo, k_mo * _p(params, "frac_morphine_to_m3g", n)))
        b.flows.append(("morphine", "m3g", "glucuronidation"))
        b.rate(g6, None, k_6g, "renal elimination")
        b.rate(g3, None, k_3g, "renal elimination")
        central.update(morphine=mo, m6g=g6, m3g=g3)
        volume.update(morphine=v_mo, m6g=v_6g, m3g=v_3g)
        links = [
            ("morphine", mo, v_mo, "t_half_ke0_morphine", 1.0),
            ("m6g", g6, v_6g, "t_half_ke0_m6g", 1.0),
        ]
        if "heroin" in drugs:
            links = [
                ("heroin", h, v_h, "t_half_ke0_heroin", 1.0),
                ("6mam", m, v_m, "t_half_ke0_6mam", _p(params, "kp_6mam", n)),
            ] + links
        for lig, c, v, kname, kp in links:
            e = b.state(f"{lig}_brain", "nM")
            b.link(c, e, LN2 / _p(params, kname, n), kp, v, "blood-brain equilibration")
            effect[lig] = e
        gut = None
        for drug, route in sorted(p for p in dosing if p[0] in ("heroin", "morphine")):
            f = np.ones(n)
            if route == "iv":
                target = h if drug == "heroin" else mo
            elif route == "oral":
                if gut is None:
                    gut = b.state("gut_morphine")
                    b.rate(gut, mo, _p(params, "ka_oral", n), "oral absorption")
                target = gut
                if drug == "heroin":
                    # first pass: only morphine appears, in molar proportion
                    f = _p(params, "f_heroin_oral_as_morphine", n).copy()
                else:
                    f = _p(params, "f_morphine_oral", n).copy()
            elif drug == "heroin":
                target = b.state(f"heroin_{route}_depot")
                b.rate(target, h, _p(params, f"ka_heroin_{route}", n), f"{route} absorption")
                f = _p(params, f"f_heroin_{route}", n).copy()
            else:  # morphine im / sc
                target = b.state(f"morphine_{route}_depot")
                b.rate(target, mo, _p(params, "ka_morphine_sc", n), f"{route} absorption")
                f = _p(params, "f_morphine_sc", n).copy()
            dose_state[(drug, route)] = target
            dose_factor[(drug, route)] = f * umol_per_mg(drug)

    # --- one-compartment treatments --------------------------------------
    for drug in ("methadone", "buprenorphine", "naloxone", "naltrexone"):
        if drug not in drugs:
            continue
        k = LN2 / _p(params, f"t_half_{drug}", n)
        if f"cl_{drug}" in params:
            v = _p(params, f"cl_{drug}", n) / k
        else:
            v = _p(params, f"v_{drug}", n) * bw
        c = b.state(drug)
        b.rate(c, None, k, "elimination")
        central[drug] = c
        volume[drug] = v
        e = b.state(f"{drug}_brain", "nM")
        b.link(c, e, LN2 / _p(params, f"t_half_ke0_{drug}", n), 1.0, v, "blood-brain equilibration")
        effect[drug] = e
        for _, route in sorted(p for p in dosing if p[0] == drug):
            if route == "iv":
                target, f = c, np.ones(n)
            else:
                target = b.state(f"{drug}_{route}_depot")
                b.rate(target, c, _p(params, f"ka_{drug}_{route}", n), f"{route} absorption")
                f = _p(params, f"f_{drug}_{route}", n).copy()
            dose_state[(drug, route)] = target
            dose_factor[(drug, route)] = f * umol_per_mg(drug)

    # --- fentanyl: three-compartment mammillary model --------------------
    if "fentanyl" in drugs:
        wt = bw / _p(params, "wt_ref_fentanyl", n)
        cl_scale = wt ** _p(params, "allometric_exp_cl_fentanyl", n)
        cl = _p(params, "cl_fentanyl", n) * cl_scale
        q2 = _p(params, "q2_fentanyl", n) * cl_scale
        q3 = _p(params, "q3_fentanyl", n) * cl_scale
        v1 = _p(params, "v1_fentanyl", n) * wt
        v2 = _p(params, "v2_fentanyl", n) * wt
        v3 = _p(params, "v3_fentanyl", n) * wt
        c = b.state("fentanyl")
        p2 = b.state("fentanyl_rapid_peripheral")
        p3 = b.state("fentanyl_slow_peripheral")
        b.rate(c, None, cl / v1, "elimination")
        b.rate(c, p2, q2 / v1, "distribution")
        b.rate(p2, c, q2 / v2, "redistribution")
        b.rate(c, p3, q3 / v1, "distribution")
        b.rate(p3, c, q3 / v3, "redistribution")
        central["fentanyl"] = c
        volume["fentanyl"] = v1
        e = b.state("fentanyl_brain", "nM")
        ke0 = LN2 / _p(params, "t_half_ke0_fentanyl", n)
        b.link(c, e, ke0, 1.0, v1, "plasma-effect-site equilibration")
        effect["fentanyl"] = e
        for _, route in sorted(p for p in dosing if p[0] == "fentanyl"):
            if route == "iv":
                target, f = c, np.ones(n)
            else:  # intranasal: first-order absorption from a depot (no lag time)
                target = b.state(f"fentanyl_{route}_depot")
                b.rate(target, c, _p(params, f"ka_fentanyl_{route}", n), f"{route} absorption")
                f = _p(params, f"f_fentanyl_{route}", n).copy()
            dose_state[("fentanyl", route)] = target
            dose_factor[("fentanyl", route)] = f * umol_per_mg("fentanyl")

    return LinearPK(
        states=b.states,
        units=b.units,
        matrix=b.matrix(),
        dose_state=dose_state,
        dose_factor=dose_factor,
        effect_state=effect,
        central_state=central,
        volume=volume,
        flows=b.flows,
    )
