"""Virtual rats in operant chambers and place-conditioning boxes, closed loop (numba).

Each simulated day of each rat is one pass of :func:`_run_day` (``prange``
over rats): a session resolved on a 1-s decision clock, then the home cage
until the next session on a 30-s clock for 4 h after the session or a
scheduled dose and a 10-min clock otherwise (the PK step is exact at any
length; the clock only sets how finely the daily means of activation and
withdrawal are integrated). The PK state is carried exactly in
modal coordinates of the rat's own system matrix
(``engine.simulate.modal_decomposition``): a step multiplies each mode by
``exp(lambda dt)``; an IV infusion of ``infusion_s`` seconds adds its amount
in equal one-second increments; s.c. primes, naloxone and conditioning
doses enter their depots at their times. Receptor activation comes from
``model.receptor``, cAMP, tolerance and withdrawal from
``model.signalling`` (AC superactivation advanced exactly for activation
held over a step), and every decision from ``model.operant``: each second
the active and inactive press hazards are evaluated from the rat's state
and one uniform draw decides whether it presses either lever. Ratio
requirements (FR or the Richardson & Roberts progressive ratio), timeouts,
light/tone cues, footshock and scheduled doses are resolved inside the
session and written to an event buffer with MED-PC codes (profile
``neuroadapt-sa``).

Between sessions the slow brain modules advance one day
(``engine.brain.BrainClock``) from the day's exposure; the next day's
decisions read the allostatic set-point shift and release loss (dopamine),
cue-evoked craving (glutamate) and negative affect (affect).

Random draws come from counter-based streams keyed by seed, global rat
index, day, step and purpose (``engine.kernel._uniform``), so results do
not depend on how rats are split into chunks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from neuroadapt.engine.brain import BrainClock
from neuroadapt.engine.kernel import _uniform
from neuroadapt.engine.simulate import modal_decomposition
from neuroadapt.model import operant as O
from neuroadapt.model import system
from neuroadapt.model.clock import HOURS_PER_DAY
from neuroadapt.model.pk import LIGANDS, build_pk
from neuroadapt.model.receptor import activation, stimulus
from neuroadapt.model.signalling import (
    camp_level,
    opioid_effect,
    superactivation_demand,
    withdrawal_index,
)
from neuroadapt.parameters import ParameterSet
from neuroadapt.parameters.table import standard_normal_stream

__all__ = [
    "CODES",
    "COUNTERS",
    "DAY_S",
    "BRAIN_FOR_BEHAVIOUR",
    "Component",
    "Dose",
    "OperantLab",
    "DayResult",
    "SessionSpec",
    "ZONES",
]

#: Seconds in a simulated day (session start to the next session start).
DAY_S = 86400
#: Home-cage steps (s): fine for HOME_FINE_S after the session or a scheduled dose, else coarse.
HOME_DT_S = 30
HOME_COARSE_S = 600
HOME_FINE_S = 4 * 3600
#: Event codes, as in the ``neuroadapt-sa`` MED-PC profile.
CODES: dict[str, int] = {
    "active_press": 1,
    "inactive_press": 2,
    "infusion": 3,
    "pump_off": 4,
    "timeout_start": 5,
    "timeout_end": 6,
    "cue_on": 7,
    "cue_off": 8,
    "session_start": 9,
    "session_end": 10,
    "prime": 11,
    "footshock": 12,
    "component_start": 13,
    "component_end": 14,
}
#: Per-session counters (the profile's scalars A, B, C, D, F, P).
COUNTERS = (
    "active_presses",
    "inactive_presses",
    "infusions",
    "timeout_presses",
    "ratio_requirement",
    "primes",
    "footshocks",
)
#: Place-conditioning zones, in the order of the time outputs.
ZONES = ("drug", "vehicle", "centre")
#: Brain modules whose outputs the policy reads (structure, white matter and cognition
#: are parameterised for people, not rats).
#: Brain read-outs the rats' decisions use (``RatCohort.brain``), by result name.
BEHAVIOUR_READS = {
    "set_point_shift": "dopamine_set_point_shift",
    "release_loss": "dopamine_release_loss",
    "craving": "glutamate_craving",
    "negative_affect": "affect_negative_affect",
    "hedonic_deficit": "dopamine_hedonic_deficit",
    "da_phasic_peak": "dopamine_da_phasic_peak",
}
#: The brain modules that give them, with what they read (from the registry).
BRAIN_FOR_BEHAVIOUR = tuple(
    m.NAME for m in system.brain_modules_for(tuple(BEHAVIOUR_READS.values()))
)

_KIND = {"home": 0, "operant": 1, "cpp_confine": 2, "cpp_test": 3}
_DOSE_KIND = {"conditioning": 0, "prime": 1, "antagonist": 2}
_MAX_DOSES = 4
#: Most components of a within-session unit-dose schedule.
MAX_COMPONENTS = 12
# daily outputs
(D_AMEAN, D_APEAK, D_EPEAK, D_WMEAN, D_WPEAK, D_WANT, D_PHI, D_TOL) = range(8)
N_DAILY = 8
# carried behavioural state
(S_V, S_VMEM, S_H, S_NEXP, S_XD, S_XV, S_XDMEM, S_XVMEM) = range(8)
N_STATE = 8


@dataclass(frozen=True)
class Dose:
    """A non-contingent dose at ``time_s`` after the session starts (mg/kg)."""

    time_s: float
    drug: str
    route: str
    mg_per_kg: float
    kind: str = "prime"  # prime (MED-PC code 11) | antagonist | conditioning


@dataclass(frozen=True)
class Component:
    """One component of a within-session unit-dose schedule.

    The levers are out from ``start_s`` to ``end_s`` (s from session start)
    and each infusion earned then delivers ``mg_per_kg``; the component is
    signalled (a distinct stimulus), so the rat's expected drug effect of a
    press is that of the component's unit dose. Between components the levers
    are retracted (no responding, no drug).
    """

    start_s: float
    end_s: float
    mg_per_kg: float


@dataclass(frozen=True)
class SessionSpec:
    """What one rat does on one day.

    ``kind`` is ``home`` (no session), ``operant`` (a self-administration,
    extinction or test session), ``cpp_confine`` (confinement to one
    compartment, ``zone`` = ``drug`` or ``vehicle``, with any conditioning
    ``doses``) or ``cpp_test`` (free choice).

    ``components`` gives a within-session unit-dose schedule (start, end,
    unit dose of each component, in time order); empty, the whole session is
    one component at ``unit_dose_mg_kg`` (which then gives exactly the
    numbers of an explicit one-component schedule, tested). With components,
    ``unit_dose_mg_kg`` is not used for dosing, and the last component's dose
    is the one the rat remembers for later unreinforced sessions.
    """

    kind: str = "home"
    phase: str = "home"
    duration_s: float = 0.0
    ratio: int = 1
    progressive: bool = False
    unit_dose_mg_kg: float = 0.0
    reinforced: bool = True
    cue: bool = True
    timeout_s: float = 20.0
    cue_s: float = 20.0
    infusion_s: float = 5.0
    footshock_min: float = 0.0
    footshock_interval_s: float = 40.0
    zone: str = "drug"
    doses: tuple[Dose, ...] = field(default_factory=tuple)
    components: tuple[Component, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in _KIND:
            raise ValueError(f"session kind '{self.kind}' not in {sorted(_KIND)}")
        if not 0 <= self.duration_s <= DAY_S - 3600:
            raise ValueError(f"session length {self.duration_s} s outside 0-{DAY_S - 3600} s")
        if self.ratio < 1:
            raise ValueError(f"ratio {self.ratio} must be >= 1")
        if self.unit_dose_mg_kg < 0 or self.timeout_s < 0 or self.infusion_s < 1:
            raise ValueError("unit dose and timeout must be >= 0 and the infusion >= 1 s")
        if self.zone not in ("drug", "vehicle"):
            raise ValueError(f"zone '{self.zone}' not in drug, vehicle")
        if len(self.doses) > _MAX_DOSES:
            raise ValueError(f"at most {_MAX_DOSES} scheduled doses a day")
        for d in self.doses:
            if not 0 <= d.time_s < DAY_S or d.mg_per_kg < 0 or d.kind not in _DOSE_KIND:
                raise ValueError(f"bad scheduled dose {d}")
        if self.components and self.kind != "operant":
            raise ValueError("a unit-dose schedule needs an operant session")
        if len(self.components) > MAX_COMPONENTS:
            raise ValueError(f"at most {MAX_COMPONENTS} components a session")
        end = 0.0
        for c in self.components:
            if not end <= c.start_s < c.end_s <= self.duration_s or c.mg_per_kg < 0:
                raise ValueError(
                    f"bad component {c}: components must be in time order, not overlap, "
                    f"lie within the {self.duration_s:g}-s session and have a dose >= 0"
                )
            end = c.end_s

    def schedule(self) -> tuple[Component, ...]:
        """The unit-dose schedule in force (one component for the whole session by default)."""
        if self.components:
            return self.components
        return (Component(0.0, float(int(self.duration_s)), self.unit_dose_mg_kg),)


@dataclass
class DayResult:
    """One simulated day of every rat in the lab (arrays over rats)."""

    day: int
    specs: list[SessionSpec]
    counters: np.ndarray  # (rats, len(COUNTERS))
    events: list[tuple[np.ndarray, np.ndarray]]  # per rat: times (s), codes
    daily: dict[str, np.ndarray]
    zone_s: np.ndarray  # (rats, 3): seconds in ZONES during a cpp_test
    brain: dict[str, np.ndarray]  # the brain read-outs the day's decisions used
    state: dict[str, np.ndarray]  # behavioural state at the end of the day


# ----------------------------------------------------------------------------- kernel
@njit(cache=True, inline="always")
def _odds(z, w_rows, kd, tau, n_lig, n, c_buf):
    """Total binding odds and efficacy-weighted odds from modal coordinates (rows ``w_rows``)."""
    o = 0.0
    w = 0.0
    for li in range(n_lig):
        c = 0.0
        for m in range(n):
            c += w_rows[li, m] * z[m]
        c = max(c, 0.0)
        c_buf[li] = c
        o += c / kd[li]
        w += tau[li] * c / kd[li]
    return o, w


@njit(cache=True, inline="always")
def _odds_int(z, w_e, w_p, kd, tau, n_lig, n):
    """Interoceptive odds: per ligand the larger of effect-site and plasma-equivalent levels."""
    o = 0.0
    w = 0.0
    for li in range(n_lig):
        ce = 0.0
        cp = 0.0
        for m in range(n):
            ce += w_e[li, m] * z[m]
            cp += w_p[li, m] * z[m]
        c = max(ce, cp, 0.0)
        o += c / kd[li]
        w += tau[li] * c / kd[li]
    return o, w


@njit(cache=True, inline="always")
def _draw(seed, rat, day, step, purpose):
    """Uniform draw of one purpose (1 press, 3 shock, 5-6 zone) at one step of one rat's day."""
    return _uniform(seed, rat, (day * 131072 + step) * 8 + purpose)


@njit(cache=True)
def _emit(ev_t, ev_c, i, k, t, code):
    if k < ev_t.shape[1]:
        ev_t[i, k] = t
        ev_c[i, k] = code
    return k + 1


@njit(cache=True, parallel=True, error_model="numpy")
def _run_day(
    ids,
    seed,
    day,
    lam,
    w_e,
    w_p,
    vinv,
    kd,
    tau,
    sig,
    beh,
    dap,
    unit_odds,
    iv_state,
    iv_factor,
    bw,
    kind,
    dur_s,
    ratio,
    progressive,
    comp_t0,
    comp_t1,
    comp_dose,
    n_comp,
    reinforced,
    cue_on,
    timeout_s,
    cue_s,
    inf_s,
    shock_end_s,
    shock_interval_s,
    zone,
    dose_t,
    dose_state,
    dose_amt,
    dose_kind,
    n_doses,
    shift,
    affect,
    craving,
    release_loss,
    bias_d,
    z_state,
    u_state,
    b_state,
    out_counters,
    out_daily,
    out_zone,
    ev_t,
    ev_c,
    out_n_ev,
):
    """Simulate one day of every rat (module docstring); state arrays are updated in place."""
    n_rat = lam.shape[0]
    n = lam.shape[1]
    n_lig = kd.shape[1]
    ln2 = math.log(2.0)
    for i in prange(n_rat):
        imax = sig[i, 0]
        gain = sig[i, 1]
        kf = sig[i, 2] / 3600.0
        ks = sig[i, 3] / 3600.0
        phi_s = sig[i, 4]
        wscale = sig[i, 5]
        pb = beh[i]
        lam_max = pb[0] / 3600.0
        u50 = pb[1]
        hill = pb[2]
        lam_0 = pb[3] / 3600.0
        g_i = pb[4]
        h0 = pb[5]
        k_a = pb[6]
        k_n = pb[7]
        k_c = pb[8]
        a_v = pb[10]
        a_e = pb[11]
        k_sr = ln2 / pb[12] / 3600.0
        a_h = pb[13]
        a_he = pb[14]
        lam_h = pb[15] / 3600.0
        a_f = pb[16]
        phi50 = pb[17]
        r_hill = pb[18]
        g_c = pb[19]
        g_s = pb[20]
        k_cue = ln2 / (pb[21] * 3600.0)
        k_stress = ln2 / (pb[22] * 3600.0)
        a_p = pb[23]
        k_ext = pb[24] / 3600.0
        beta = pb[25]
        r_side = pb[26] / 3600.0
        r_centre = pb[27] / 3600.0
        k_forget = ln2 / pb[29] / 3600.0
        da_beta = dap[i, 0]
        da_hill = dap[i, 1]
        da_a50 = dap[i, 2]
        rl = release_loss[i]
        z = z_state[i].copy()
        uf = u_state[i, 0]
        us = u_state[i, 1]
        v = b_state[i, S_V]
        v_mem = b_state[i, S_VMEM]
        habit = b_state[i, S_H]
        n_exp = b_state[i, S_NEXP]
        x_d = b_state[i, S_XD]
        x_v = b_state[i, S_XV]
        x_dmem = b_state[i, S_XDMEM]
        x_vmem = b_state[i, S_XVMEM]
        c_buf = np.empty(n_lig)
        e1 = np.empty(n)
        e_home = np.empty(n)
        e_coarse = np.empty(n)
        for m in range(n):
            e1[m] = math.exp(lam[i, m] * (1.0 / 3600.0))
            e_home[m] = math.exp(lam[i, m] * (HOME_DT_S / 3600.0))
            e_coarse[m] = math.exp(lam[i, m] * (HOME_COARSE_S / 3600.0))
        # counters
        c_act = 0
        c_inact = 0
        c_inf = 0
        c_to = 0
        c_ratio = 0
        c_prime = 0
        c_shock = 0
        k_ev = 0
        # session state
        kd_i = kd[i]
        tau_i = tau[i]
        sess = dur_s[i]
        knd = kind[i]
        req = ratio[i]
        j_pr = 1
        if progressive[i]:
            req = O.pr_requirement(1)
        since = 0
        since_all = 0
        retr = 1.0
        to_end = -1.0
        cue_off_t = -1.0
        last_cue_off = -1e18
        last_shock = -1e18
        pump_end = -1.0
        pump_left = 0
        ci = 0
        udose = comp_dose[i, 0]
        unit_amt = udose * iv_factor[i] * bw[i]
        pump_rate = 0.0
        next_dose = 0
        ant_t = -1.0
        w_ant = 0.0
        a_int = 0.0
        a_sum = 0.0
        a_peak = 0.0
        e_peak = 0.0
        w_sum = 0.0
        w_peak = 0.0
        phi_sum = 0.0
        zone_now = 2
        t_zone = np.zeros(3)
        if knd == 1:
            k_ev = _emit(ev_t, ev_c, i, k_ev, 0.0, 9)
        t = 0.0
        step = 0
        while t < DAY_S - 1e-9:
            in_sess = t < sess
            if in_sess:
                dt = 1.0
            else:
                # fine steps while drug from the session or a scheduled dose is on board
                near = t - sess < HOME_FINE_S
                if next_dose > 0 and t - dose_t[i, next_dose - 1] < HOME_FINE_S:
                    near = True
                if next_dose < n_doses[i] and dose_t[i, next_dose] - t < HOME_COARSE_S:
                    near = True
                dt = float(HOME_DT_S) if near else float(HOME_COARSE_S)
                dt = min(dt, DAY_S - t)
            # ---- scheduled doses due now ----
            while next_dose < n_doses[i] and dose_t[i, next_dose] <= t + 1e-9:
                amt = dose_amt[i, next_dose] * bw[i]
                st = dose_state[i, next_dose]
                for m in range(n):
                    z[m] += vinv[i, m, st] * amt
                if dose_kind[i, next_dose] == 1:
                    c_prime += 1
                    if knd == 1 and dose_t[i, next_dose] <= sess:
                        k_ev = _emit(ev_t, ev_c, i, k_ev, dose_t[i, next_dose], 11)
                elif dose_kind[i, next_dose] == 2:
                    ant_t = dose_t[i, next_dose]
                next_dose += 1
            # ---- infusion running: one-second increments ----
            if pump_left > 0:
                for m in range(n):
                    z[m] += vinv[i, m, iv_state[i]] * pump_rate
                pump_left -= 1
            # ---- receptor, signalling ----
            o_e, w_eo = _odds(z, w_e[i], kd_i, tau_i, n_lig, n, c_buf)
            a = activation(stimulus(w_eo, o_e))
            u = uf + us
            cmp = camp_level(a, u, imax)
            wd = withdrawal_index(cmp, wscale)
            eff = opioid_effect(cmp, imax)
            a_sum += a * dt
            w_sum += wd * dt
            a_peak = max(a_peak, a)
            e_peak = max(e_peak, eff)
            w_peak = max(w_peak, wd)
            if ant_t >= 0.0 and t >= ant_t and t <= ant_t + 3600.0:
                w_ant = max(w_ant, wd)
            tol = 1.0 + u
            phi_now = O.surge_fraction(a, tol, rl, da_beta, da_hill, da_a50)
            # ---- behaviour ----
            if in_sess and knd == 1:
                # the unit-dose component in force (signalled: the rat expects its dose)
                while ci + 1 < n_comp[i] and comp_t0[i, ci + 1] <= t:
                    ci += 1
                    udose = comp_dose[i, ci]
                    unit_amt = udose * iv_factor[i] * bw[i]
                levers = comp_t0[i, ci] <= t < comp_t1[i, ci]
                o_i, w_io = _odds_int(z, w_e[i], w_p[i], kd_i, tau_i, n_lig, n)
                a_int = activation(stimulus(w_io, o_i))
                stress = 0.0
                if last_shock > -1e17:
                    stress = math.exp(-k_stress * (t - last_shock))
                if shock_end_s[i] > 0.0 and t < shock_end_s[i]:
                    ush = _draw(seed, ids[i], day, step, 3)
                    if ush < dt / shock_interval_s[i]:
                        last_shock = t
                        stress = 1.0
                        c_shock += 1
                        k_ev = _emit(ev_t, ev_c, i, k_ev, t, 12)
                if t < cue_off_t:
                    cue = 1.0
                else:
                    cue = math.exp(-k_cue * (t - last_cue_off)) if last_cue_off > -1e17 else 0.0
                h_star = O.set_point(
                    h0, k_a, shift[i], k_n, affect[i], stress, k_c, craving[i], cue
                )
                e_now = O.hedonic_state(a_int, u, imax)
                dr = udose if reinforced[i] else 0.0
                if dr <= 0.0:
                    # no drug expected from the lever: the trained expectation is what is retrieved
                    dr = unit_odds[i, 2]
                a_plus = activation(
                    stimulus(w_io + dr * unit_odds[i, 1], o_i + dr * unit_odds[i, 0])
                )
                e_plus = O.hedonic_state(a_plus, u, imax)
                r_h = O.drive(e_now, h_star) - O.drive(e_plus, h_star)
                psi = O.retrieval(phi_now, phi50, r_hill, craving[i], cue, g_c, stress, g_s)
                if t < to_end:
                    # the timeout is signalled: only habit and exploration press through it
                    r_h = 0.0
                lam_a, lam_i = O.press_hazards(
                    v, v_mem, psi * retr, r_h, habit, lam_max, u50, hill, lam_h, lam_0, g_i
                )
                p_a = min(lam_a * dt, 0.9)
                p_i = min(lam_i * dt, 0.9 - p_a)
                if not levers:
                    # between components the levers are retracted
                    p_a = 0.0
                    p_i = 0.0
                ud = _draw(seed, ids[i], day, step, 1)
                if ud < p_a:
                    c_act += 1
                    since_all += 1
                    k_ev = _emit(ev_t, ev_c, i, k_ev, t, 1)
                    if t < to_end:
                        c_to += 1
                        if since_all > n_exp + 0.5:
                            v, retr, habit = O.extinguish(v, retr, psi, habit, a_e, a_he)
                    else:
                        since += 1
                        if since >= req:
                            c_ratio = req
                            if reinforced[i] and unit_amt > 0.0:
                                c_inf += 1
                                k_ev = _emit(ev_t, ev_c, i, k_ev, t, 3)
                                pump_end = t + inf_s[i]
                                pump_left = int(inf_s[i])
                                pump_rate = unit_amt / pump_left
                                if pump_end <= sess:
                                    k_ev = _emit(ev_t, ev_c, i, k_ev, pump_end, 4)
                                phi_plus = O.surge_fraction(
                                    a_plus, tol, rl, da_beta, da_hill, da_a50
                                )
                                v, v_mem, habit, n_exp = O.learn(
                                    v, v_mem, habit, n_exp, phi_plus, since_all, a_v, a_h, a_f
                                )
                                since_all = 0
                            else:
                                v, retr, habit = O.extinguish(v, retr, psi, habit, a_e, a_he)
                            if cue_on[i]:
                                k_ev = _emit(ev_t, ev_c, i, k_ev, t, 7)
                                cue_off_t = t + cue_s[i]
                                last_cue_off = cue_off_t
                                if cue_off_t <= sess:
                                    k_ev = _emit(ev_t, ev_c, i, k_ev, cue_off_t, 8)
                            if timeout_s[i] > 0.0 and (cue_on[i] or reinforced[i]):
                                to_end = t + timeout_s[i]
                                k_ev = _emit(ev_t, ev_c, i, k_ev, t, 5)
                                if to_end <= sess:
                                    k_ev = _emit(ev_t, ev_c, i, k_ev, to_end, 6)
                            since = 0
                            if progressive[i]:
                                j_pr += 1
                                req = O.pr_requirement(j_pr)
                        elif since_all > n_exp + 0.5:
                            v, retr, habit = O.extinguish(v, retr, psi, habit, a_e, a_he)
                elif ud < p_a + p_i:
                    c_inact += 1
                    k_ev = _emit(ev_t, ev_c, i, k_ev, t, 2)
            elif in_sess and knd == 2:
                phi_sum += phi_now * dt
            elif in_sess and knd == 3:
                psi_d = O.retrieval(phi_now, phi50, r_hill, 0.0, 0.0, 0.0, 0.0, 0.0)
                xe_d = x_d + (x_dmem - x_d) * psi_d + bias_d[i]
                xe_v = x_v + (x_vmem - x_v) * psi_d - bias_d[i]
                t_zone[zone_now] += dt
                if zone_now == 0:
                    x_d *= math.exp(-k_ext * dt)
                elif zone_now == 1:
                    x_v *= math.exp(-k_ext * dt)
                uz = _draw(seed, ids[i], day, step, 5)
                if zone_now == 2:
                    if uz < r_centre * dt:
                        pd_ = math.exp(beta * xe_d)
                        pv_ = math.exp(beta * xe_v)
                        uz2 = _draw(seed, ids[i], day, step, 6)
                        zone_now = 0 if uz2 < pd_ / (pd_ + pv_) else 1
                else:
                    xe = xe_d if zone_now == 0 else xe_v
                    if uz < r_side * math.exp(-beta * xe) * dt:
                        zone_now = 2
            if in_sess and knd == 2 and n_doses[i] == 0:
                # drug-free confinement: extinction of the compartment's value
                if zone[i] == 0:
                    x_d *= math.exp(-k_ext * dt)
                else:
                    x_v *= math.exp(-k_ext * dt)
            # ---- advance PK and superactivation over the step ----
            if in_sess:
                for m in range(n):
                    z[m] *= e1[m]
            elif dt == HOME_DT_S:
                for m in range(n):
                    z[m] *= e_home[m]
            elif dt == HOME_COARSE_S:
                for m in range(n):
                    z[m] *= e_coarse[m]
            else:
                for m in range(n):
                    z[m] *= math.exp(lam[i, m] * (dt / 3600.0))
            dem = superactivation_demand(a, imax, gain)
            target_f = (1.0 - phi_s) * dem
            target_s = phi_s * dem
            uf = target_f + (uf - target_f) * math.exp(-kf * dt)
            us = target_s + (us - target_s) * math.exp(-ks * dt)
            if in_sess and knd == 1 and t + dt >= sess:
                k_ev = _emit(ev_t, ev_c, i, k_ev, sess, 10)
            t += dt
            step += 1
        # ---- end of day: conditioning update, forgetting, spontaneous recovery ----
        if knd == 2 and n_doses[i] > 0 and sess > 0:
            mean_phi = phi_sum / sess
            if zone[i] == 0:
                x_d = x_d + a_p * (mean_phi - x_d)
                x_dmem = max(x_dmem, x_d)
            else:
                x_v = x_v + a_p * (mean_phi - x_v)
                x_vmem = max(x_vmem, x_v)
        fgt = math.exp(-k_forget * DAY_S)
        x_d *= fgt
        x_v *= fgt
        v = v_mem + (v - v_mem) * math.exp(-k_sr * DAY_S)
        # ---- write back ----
        for m in range(n):
            z_state[i, m] = z[m]
        u_state[i, 0] = uf
        u_state[i, 1] = us
        b_state[i, S_V] = v
        b_state[i, S_VMEM] = v_mem
        b_state[i, S_H] = habit
        b_state[i, S_NEXP] = n_exp
        b_state[i, S_XD] = x_d
        b_state[i, S_XV] = x_v
        b_state[i, S_XDMEM] = x_dmem
        b_state[i, S_XVMEM] = x_vmem
        out_counters[i, 0] = c_act
        out_counters[i, 1] = c_inact
        out_counters[i, 2] = c_inf
        out_counters[i, 3] = c_to
        out_counters[i, 4] = c_ratio
        out_counters[i, 5] = c_prime
        out_counters[i, 6] = c_shock
        out_daily[i, D_AMEAN] = a_sum / DAY_S
        out_daily[i, D_APEAK] = a_peak
        out_daily[i, D_EPEAK] = e_peak
        out_daily[i, D_WMEAN] = w_sum / DAY_S
        out_daily[i, D_WPEAK] = w_peak
        out_daily[i, D_WANT] = w_ant if ant_t >= 0.0 else np.nan
        out_daily[i, D_PHI] = phi_sum / sess if knd == 2 and sess > 0 else np.nan
        out_daily[i, D_TOL] = 1.0 + uf + us
        for k in range(3):
            out_zone[i, k] = t_zone[k]
        out_n_ev[i] = k_ev


# ----------------------------------------------------------------------------- Python side
def _plasma_rows(pk, ligands, vmat, samples, n) -> np.ndarray:
    """Rows mapping modal coordinates to plasma-equivalent concentrations (nM) per ligand."""
    rows = np.zeros((n, len(ligands), pk.n))
    for li, lig in enumerate(ligands):
        c = pk.central_state[lig]
        kp = np.asarray(samples.get("kp_6mam", 1.0)) if lig == "6mam" else 1.0
        rows[:, li, :] = (kp * 1000.0 / pk.volume[lig])[:, None] * vmat[:, c, :]
    return rows


class OperantLab:
    """A cohort of virtual rats, advanced one day at a time (closed loop).

    Parameters
    ----------
    params
        Rat parameter set (``load_parameters("rat")``); its ``table_operant.csv``
        rows drive the policy.
    animals
        Number of rats or their global indices.
    seed
        Seed of the parameter draws and of every behavioural random stream.
    variability
        Scale on inter-animal variability (0: identical rats).
    pairs
        (drug, route) pairs the protocol will dose besides self-administered IV heroin
        (e.g. ``("heroin", "sc")`` primes, ``("naloxone", "sc")``, ``("morphine", "sc")``).
    """

    def __init__(
        self,
        params: ParameterSet,
        animals: int | np.ndarray,
        seed: int = 0,
        variability: float = 1.0,
        pairs: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.ids = (
            np.arange(int(animals)) if np.isscalar(animals) else np.asarray(animals, dtype=np.int64)
        )
        n = len(self.ids)
        self.n = n
        self.seed = int(seed)
        self.params = params
        s = params.sample(self.ids, seed, variability)
        self.samples = s
        self.pairs = sorted({("heroin", "iv"), *pairs})
        pk = build_pk(s, self.pairs, n)
        self.pk = pk
        lam, vmat, vinv = modal_decomposition(pk.matrix)
        ligands = [lig for lig in LIGANDS if lig in pk.effect_state]
        self.ligands = ligands
        eff_rows = [pk.effect_state[lig] for lig in ligands]
        self._lam = np.ascontiguousarray(lam)
        self._vinv = np.ascontiguousarray(vinv)
        self._vmat = vmat
        self._w_e = np.ascontiguousarray(vmat[:, eff_rows, :])
        self._w_p = np.ascontiguousarray(_plasma_rows(pk, ligands, vmat, s, n))

        def per_ligand(value) -> np.ndarray:
            return np.stack([np.broadcast_to(value(lig), (n,)).astype(float) for lig in ligands], 1)

        self._kd = np.ascontiguousarray(
            per_ligand(lambda lig: s["kd_morphine"] * s.get(f"affinity_ratio_{lig}", 1.0))
        )
        self._tau = np.ascontiguousarray(per_ligand(lambda lig: s.get(f"efficacy_{lig}", 0.0)))
        ln2 = math.log(2.0)
        self._sig = np.ascontiguousarray(
            np.stack(
                [
                    s["ac_imax"],
                    s["ac_gain"],
                    ln2 / s["t_half_ac_fast"],
                    ln2 / s["t_half_ac_slow"],
                    s["frac_ac_slow"],
                    s["withdrawal_scale"],
                ],
                axis=1,
            )
        )
        self._beh = np.ascontiguousarray(np.stack([s[k] for k in O.PARAM_NAMES], axis=1))
        self._dap = np.ascontiguousarray(
            np.stack([s["da_tolerance_coupling"], s["da_surge_hill"], s["da_surge_a50"]], axis=1)
        )
        self._bw = np.ascontiguousarray(s["body_weight"])
        self._iv_state = np.full(n, pk.dose_state[("heroin", "iv")], dtype=np.int64)
        self._iv_factor = np.ascontiguousarray(pk.dose_factor[("heroin", "iv")])
        self._unit_odds = np.zeros((n, 3))
        self._unit_odds[:, :2] = self._one_infusion_odds()
        self._bias = s["cpp_side_bias_sd"] * standard_normal_stream(seed, self.ids, "cpp_side_bias")
        # carried state
        self.z = np.zeros((n, pk.n))
        self.u = np.zeros((n, 2))
        self.b = np.zeros((n, N_STATE))
        self.b[:, S_V] = s["value_initial"]
        self.b[:, S_VMEM] = s["value_initial"]
        self.b[:, S_NEXP] = 1.0
        self.modules = list(system.brain_modules_for(tuple(BEHAVIOUR_READS.values())))
        cov = {"age_years": np.full(n, 0.25), "female": np.zeros(n), "smoked_fraction": np.zeros(n)}
        self.clock = BrainClock(self.modules, s, cov)
        zero = np.zeros(n)
        drug_free = {"alive": np.ones(n), "tolerance_shift": np.ones(n)}  # the rest are 0
        self._brain_out, _ = self.clock.advance(
            {k: drug_free.get(k, zero) for k in system.DRIVERS}, 0.0, None
        )
        self.day = 0
        self._cap = 4096

    def _one_infusion_odds(self) -> np.ndarray:
        """Peak brain binding odds (total, efficacy-weighted) of a 1 mg/kg IV heroin bolus."""
        amt = self._iv_factor * self._bw
        st = self._iv_state[0]
        z0 = self._vinv[:, :, st] * amt[:, None]
        t_h = np.arange(0, 1801, 5.0) / 3600.0
        zt = z0[:, None, :] * np.exp(self._lam[:, None, :] * t_h[None, :, None])
        conc = np.maximum(np.einsum("nlm,ntm->ntl", self._w_e, zt), 0.0)
        odds = conc / self._kd[:, None, :]
        o = odds.sum(axis=2)
        w = (odds * self._tau[:, None, :]).sum(axis=2)
        k = np.argmax(w / (1.0 + o), axis=1)
        rows = np.arange(self.n)
        return np.stack([o[rows, k], w[rows, k]], axis=1)

    @property
    def brain(self) -> dict[str, np.ndarray]:
        """The brain read-outs the next day's decisions use (from the evening before)."""
        b = self._brain_out
        return {name: b[variable] for name, variable in BEHAVIOUR_READS.items()}

    def pk_state(self) -> np.ndarray:
        """PK amounts (umol) and effect-site concentrations (nM) now, ``(rats, states)``."""
        return np.einsum("nij,nj->ni", self._vmat, self.z)

    def state(self) -> dict[str, np.ndarray]:
        """Behavioural state (expectation, habit, place values) and tolerance, per rat."""
        return {
            "expectation": self.b[:, S_V].copy(),
            "expectation_trained": self.b[:, S_VMEM].copy(),
            "habit": self.b[:, S_H].copy(),
            "expected_ratio": self.b[:, S_NEXP].copy(),
            "place_value_drug": self.b[:, S_XD].copy(),
            "place_value_vehicle": self.b[:, S_XV].copy(),
            "tolerance_shift": 1.0 + self.u.sum(axis=1),
        }

    def _pack(self, specs: Sequence[SessionSpec]) -> dict[str, np.ndarray]:
        n = self.n
        if len(specs) != n:
            raise ValueError(f"{len(specs)} session specs for {n} rats")
        f = {
            "kind": np.array([_KIND[s.kind] for s in specs], np.int64),
            "dur_s": np.array(
                [float(int(s.duration_s)) if s.kind != "home" else 0.0 for s in specs]
            ),
            "ratio": np.array([s.ratio for s in specs], np.int64),
            "progressive": np.array([s.progressive for s in specs], np.bool_),
            "unit_dose": np.array([s.unit_dose_mg_kg for s in specs]),
            "reinforced": np.array([s.reinforced for s in specs], np.bool_),
            "cue_on": np.array([s.cue for s in specs], np.bool_),
            "timeout_s": np.array([s.timeout_s for s in specs]),
            "cue_s": np.array([s.cue_s for s in specs]),
            "inf_s": np.array([float(max(1, round(s.infusion_s))) for s in specs]),
            "shock_end_s": np.array([s.footshock_min * 60.0 for s in specs]),
            "shock_interval_s": np.array([s.footshock_interval_s for s in specs]),
            "zone": np.array([0 if s.zone == "drug" else 1 for s in specs], np.int64),
        }
        dose_t = np.full((n, _MAX_DOSES), np.inf)
        dose_state = np.zeros((n, _MAX_DOSES), np.int64)
        dose_amt = np.zeros((n, _MAX_DOSES))
        dose_kind = np.zeros((n, _MAX_DOSES), np.int64)
        n_doses = np.zeros(n, np.int64)
        for i, s in enumerate(specs):
            for k, d in enumerate(sorted(s.doses, key=lambda d: d.time_s)):
                pair = (d.drug, d.route)
                if pair not in self.pk.dose_state:
                    raise ValueError(f"dose {pair} not declared in the lab's pairs {self.pairs}")
                dose_t[i, k] = d.time_s
                dose_state[i, k] = self.pk.dose_state[pair]
                dose_amt[i, k] = d.mg_per_kg * self.pk.dose_factor[pair][i]
                dose_kind[i, k] = _DOSE_KIND[d.kind]
            n_doses[i] = len(s.doses)
        comp_t0 = np.full((n, MAX_COMPONENTS), np.inf)
        comp_t1 = np.full((n, MAX_COMPONENTS), np.inf)
        comp_dose = np.zeros((n, MAX_COMPONENTS))
        n_comp = np.ones(n, np.int64)
        remembered = f["unit_dose"].copy()
        for i, s in enumerate(specs):
            sched = s.schedule()
            for k, c in enumerate(sched):
                comp_t0[i, k] = c.start_s
                comp_t1[i, k] = c.end_s
                comp_dose[i, k] = c.mg_per_kg
            n_comp[i] = len(sched)
            remembered[i] = sched[-1].mg_per_kg
        f.update(
            comp_t0=comp_t0,
            comp_t1=comp_t1,
            comp_dose=comp_dose,
            n_comp=n_comp,
            remembered_dose=remembered,
        )
        f.update(
            dose_t=dose_t,
            dose_state=dose_state,
            dose_amt=dose_amt,
            dose_kind=dose_kind,
            n_doses=n_doses,
        )
        return f

    def step_day(self, specs: Sequence[SessionSpec]) -> DayResult:
        """Simulate one day (session and home cage) for every rat and advance the brain clock."""
        f = self._pack(specs)
        n = self.n
        brain = self.brain
        z0, u0, b0 = self.z.copy(), self.u.copy(), self.b.copy()
        longest = float(f["dur_s"].max(initial=0.0))
        cap = max(self._cap, int(longest * 0.2) + 512)
        while True:
            counters = np.zeros((n, len(COUNTERS)))
            daily = np.zeros((n, N_DAILY))
            zone_s = np.zeros((n, 3))
            ev_t = np.zeros((n, cap))
            ev_c = np.zeros((n, cap), np.int64)
            n_ev = np.zeros(n, np.int64)
            _run_day(
                self.ids,
                np.int64(self.seed),
                np.int64(self.day),
                self._lam,
                self._w_e,
                self._w_p,
                self._vinv,
                self._kd,
                self._tau,
                self._sig,
                self._beh,
                self._dap,
                self._unit_odds,
                self._iv_state,
                self._iv_factor,
                self._bw,
                f["kind"],
                f["dur_s"],
                f["ratio"],
                f["progressive"],
                f["comp_t0"],
                f["comp_t1"],
                f["comp_dose"],
                f["n_comp"],
                f["reinforced"],
                f["cue_on"],
                f["timeout_s"],
                f["cue_s"],
                f["inf_s"],
                f["shock_end_s"],
                f["shock_interval_s"],
                f["zone"],
                f["dose_t"],
                f["dose_state"],
                f["dose_amt"],
                f["dose_kind"],
                f["n_doses"],
                np.ascontiguousarray(brain["set_point_shift"]),
                np.ascontiguousarray(brain["negative_affect"]),
                np.ascontiguousarray(brain["craving"]),
                np.ascontiguousarray(brain["release_loss"]),
                self._bias,
                self.z,
                self.u,
                self.b,
                counters,
                daily,
                zone_s,
                ev_t,
                ev_c,
                n_ev,
            )
            if n_ev.max(initial=0) <= cap:
                break
            # the event buffer overflowed: restore the day's start and run it again, larger
            self.z, self.u, self.b = z0.copy(), u0.copy(), b0.copy()
            cap = int(n_ev.max()) + 256
        self._cap = max(self._cap, cap // 2)
        events = []
        for i, spec in enumerate(specs):
            k = int(n_ev[i])
            t_i, c_i = ev_t[i, :k], ev_c[i, :k]
            if spec.components:
                # the signalled starts and ends of an explicit unit-dose schedule
                marks = [(c.start_s, CODES["component_start"]) for c in spec.components]
                marks += [(c.end_s, CODES["component_end"]) for c in spec.components]
                t_i = np.concatenate([t_i, [m[0] for m in marks]])
                c_i = np.concatenate([c_i, np.array([m[1] for m in marks], np.int64)])
            order = np.argsort(t_i, kind="stable")
            events.append((t_i[order], c_i[order]))
        reinforced = (f["kind"] == 1) & f["reinforced"] & (f["remembered_dose"] > 0)
        self._unit_odds[reinforced, 2] = f["remembered_dose"][reinforced]
        drivers = {
            "activation_mean": daily[:, D_AMEAN],
            "activation_peak": daily[:, D_APEAK],
            "effect_peak": daily[:, D_EPEAK],
            "withdrawal_mean": daily[:, D_WMEAN],
            "withdrawal_peak": daily[:, D_WPEAK],
            "hypoxia_minutes": np.zeros(n),
            "overdoses": np.zeros(n),
            "alive": np.ones(n),
            "tolerance_shift": daily[:, D_TOL],
            "cue_pairing": ((f["kind"] == 1) & f["cue_on"]).astype(float),
        }
        self._brain_out, _ = self.clock.advance(drivers, float(self.day + 1), 1.0)
        result = DayResult(
            day=self.day,
            specs=list(specs),
            counters=counters,
            events=events,
            daily={
                "activation_mean": daily[:, D_AMEAN],
                "activation_peak": daily[:, D_APEAK],
                "withdrawal_mean": daily[:, D_WMEAN],
                "withdrawal_peak": daily[:, D_WPEAK],
                "antagonist_withdrawal_peak": daily[:, D_WANT],
                "conditioning_surge": daily[:, D_PHI],
                "tolerance_shift": daily[:, D_TOL],
            },
            zone_s=zone_s,
            brain=brain,
            state=self.state(),
        )
        self.day += 1
        return result

    def run(
        self,
        schedule: Sequence[Sequence[SessionSpec]]
        | Callable[[int, list[DayResult]], Sequence[SessionSpec] | None],
        progress: Callable[[int], None] | None = None,
    ) -> list[DayResult]:
        """Run days from a fixed schedule (days x rats) or a callable.

        A callable gets the day number and the results so far and returns the
        day's specs, or ``None`` when the protocol is over.
        """
        out: list[DayResult] = []
        if callable(schedule):
            while (specs := schedule(self.day, out)) is not None:
                out.append(self.step_day(specs))
                if progress:
                    progress(self.day)
        else:
            for specs in schedule:
                out.append(self.step_day(specs))
                if progress:
                    progress(self.day)
        return out


def hours(h: float) -> float:
    """Seconds in ``h`` hours (for session lengths)."""
    return h * 3600.0


assert HOURS_PER_DAY * 3600 == DAY_S
