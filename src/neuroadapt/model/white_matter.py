"""White matter: FA loss and recovery, toxic leukoencephalopathy, hypoxic injury and DPHL.

Process
-------
**Diffusion (FA).** Heroin users have lower fractional anisotropy in frontal
sub-gyral white matter and the cingulum (Wollman 2015, PMID:26125488) and
in the corpus callosum (PMID:21937797), with higher radial and unchanged
axial diffusivity (Brain Res 2013, doi:10.1016/j.brainres.2013.07.036):
myelin and glia rather than axons. Frontal FA is lower at 3 days of
abstinence and normal at 1 month (Addict Biol 2013, PMID:21762286), so most
of the frontal deficit is a fast, reversible component. Callosal and
cingulate FA recover over months to years (Shen 2012 splenium r = +0.348
with months of abstinence; Wollman 2015; Zhu 2022), so those tracts carry
a slow component. Shen 2012's negative frontal correlation (r = -0.366) is
not reproduced: the model takes Hao's longitudinal result (frontal FA
normal at 1 month), which a within-subject design measures more directly
than a cross-sectional correlation. The fast component follows the drug
itself (``A``, the day's mean MOR activation: oedema, myelin water), since
the glial activation of the inflammation module outlasts Hao's month; the
slow one follows the inflammatory drive ``D`` (``structure``'s output
``inflammatory_drive``: glial and cytokine excess, eq. 1 there). Per tract ``j``:

    dF_f/dt = k_f (m_j A - F_f)                        fast (days-weeks)   (1)
    dF_s/dt = a_j D - k_s,j F_s / (1 + D/D50)          slow, repaired when
                                                       the drive is low    (2)

**Toxic spongiform leukoencephalopathy (TLE)** follows inhaled heroin
("chasing the dragon") contaminated by an unidentified toxin (Wolters 1982,
PMID:6128545). It is a rare, route-dependent event: daily onset hazard

    h = lambda_TLE * smoked_fraction * (activation_mean > use threshold)   (3)

then three clinical stages (Tan et al.; Bach 2012, PMID:23052964): stage 1
(cerebellar signs), stage 2 after ~2-4 weeks (pyramidal/extrapyramidal
signs), stage 3 (akinetic mutism, central pyrexia, death) in about a
quarter. Each stage either progresses or stabilises with competing daily
hazards, so the probability of progressing is ``p / t_stage`` against
``(1 - p) / t_stage``; stage 3 ends in death with probability
``p_death``. Overall mortality ``p12 p23 p3d`` sits between Wolters' 23.4 %
(1982 outbreak) and Cheng 2019's 16.7 % after inhalation
(doi:10.1007/s00415-018-9131-1). Progression does not need further
exposure (Radiopaedia: up to 6 months).

**Hypoxic-ischaemic injury.** On a day with ``H`` minutes below the hypoxia
PaO2 threshold, a lesion (globus pallidus, hippocampus, watershed) forms with
probability ``1 - exp(-(H - H0)+ / H_scale)``; a share of lesions is pallidal
(Andersen & Skullerud 1999, doi:10.1016/S0379-0738(99)00040-7: 25 % of IV
users' brains hypoxic, 9 % pallidal). A day with ``H`` above the severe
threshold starts, with probability ``p_DPHL``, delayed post-hypoxic
leukoencephalopathy after a lucid interval drawn uniformly between its
bounds (7-14 days, PMC4777931); DPHL lowers frontal and callosal FA and
improves over months (Arimany: better by 16 weeks).

Random events use no global generator: each subject and day gets a uniform
number from a counter-based hash of (stream seed, subject index, day,
purpose) (:func:`neuroadapt.streams.uniform_hash`). The subject indices and the stream seed are
read from ``p["subject_index"]`` and ``p["stream_seed"]`` when present
(the caller adds them beside the sampled parameters), else ``0..n-1`` and 0;
the day is counted in the state ``day``. The draws therefore depend only on
the subject, the day and the seed, not on chunking or on other subjects.

The integrator gives every state of a regional module the regional shape;
subject-level states (TLE stage, lesions, DPHL, day) are stored repeated
across the three tracts and read from the first column.

Observables: ``fa`` per tract (fraction of a matched control), ``tle_stage``
(0-3, the current stage; 0 also after recovery), ``tle_dead`` (0/1),
``hypoxic_injury`` (0/1: any hypoxic-ischaemic lesion), ``pallidal_injury``
(0/1), ``dphl`` (0-1 severity of active DPHL).
"""

from __future__ import annotations

import numpy as np

from neuroadapt.model.clock import (
    HOURS_PER_DAY,
    across,
    decay,
    relax,
    relax_by,
    remembered,
    stack_regional,
)
from neuroadapt.model.clock import column as _c
from neuroadapt.model.clock import positive as _pos
from neuroadapt.streams import chain_start, day_links, hash_link

NAME = "white_matter"
REGIONS: tuple[str, ...] = ("frontal white matter", "cingulum", "corpus callosum")
REGION_KEYS: tuple[str, ...] = ("frontal", "cingulum", "callosum")
STATES = {
    "fa_loss_fast": ("1", 0.0),
    "fa_loss_slow": ("1", 0.0),
    "day": ("d", 0.0),
    "tle_stage": ("1", 0.0),
    "tle_max_stage": ("1", 0.0),
    "tle_done": ("1", 0.0),
    "tle_dead": ("1", 0.0),
    "hypoxic_lesion": ("1", 0.0),
    "pallidal_lesion": ("1", 0.0),
    "dphl_timer": ("d", -1.0),
    "dphl_level": ("1", 0.0),
}
INPUTS = (
    "inflammatory_drive",
    "hypoxia_minutes",
    "activation_mean",
    "alive",
    "smoked_fraction",
)
OUTPUTS = {
    "fa": ("1", "fractional anisotropy per tract, fraction of a matched control's"),
    "tle_stage": ("1", "toxic leukoencephalopathy clinical stage (0 none/recovered, 1-3)"),
    "tle_dead": ("1", "1 once toxic leukoencephalopathy has been fatal"),
    "hypoxic_injury": ("1", "1 once any hypoxic-ischaemic lesion has formed"),
    "pallidal_injury": ("1", "1 once a globus pallidus lesion has formed"),
    "dphl": ("1", "severity of delayed post-hypoxic leukoencephalopathy (0-1)"),
}
#: Parameters read by this module (name -> unit of the parameter table), checked by tests.
PARAMETERS: dict[str, str] = {
    "wm_tle_t_stage1": "day",
    "wm_tle_p_stage2": "dimensionless",
    "wm_tle_t_stage2": "day",
    "wm_tle_p_stage3": "dimensionless",
    "wm_tle_t_stage3": "day",
    "wm_tle_p_death": "dimensionless",
    "wm_dphl_fa_loss_callosum": "dimensionless",
    "wm_dphl_fa_loss_cingulum": "dimensionless",
    "wm_dphl_fa_loss_frontal": "dimensionless",
    "wm_dphl_hypoxia_threshold": "min",
    "wm_dphl_lucid_max": "day",
    "wm_dphl_lucid_min": "day",
    "wm_dphl_probability": "dimensionless",
    "wm_dphl_t_half": "day",
    "wm_fast_loss_max_callosum": "dimensionless",
    "wm_fast_loss_max_cingulum": "dimensionless",
    "wm_fast_loss_max_frontal": "dimensionless",
    "wm_lesion_hypoxia_threshold": "min",
    "wm_lesion_scale": "min",
    "wm_loss_rate_slow_callosum": "1/year",
    "wm_loss_rate_slow_cingulum": "1/year",
    "wm_loss_rate_slow_frontal": "1/year",
    "wm_pallidal_share": "dimensionless",
    "wm_repair_d50": "dimensionless",
    "wm_t_half_fast": "day",
    "wm_t_half_repair_callosum": "year",
    "wm_t_half_repair_cingulum": "year",
    "wm_t_half_repair_frontal": "year",
    "wm_tle_fa_loss_callosum": "dimensionless",
    "wm_tle_fa_loss_cingulum": "dimensionless",
    "wm_tle_fa_loss_frontal": "dimensionless",
    "wm_tle_hazard": "1/year",
    "wm_tle_residual": "dimensionless",
    "wm_use_threshold": "dimensionless",
}
#: Purposes of the hashed random streams (one per kind of event).
STREAM_TLE_ONSET, STREAM_TLE_STAGE, STREAM_LESION, STREAM_PALLIDAL = 1, 2, 3, 4
STREAM_DPHL, STREAM_DPHL_DELAY = 5, 6


class _DayDraws:
    """The day's ``uniform_hash`` numbers for every subject, computed only where asked.

    The chain's first links (seed, subject) are fixed per subject and remembered
    in ``p``; the last two (day, purpose) are compiled (``streams.day_links``), since
    numpy spends more time on its per-call overhead than on the few subjects
    drawn each day.
    """

    def __init__(self, p: dict, n: int, day: np.ndarray) -> None:
        self.p, self.n = p, n
        self.day = np.asarray(day, dtype=np.float64)

    def _subject_hash(self) -> np.ndarray:
        def build(seed, subj):
            seed = 0 if seed is None else int(np.asarray(seed).ravel()[0])
            subj = np.arange(self.n) if subj is None else np.asarray(subj, dtype=np.int64)
            with np.errstate(over="ignore"):
                return hash_link(chain_start(seed), subj)

        p = self.p
        key = f"wm:subject_hash:{self.n}"
        return remembered(p, key, build, p.get("stream_seed"), p.get("subject_index"))

    def where(self, mask: np.ndarray, purpose: int, fill: float) -> np.ndarray:
        """``uniform_hash(seed, subject, day, purpose)`` where ``mask`` holds, else ``fill``."""
        out = np.full(mask.shape, fill)
        idx = np.flatnonzero(mask)
        if idx.size:
            out[idx] = day_links(self._subject_hash(), idx, self.day, int(purpose))
        return out


def regional(p: dict[str, np.ndarray], stem: str) -> np.ndarray:
    """Per-region parameters ``<stem>_<key>`` as an array (subjects, regions)."""
    return stack_regional(p, stem, REGION_KEYS)


def drive(inputs: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """Inflammatory drive of white-matter injury, shape (subjects,): gray matter's output.

    ``structure.inflammatory_drive`` is the one definition (eq. 1 there).
    """
    return np.asarray(inputs["inflammatory_drive"], dtype=float)


#: TLE stages: (probability of progressing, duration parameter) of stages 1-3.
_STAGES = {
    1: ("wm_tle_p_stage2", "wm_tle_t_stage1"),
    2: ("wm_tle_p_stage3", "wm_tle_t_stage2"),
    3: ("wm_tle_p_death", "wm_tle_t_stage3"),
}


def _stage_step(stage, done, dead, u, p, dt_d):
    """One day of the TLE stage chain: progress, stabilise or (stage 3) die."""
    stage0 = stage.copy()
    stage, done, dead = stage.copy(), done.copy(), dead.copy()
    for s, (p_name, t_name) in _STAGES.items():
        here = (stage0 == s) & (done == 0) & (dead == 0)
        total = remembered(
            p,
            f"wm:leave:{s}:{dt_d!r}",
            lambda t: 1.0 - np.exp(-dt_d * HOURS_PER_DAY / np.asarray(t, dtype=float)),
            p[t_name],
        )
        leave = here & (u < total)
        forward = leave & (u < total * np.asarray(p[p_name], dtype=float))
        if s < 3:
            stage = np.where(forward, s + 1, stage)
        else:
            dead = np.where(forward, 1.0, dead)
        done = np.where(leave & ~forward, 1.0, done)
    return stage, done, dead


def _repeat(v: np.ndarray) -> np.ndarray:
    """A subject-level state stored repeated across the tracts (``clock.across``)."""
    return across(v, len(REGIONS))


def step(state, inputs, p, dt_d):
    """Advance FA components and the TLE, lesion and DPHL event states by ``dt_d`` days."""
    n = state["day"].shape[0]
    col = {k: state[k][:, 0] for k in STATES if k not in ("fa_loss_fast", "fa_loss_slow")}
    day = col["day"] + dt_d
    draws = _DayDraws(p, n, day)
    alive = (np.asarray(inputs["alive"], dtype=float) > 0.5) & (col["tle_dead"] == 0)
    out = {"day": _repeat(day)}

    # FA: fast and slow components, eqs. (1)-(2)
    d = drive(inputs, p)[:, None]
    act = np.asarray(inputs["activation_mean"], dtype=float)[:, None]
    fast = relax_by(
        state["fa_loss_fast"],
        regional(p, "wm_fast_loss_max") * act,
        decay(p, "wm_t_half_fast", dt_d)[:, None],
    )
    k_s = remembered(
        p,
        "wm:k_repair",
        lambda t: np.log(2.0) / t * HOURS_PER_DAY,
        regional(p, "wm_t_half_repair"),
    )
    k_s = k_s / (1.0 + d / _c(p["wm_repair_d50"]))
    a_s = remembered(
        p, "wm:loss_rate_slow", lambda a: a * HOURS_PER_DAY, regional(p, "wm_loss_rate_slow")
    )
    slow = relax(state["fa_loss_slow"], a_s * d / k_s, k_s, dt_d)
    out["fa_loss_fast"] = np.minimum(fast, 0.9, out=fast)
    out["fa_loss_slow"] = np.minimum(slow, 0.9, out=slow)

    # TLE onset, eq. (3), then the stage chain (the states are kept while no one is in it)
    using = np.asarray(inputs["activation_mean"], dtype=float) > p["wm_use_threshold"]
    hazard = p["wm_tle_hazard"] * HOURS_PER_DAY * np.asarray(inputs["smoked_fraction"]) * using
    onset = alive & (col["tle_stage"] == 0) & (col["tle_done"] == 0) & (hazard > 0)
    if onset.any():
        onset &= draws.where(onset, STREAM_TLE_ONSET, 1.0) < 1.0 - np.exp(-hazard * dt_d)
    stage = np.where(onset, 1.0, col["tle_stage"])
    in_chain = (stage > 0) & ~onset & (col["tle_done"] == 0) & (col["tle_dead"] == 0)
    if onset.any() or in_chain.any():
        stage, done, dead = _stage_step(
            stage,
            col["tle_done"],
            col["tle_dead"],
            draws.where(in_chain, STREAM_TLE_STAGE, 1.0),
            p,
            dt_d,
        )
        max_stage = np.maximum(col["tle_max_stage"], stage)
        stage = np.where(done > 0, 0.0, stage)
        out["tle_stage"] = _repeat(stage)
        out["tle_max_stage"] = _repeat(max_stage)
        out["tle_done"] = _repeat(done)
        out["tle_dead"] = _repeat(dead)
    else:
        for k in ("tle_stage", "tle_max_stage", "tle_done", "tle_dead"):
            out[k] = state[k]

    # hypoxic-ischaemic lesions and DPHL
    hyp_h = np.asarray(inputs["hypoxia_minutes"], dtype=float) / 60.0
    p_lesion = 1.0 - np.exp(-_pos(hyp_h - p["wm_lesion_hypoxia_threshold"]) / p["wm_lesion_scale"])
    at_risk = alive & (p_lesion > 0)
    new_lesion = at_risk & (draws.where(at_risk, STREAM_LESION, 1.0) < p_lesion)
    if new_lesion.any():
        lesion = np.maximum(col["hypoxic_lesion"], new_lesion)
        pallid = np.maximum(
            col["pallidal_lesion"],
            new_lesion & (draws.where(new_lesion, STREAM_PALLIDAL, 1.0) < p["wm_pallidal_share"]),
        )
        out["hypoxic_lesion"] = _repeat(lesion)
        out["pallidal_lesion"] = _repeat(pallid)
    else:
        out["hypoxic_lesion"] = state["hypoxic_lesion"]
        out["pallidal_lesion"] = state["pallidal_lesion"]
    severe = alive & (hyp_h >= p["wm_dphl_hypoxia_threshold"]) & (col["dphl_timer"] < 0)
    start = severe & (draws.where(severe, STREAM_DPHL, 1.0) < p["wm_dphl_probability"])
    lo, hi = p["wm_dphl_lucid_min"] / HOURS_PER_DAY, p["wm_dphl_lucid_max"] / HOURS_PER_DAY
    delay = lo + (hi - lo) * draws.where(start, STREAM_DPHL_DELAY, 0.0)
    timer = np.where(start, delay, col["dphl_timer"])
    running = (timer > 0) & ~start
    timer = np.where(running, timer - dt_d, timer)
    fire = running & (timer <= 0)
    timer = np.where(fire, 0.0, timer)
    level = np.where(fire, 1.0, col["dphl_level"] * decay(p, "wm_dphl_t_half", dt_d))
    # a DPHL episode ends when it has faded; the subject can then have another
    timer = np.where((timer == 0) & (level < 0.01), -1.0, timer)
    out["dphl_timer"] = _repeat(timer)
    out["dphl_level"] = _repeat(level)
    return {k: out[k] for k in STATES}


def observe(state, inputs, p):
    """FA per tract and the subject-level clinical states."""
    max_stage = state["tle_max_stage"][:, 0]
    active = (state["tle_done"][:, 0] == 0) | (state["tle_dead"][:, 0] > 0)
    tle_scale = np.where(active, 1.0, p["wm_tle_residual"]) * max_stage / 3.0
    tle = regional(p, "wm_tle_fa_loss") * tle_scale[:, None]
    dphl = regional(p, "wm_dphl_fa_loss") * state["dphl_level"][:, :1]
    loss = state["fa_loss_fast"] + state["fa_loss_slow"] + tle + dphl
    return {
        "fa": np.clip(1.0 - loss, 0.05, 1.0),
        "tle_stage": state["tle_stage"][:, 0].copy(),
        "tle_dead": state["tle_dead"][:, 0].copy(),
        "hypoxic_injury": state["hypoxic_lesion"][:, 0].copy(),
        "pallidal_injury": state["pallidal_lesion"][:, 0].copy(),
        "dphl": state["dphl_level"][:, 0].copy(),
    }
