"""Mu-opioid receptor: competitive occupancy and operational (Black-Leff) activation.

Process
-------
All ligands at the brain effect site compete for one population of MORs at
equilibrium: ligand *i* at concentration ``C_i`` with dissociation constant
``K_i`` occupies

    occ_i = (C_i / K_i) / (1 + sum_j C_j / K_j)                     (1)

[Gaddum]. Agonists transduce occupancy into a stimulus weighted by their
operational efficacy ``tau_i`` (6-MAM > morphine ~ M6G, Selley 2001;
buprenorphine partial; naloxone and naltrexone tau = 0), and the response is
the operational model with slope 1 [Black & Leff 1983]:

    sigma = sum_i tau_i occ_i,        A = sigma / (1 + sigma)        (2)

``A`` in [0, 1) is the fraction of maximal MOR signalling that drives the
cAMP pathway. The respiratory network reads, as in the FDA overdose model
[Mann 2022], the fraction of receptors occupied by agonist ("CAR"), each
agonist weighted by its intrinsic activity ``e_i`` (1 for full agonists,
< 1 for buprenorphine, 0 for antagonists):

    CAR = sum_i e_i occ_i                                            (3)
 Slow receptor dissociation of buprenorphine is
represented by its slow effect-site equilibration (see ``pk``).

Functions here are plain arithmetic so the engine can compile them with
numba and the SBML exporter can trace them symbolically.
"""

from __future__ import annotations

from numba.extending import register_jitable

from neuroadapt.model.drugs import declared_units, receptor_parameter_names
from neuroadapt.model.routes import DRUG_TABLE
from neuroadapt.parameters import read_rows

#: The fast layer's module declaration (``neuroadapt.model.system`` lists it).
NAME = "receptor"
TITLE = "MOR occupancy and activation"
#: States (name -> unit); the engine starts them at the drug-free steady state.
STATES: dict[str, str] = {}
INPUTS = ("effect_site_concentrations",)
OUTPUTS = {
    "activation": ("1", "MOR activation A"),
    "agonist_occupancy": ("1", "agonist occupancy CAR"),
}
#: Daily records of this module that drive the slow clock (``engine.brain``).
DAILY = {
    "activation_mean": ("1", "mean MOR activation over the day"),
    "activation_peak": ("1", "peak MOR activation of the day"),
}
_TABLE_NAMES = {row["name"] for row in read_rows()}
#: Parameters of the table this module's equations read (name -> unit): the
#: reference Kd and each ligand's affinity ratio, efficacy and intrinsic activity
#: (an antagonist has neither of the last two), for the ligands of the drug table.
PARAMETERS: dict[str, str] = declared_units(
    ["kd_morphine"]
    + [n for lig in DRUG_TABLE.ligands for n in receptor_parameter_names(lig, _TABLE_NAMES)]
)


@register_jitable
def occupancy_odds(conc, kd):
    """Binding odds ``C / K`` of one ligand (dimensionless)."""
    return conc / kd


@register_jitable
def total_occupancy(odds_sum):
    """Fraction of receptors bound by any ligand, eq. (1) summed over ligands."""
    return odds_sum / (1.0 + odds_sum)


@register_jitable
def stimulus(weighted_odds_sum, odds_sum):
    """Operational stimulus ``sigma = sum tau_i occ_i``, eq. (2)."""
    return weighted_odds_sum / (1.0 + odds_sum)


@register_jitable
def activation(sigma):
    """Fraction of maximal MOR signalling ``A = sigma / (1 + sigma)``, eq. (2)."""
    return sigma / (1.0 + sigma)


@register_jitable
def agonist_occupancy(weighted_odds_sum, odds_sum):
    """Agonist receptor occupancy ``CAR = sum e_i occ_i``, eq. (3)."""
    return weighted_odds_sum / (1.0 + odds_sum)
