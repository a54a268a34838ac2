"""Accumbens glutamate homeostasis: GLT-1 and xCT loss, cue-evoked spill-over, craving, incubation.

Process
-------
Chronic heroin self-administration down-regulates the glial glutamate
transporter GLT-1 (which clears most synaptic glutamate) and the
cystine-glutamate exchanger xCT in the nucleus accumbens core; the loss of
uptake outlasts drug taking and extinction [Shen 2014; the same for cocaine,
Knackstedt 2010]. Exposure ``e = A_mean / (A_mean + e50)`` drives each loss
towards its ceiling; recovery is slow; an N-acetylcysteine or ceftriaxone
exposure ``nac`` (0-1) adds a restoring rate [Zhou & Kalivas 2008; Shen
2014; Knackstedt 2010]:

    dG/dt = k_G,on e (G_max - G) - (k_G,off + k_nac nac) G    glt1 = 1 - G   (1)
    dX/dt = k_X,on e (X_max - X) - (k_X,off + k_nac nac) X    xct  = 1 - X   (2)

Drug taken in the presence of discrete cues builds a cue-drug association
``C`` (``p`` = fraction of exposure paired with cues; 1 for
self-administration and street use, 0 for yoked delivery); it fades slowly
in abstinence (cue-induced seeking persists for weeks, Zhou 2004). Cue
reactivity incubates over early abstinence (greater at 14 than at 1 day of
withdrawal, Kuntz 2008), modelled as a factor ``I`` that builds while the
drug is absent:

    dC/dt = k_learn p e (1 - C) - k_ext C                                     (3)
    dI/dt = k_inc (I_max C (1 - e) - I)                                       (4)

A cue (or a priming dose) releases prefrontal glutamate onto the accumbens
in proportion to the association; loss of xCT lowers extrasynaptic glutamate
tone on presynaptic mGluR2/3 and so disinhibits release; loss of GLT-1 lets
synaptic glutamate spill over onto extrasynaptic NMDA receptors [glutamate
homeostasis, Kalivas 2009; LaLumiere & Kalivas 2008; Shen 2014]. The reach of
spill-over grows steeply as uptake falls (exponent ``q`` > 1), which is why
restoring GLT-1 alone blocks cue-induced seeking [Shen 2014]:

    cue_glutamate = 1 + s,   s = g_cue C (1 + g_xct X) / glt1^q               (5)
    craving       = r / (r + s50),   r = s (1 + I)                            (6)

``cue_glutamate`` is 1 in a drug-naive (or yoked) subject: no cue-evoked rise.
Incubation ``I`` is a gain on the response to the released glutamate
(assumption: postsynaptic, by analogy with the accumbal AMPA-receptor
changes of incubated cocaine craving), so it raises craving (6) but not the
presynaptic spill-over index (5) that feeds gray-matter loss. It builds over
the first weeks of abstinence (``I_max`` of several-fold, as incubated
cue-induced responding in rats) faster than the transporters (1)-(2)
recover, so craving on abstinence days 14-30 is clearly above day 1; the
fading association (3) and recovering transporters make it fall over months.

Treatment inputs (optional, not daily drivers of the kernel)
-------------------------------------------------------------
``inputs.get("nac", 0)`` is the restoring exposure of N-acetylcysteine
(100 mg/kg IP in rats) or ceftriaxone (200 mg/kg), 1 on treated days.
``inputs.get("cue_pairing", 1)`` is ``p`` of eq. (3). Neither is in
``INPUTS`` because no kernel driver or earlier module provides them yet; an
upstream treatment or behaviour module that outputs them switches them on.

References
----------
Shen HW et al. 2014 J Neurosci 34:5649-5657, PMID:24741055.
Zhou W & Kalivas PW 2008 Biol Psychiatry 63:338-340, PMID:17719565.
Knackstedt LA et al. 2010 Biol Psychiatry 67:81-84.
LaLumiere RT & Kalivas PW 2008 J Neurosci 28:3170-3177, PMC6670700.
Kuntz KL et al. 2008 Pharmacol Biochem Behav 90:344-348, PMID:18471868.
Zhou W et al. 2004 Neuroreport 15:727-730, PMID:15094485.
Kalivas PW 2009 Nat Rev Neurosci 10:561-572.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import daily_rate, decay, gated_loss, relax_by
from neuroadapt.model.dopamine import exposure

NAME = "glutamate"
STATES = {
    "glt1_loss": ("1", 0.0),
    "xct_loss": ("1", 0.0),
    "cue_association": ("1", 0.0),
    "incubation": ("1", 0.0),
}
INPUTS = ("activation_mean",)
OUTPUTS = {
    "glt1": ("1", "NAc core surface GLT-1 / glutamate uptake, fraction of naive"),
    "xct": ("1", "NAc core cystine-glutamate exchanger xCT, fraction of naive"),
    "cue_glutamate": ("1", "cue-evoked synaptic glutamate spill-over index (1 = naive)"),
    "craving": ("1", "cue-induced craving (0-1)"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "craving_s50": "dimensionless",
    "cue_glutamate_gain": "dimensionless",
    "glt1_loss_max": "dimensionless",
    "glu_exposure_e50": "dimensionless",
    "incubation_max": "dimensionless",
    "spillover_exponent": "dimensionless",
    "t_half_cue_extinction": "d",
    "t_half_cue_learning": "d",
    "t_half_glt1_loss": "d",
    "t_half_glt1_nac_restore": "d",
    "t_half_glt1_recovery": "d",
    "t_half_incubation": "d",
    "t_half_xct_loss": "d",
    "t_half_xct_recovery": "d",
    "xct_loss_max": "dimensionless",
    "xct_release_gain": "dimensionless",
}


def step(state, inputs, p, dt_d):
    """Advance transporters, cue association and incubation by ``dt_d`` days, eqs. (1)-(4)."""
    e = exposure(inputs["activation_mean"], p["glu_exposure_e50"])
    nac = np.clip(inputs.get("nac", 0.0), 0.0, 1.0)
    pairing = np.clip(inputs.get("cue_pairing", 1.0), 0.0, 1.0)
    k_nac = daily_rate(p, "t_half_glt1_nac_restore") * nac
    c = state["cue_association"]
    return {
        "glt1_loss": gated_loss(
            state["glt1_loss"],
            e,
            p["glt1_loss_max"],
            daily_rate(p, "t_half_glt1_loss"),
            daily_rate(p, "t_half_glt1_recovery") + k_nac,
            dt_d,
        ),
        "xct_loss": gated_loss(
            state["xct_loss"],
            e,
            p["xct_loss_max"],
            daily_rate(p, "t_half_xct_loss"),
            daily_rate(p, "t_half_xct_recovery") + k_nac,
            dt_d,
        ),
        "cue_association": gated_loss(
            c,
            e * pairing,
            1.0,
            daily_rate(p, "t_half_cue_learning"),
            daily_rate(p, "t_half_cue_extinction"),
            dt_d,
        ),
        "incubation": relax_by(
            state["incubation"],
            p["incubation_max"] * c * (1.0 - e),
            decay(p, "t_half_incubation", dt_d),
        ),
    }


def observe(state, inputs, p):
    """Transporter levels, cue-evoked spill-over and craving, eqs. (5)-(6)."""
    glt1 = 1.0 - state["glt1_loss"]
    xct = 1.0 - state["xct_loss"]
    release = p["cue_glutamate_gain"] * state["cue_association"]
    s = (
        release
        * (1.0 + p["xct_release_gain"] * state["xct_loss"])
        / glt1 ** p["spillover_exponent"]
    )
    r = s * (1.0 + state["incubation"])
    return {
        "glt1": glt1,
        "xct": xct,
        "cue_glutamate": 1.0 + s,
        "craving": r / (r + p["craving_s50"]),
    }
