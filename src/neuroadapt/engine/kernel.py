"""The multi-rate cohort kernel (numba).

One call simulates a chunk of subjects in parallel (``prange``); each subject
walks its own sorted events. Between breakpoints (doses, infusion ends,
record times, a 24 h cap) the linear PK is exact: the state is carried in
modal coordinates of the subject's system matrix, ``x(s) = V (e^{lambda s}
(z0 + q/lambda) - q/lambda)`` with ``q = V^-1 r`` the constant infusion
input. Within an interval:

1. *Fast read-outs from closed-form concentrations.* Effect-site
   concentrations are evaluated on a fixed set of Gauss-Legendre nodes in
   geometrically growing panels after the breakpoint; receptor activation,
   cAMP, withdrawal and the quasi-steady respiratory state are evaluated
   there. Per interval each ligand's binding odds are a sum of exponentials,
   ``C_l(s)/K_l = sum_m c_lm e^{lambda_m s} - b_l``; the coefficients are
   formed once and the nodes are evaluated node-major from per-subject
   tables of ``e^{lambda_m s_j}``, so the inner loops vectorise.
2. *Slow states on the coarse clock.* AC superactivation obeys linear ODEs
   driven by activation, so it is advanced exactly with exponential weights
   over the same quadrature: ``U(tau) = U0 e^{-k tau} + k c sum_j w_j
   e^{-k (tau - s_j)} D(s_j)``.
3. *Respiration at fine resolution where it matters.* Where the quasi-steady
   PaO2 falls below a screening level, the window is stepped at
   ``fine_dt`` with the exact PK propagator and the first-order PaO2 lag;
   hypoxia minutes, overdose episodes, cardiac arrest and naloxone rescue
   are resolved there. A rescue splits the interval at the injection time.
   The window ends early once it is past the last node below the screen and
   both the lagged PaO2 and its target are back above it (no episode, no
   rescue pending); the lag then relaxes towards the interval's end value,
   as outside a window.

No model equation is written here: the kernel calls the model's functions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neuroadapt.model.behaviour import caution_decayed, cautious_dose
from neuroadapt.model.receptor import activation, agonist_occupancy, stimulus
from neuroadapt.model.respiration import (
    arrested,
    hypoxic_ventilation,
    pao2_lag_weight,
    pao2_relaxed,
    pao2_steady,
    pao2_step,
    relative_ventilation,
    respiratory_activation,
    spo2,
    time_below_arrest,
)
from neuroadapt.model.signalling import (
    camp_level,
    opioid_effect,
    superactivation_demand,
    withdrawal_index,
)
from neuroadapt.streams import event_uniform

# --- per-subject scalar parameter layout (engine.prepare fills it) ----------
PARAM_NAMES = (
    "ac_imax",
    "ac_gain",
    "k_ac_fast",
    "k_ac_slow",
    "frac_ac_slow",
    "withdrawal_scale",
    "resp_tolerance_gain",
    "wake_fraction",
    "co2_sensitivity",
    "p_wake",
    "p_chemo",
    "paco2_baseline",
    "fio2",
    "p_barometric",
    "p_water",
    "resp_quotient",
    "aa_gradient",
    "tau_o2",
    "severinghaus_a",
    "severinghaus_b",
    "pao2_arrest",
    "arrest_delay",
    "pao2_overdose",
    "pao2_hypoxia",
    "body_weight",
    "pao2_hypoxic_depression",
)
(
    I_IMAX,
    I_GAIN,
    I_KF,
    I_KS,
    I_PHI,
    I_WSCALE,
    I_RHO,
    I_WAKE,
    I_S,
    I_PW,
    I_PC,
    I_PACO2,
    I_FIO2,
    I_PB,
    I_PH2O,
    I_RQ,
    I_AA,
    I_TAUO2,
    I_SEVA,
    I_SEVB,
    I_PARREST,
    I_ARRDELAY,
    I_POD,
    I_PHYP,
    I_BW,
    I_PHD,
) = range(len(PARAM_NAMES))

# --- recorded variables: state at the record time, aggregates over the bin --
RECORD_VARS = (
    "u_fast",
    "u_slow",
    "activation",
    "camp",
    "opioid_effect",
    "withdrawal",
    "ventilation",
    "pao2",
    "spo2",
    "activation_peak",
    "effect_peak",
    "withdrawal_peak",
    "withdrawal_mean",
    "activation_mean",
    "camp_min",
    "camp_max",
    "spo2_min",
    "hypoxia_minutes",
    "overdoses",
    "alive",
    "agonist_occupancy",
)
(
    R_UF,
    R_US,
    R_A,
    R_CAMP,
    R_EFF,
    R_W,
    R_V,
    R_PAO2,
    R_SPO2,
    R_APEAK,
    R_EPEAK,
    R_WPEAK,
    R_WMEAN,
    R_AMEAN,
    R_CMIN,
    R_CMAX,
    R_SMIN,
    R_HYPMIN,
    R_OD,
    R_ALIVE,
    R_CAR,
) = range(len(RECORD_VARS))
N_REC = len(RECORD_VARS)

# --- overdose episode table ---------------------------------------------------
EPISODE_VARS = ("start_h", "min_pao2", "hypoxia_minutes", "severe_minutes", "outcome", "rescued")
N_EPI = len(EPISODE_VARS)
OUTCOME_RECOVERED, OUTCOME_FATAL = 0.0, 1.0

MAX_INTERVAL_H = 24.0

#: Quadrature rules: panel boundaries after each breakpoint (h), geometric so
#: that minutes-scale heroin/6-MAM kinetics and hours-scale morphine kinetics
#: are both resolved, and the Gauss-Legendre order within each panel. The
#: "reference" rule is far finer and serves accuracy checks.
QUADRATURE = {
    "standard": (np.array([0.0, 1.5, 4.0, 10.0, 25.0, 60.0, 150.0, 360.0, 900.0, 1440.0]), 3),
    "reference": (np.concatenate([[0.0], np.geomspace(0.05, 1440.0, 120)]), 5),
}


#: Slots of the cache of cut-panel exponentials (recurring interval lengths).
N_CUT = 4


def quadrature_rule(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Panel edges (h), Gauss-Legendre nodes and weights on [-1, 1] for a named rule."""
    edges_min, order = QUADRATURE[name]
    gx, gw = np.polynomial.legendre.leggauss(order)
    return edges_min / 60.0, gx, gw


@njit(cache=True, inline="always")
def _activation_at(zs, w_val, w_idx, w_cnt, tau, eps, n_lig):
    """Receptor activation ``A`` and agonist occupancy ``CAR`` from modal coordinates.

    ``w_val[l, :w_cnt[l]]`` are the non-zero weights of the modes ``w_idx`` that
    make up ligand ``l``'s binding odds ``C_l / K_l`` (effect-site row of ``V``
    divided by ``K_l``).
    """
    odds = 0.0
    wodds = 0.0
    eodds = 0.0
    for li in range(n_lig):
        o = 0.0
        for k in range(w_cnt[li]):
            o += w_val[li, k] * zs[w_idx[li, k]]
        if o < 0.0:
            o = 0.0
        odds += o
        wodds += tau[li] * o
        eodds += eps[li] * o
    return activation(stimulus(wodds, odds)), agonist_occupancy(eodds, odds)


@njit(cache=True, inline="always")
def _modal_coefficients(z0, qlam, w_val, w_idx, w_cnt, n_lig, coef, bcoef, act):
    """Per-interval odds coefficients: ``odds_l(s) = sum_k coef[l,k] e^{lambda s} - bcoef[l]``.

    Fills ``act`` with the ligands present (any non-zero coefficient) and
    ``act[n_lig]`` with their number, which it also returns. Absent ligands
    (an antagonist never given) then cost nothing at the nodes.
    """
    n_act = 0
    for li in range(n_lig):
        b = 0.0
        present = False
        for k in range(w_cnt[li]):
            m = w_idx[li, k]
            coef[li, k] = w_val[li, k] * (z0[m] + qlam[m])
            b += w_val[li, k] * qlam[m]
            if coef[li, k] != 0.0:
                present = True
        bcoef[li] = b
        if present or b != 0.0:
            act[n_act] = li
            n_act += 1
    act[n_lig] = n_act
    return n_act


@njit(cache=True, inline="always")
def _resp_ar(a_r, p):
    """Quasi-steady relative ventilation and PaO2 at respiratory agonist occupancy ``a_r``."""
    v = relative_ventilation(a_r, p[I_WAKE], p[I_S], p[I_PW], p[I_PC])
    if v < 1e-9:
        v = 1e-9
    po2 = pao2_steady(v, p[I_PACO2], p[I_FIO2], p[I_PB], p[I_PH2O], p[I_RQ], p[I_AA])
    return v, po2


@njit(cache=True, inline="always")
def _resp(car, u, p):
    """Quasi-steady relative ventilation and PaO2 at agonist occupancy ``car``, AC state ``u``."""
    return _resp_ar(respiratory_activation(car, u, p[I_RHO]), p)


@njit(cache=True, inline="always")
def _depressed_target(target, v, pao2, p):
    """PaO2 target after hypoxic respiratory depression at lagged ``pao2`` (respiration eq. 10).

    ``v`` and ``target`` are the quasi-steady ventilation and PaO2 without it (``_resp``).
    """
    if pao2 >= p[I_PHD]:
        return target
    v = max(hypoxic_ventilation(v, pao2, p[I_PHD]), 1e-9)
    return pao2_steady(v, p[I_PACO2], p[I_FIO2], p[I_PB], p[I_PH2O], p[I_RQ], p[I_AA])


@njit(cache=True)
def _still_depressed(pao2, n_steps, fine_w, fine_v, lag, p, depression_on):
    """Whether the lagged PaO2 ends a fine window below the depression threshold.

    A dry run of the window's PaO2 lag (no episodes, rescue or death recorded):
    only then can PaO2 keep falling after the quasi-steady target has
    recovered, so only then must the window run on to the end of the interval.
    """
    for k in range(n_steps):
        target = fine_w[3, k]
        if depression_on:
            target = _depressed_target(target, fine_v[k], pao2, p)
        pao2 = pao2_step(pao2, target, lag)
        if pao2 < p[I_PARREST]:
            return True
    return pao2 < p[I_PHD]


@njit(cache=True, inline="always")
def _screen(n_nodes, node_uf, node_us, node_car, p, screen_pao2):
    """Respiratory screening of an interval's nodes.

    PaO2 falls monotonically with the respiratory agonist occupancy, so the
    quasi-steady respiration is evaluated at its maximum only, and node by
    node only when that maximum is below the screen. Turns ``node_car`` into
    the respiratory occupancy in place. Returns the first and last node below
    the screen (-1 if none) and the lowest SpO2 of the nodes above it (the
    fine window accounts for those below).
    """
    first_low = -1
    last_low = -1
    smin = np.inf
    ar_max = 0.0
    for j in range(n_nodes):
        ar = respiratory_activation(node_car[j], node_uf[j] + node_us[j], p[I_RHO])
        node_car[j] = ar
        if ar > ar_max:
            ar_max = ar
    _, po2_min = _resp_ar(ar_max, p)
    if po2_min >= screen_pao2:
        smin = spo2(po2_min, p[I_SEVA], p[I_SEVB])
    else:
        for j in range(n_nodes):
            _, po2_ss = _resp_ar(node_car[j], p)
            if po2_ss < screen_pao2:
                if first_low < 0:
                    first_low = j
                last_low = j
            else:
                smin = min(smin, spo2(po2_ss, p[I_SEVA], p[I_SEVB]))
    return first_low, last_low, smin


@njit(cache=True)
def _node_tables(lam, kf, ks, edges, gx, gw, tables):
    """Per-subject tables for full panels: node times, weights and exponentials."""
    e_t, s_node, w_node, wf_node, ws_node, dec_f, dec_s = tables[:7]
    n = lam.shape[0]
    for pi in range(edges.shape[0] - 1):
        a_edge = edges[pi]
        b_edge = edges[pi + 1]
        half = 0.5 * (b_edge - a_edge)
        for g in range(gx.shape[0]):
            j = gx.shape[0] * pi + g
            s = a_edge + half * (1.0 + gx[g])
            w = half * gw[g]
            for m in range(n):
                e_t[m, j] = math.exp(lam[m] * s)
            s_node[j] = s
            w_node[j] = w
            wf_node[j] = w * math.exp(-kf * (b_edge - s))
            ws_node[j] = w * math.exp(-ks * (b_edge - s))
        dec_f[pi] = math.exp(-kf * (b_edge - a_edge))
        dec_s[pi] = math.exp(-ks * (b_edge - a_edge))


@njit(cache=True, inline="always")
def _cut_slot(tau, a_edge, lam, kf, ks, gx, gw, cut, cut_e, cut_s, cut_w):
    """Slot of the cut-panel cache holding the panel ``[a_edge, tau]``, filled on a miss."""
    for k in range(N_CUT):
        if cut[k] == tau:
            return k
    slot = int(cut[N_CUT])
    cut[N_CUT] = (slot + 1) % N_CUT
    half = 0.5 * (tau - a_edge)
    for g in range(gx.shape[0]):
        s = a_edge + half * (1.0 + gx[g])
        for m in range(lam.shape[0]):
            cut_e[slot, m, g] = math.exp(lam[m] * s)
        cut_s[slot, g] = s
        cut_w[slot, g, 0] = half * gw[g]
        cut_w[slot, g, 1] = half * gw[g] * math.exp(-kf * (tau - s))
        cut_w[slot, g, 2] = half * gw[g] * math.exp(-ks * (tau - s))
    cut_w[slot, 0, 3] = math.exp(-kf * (tau - a_edge))
    cut_w[slot, 0, 4] = math.exp(-ks * (tau - a_edge))
    cut[slot] = tau
    return slot


@njit(cache=True, inline="always")
def _odds_at_nodes(e_t, n_col, off, coef, bcoef, w_idx, w_cnt, act, n_act, tau_eff, eps, work):
    """Binding odds at nodes ``off .. off + n_col`` from a mode-major exponential table.

    ``work[0..2]`` receive the sums of odds, efficacy-weighted odds and
    intrinsic-activity-weighted odds; ``work[4]`` is scratch. Loops run over
    nodes innermost so that they vectorise.
    """
    odds = work[0]
    wodds = work[1]
    eodds = work[2]
    o = work[4]
    for j in range(off, off + n_col):
        odds[j] = 0.0
        wodds[j] = 0.0
        eodds[j] = 0.0
    for ai in range(n_act):
        li = act[ai]
        b = bcoef[li]
        for j in range(off, off + n_col):
            o[j] = -b
        for k in range(w_cnt[li]):
            c = coef[li, k]
            row = e_t[w_idx[li, k]]
            for j in range(n_col):
                o[off + j] += c * row[j]
        t_l = tau_eff[li]
        e_l = eps[li]
        for j in range(off, off + n_col):
            oj = o[j] if o[j] > 0.0 else 0.0
            odds[j] += oj
            wodds[j] += t_l * oj
            eodds[j] += e_l * oj


@njit(cache=True, inline="always")
def _interval(tau, z0, qlam, subj, p, uf0, us0, rule, tables, nodes):
    """Quadrature over one interval of length ``tau``.

    Fills node times/weights/activations and the superactivation at each
    node (linear interpolation between exact panel-end values). Returns the
    number of nodes and the exact end values of U_fast and U_slow. Full
    panels use the subject's precomputed tables; the panel cut by ``tau``
    computes exponentials once and caches them in one of ``N_CUT`` slots
    (``cut[k]``: the tau of slot k; ``cut[N_CUT]``: the slot to replace next),
    so dosing intervals of a few recurring lengths cost no exponential at all. ``subj``, ``rule``,
    ``tables`` and ``nodes`` bundle the subject's receptor layout, the
    quadrature rule, the subject's node tables and the node scratch arrays.
    """
    lam, w_val, w_idx, w_cnt, tau_eff, eps, n_lig, coef, bcoef, act = subj
    edges, gx, gw = rule
    e_t, s_node, w_node, wf_node, ws_node, dec_f, dec_s, cut, cut_e, cut_s, cut_w, work = tables
    node_s, node_w, node_u_f, node_u_s, node_a, node_car = nodes
    ng = gx.shape[0]
    kf = p[I_KF]
    ks = p[I_KS]
    phi = p[I_PHI]
    n_pan = edges.shape[0] - 1
    n_full = 0
    while n_full < n_pan and edges[n_full + 1] <= tau:
        n_full += 1
    has_cut = n_full < n_pan and edges[n_full] < tau
    n_act = _modal_coefficients(z0, qlam, w_val, w_idx, w_cnt, n_lig, coef, bcoef, act)
    nf = ng * n_full
    _odds_at_nodes(e_t, nf, 0, coef, bcoef, w_idx, w_cnt, act, n_act, tau_eff, eps, work)
    for j in range(nf):
        node_s[j] = s_node[j]
        node_w[j] = w_node[j]
    slot = 0
    n_nodes = nf
    if has_cut:
        slot = _cut_slot(tau, edges[n_full], lam, kf, ks, gx, gw, cut, cut_e, cut_s, cut_w)
        _odds_at_nodes(
            cut_e[slot], ng, nf, coef, bcoef, w_idx, w_cnt, act, n_act, tau_eff, eps, work
        )
        for g in range(ng):
            node_s[nf + g] = cut_s[slot, g]
            node_w[nf + g] = cut_w[slot, g, 0]
        n_nodes += ng
    odds = work[0]
    wodds = work[1]
    eodds = work[2]
    dem = work[3]
    imax = p[I_IMAX]
    gain = p[I_GAIN]
    for j in range(n_nodes):
        a = activation(stimulus(wodds[j], odds[j]))
        node_a[j] = a
        node_car[j] = agonist_occupancy(eodds[j], odds[j])
        dem[j] = superactivation_demand(a, imax, gain)
    # slow states: exact at panel ends, linear in between
    uf_a = uf0
    us_a = us0
    for pi in range(n_full + (1 if has_cut else 0)):
        full = pi < n_full
        sum_f = 0.0
        sum_s = 0.0
        for g in range(ng):
            j = ng * pi + g
            if full:
                sum_f += wf_node[j] * dem[j]
                sum_s += ws_node[j] * dem[j]
            else:
                sum_f += cut_w[slot, g, 1] * dem[j]
                sum_s += cut_w[slot, g, 2] * dem[j]
        if full:
            df = dec_f[pi]
            ds = dec_s[pi]
        else:
            df = cut_w[slot, 0, 3]
            ds = cut_w[slot, 0, 4]
        uf_b = uf_a * df + kf * (1.0 - phi) * sum_f
        us_b = us_a * ds + ks * phi * sum_s
        for g in range(ng):
            frac = 0.5 * (1.0 + gx[g])
            node_u_f[ng * pi + g] = uf_a + frac * (uf_b - uf_a)
            node_u_s[ng * pi + g] = us_a + frac * (us_b - us_a)
        uf_a = uf_b
        us_a = us_b
    return n_nodes, uf_a, us_a


@njit(cache=True, parallel=True, error_model="numpy")
def run_chunk(
    subj_global,
    seed,
    lam,
    vmat,
    vinv,
    eff_rows,
    kd,
    tau_eff,
    eps_eff,
    pvec,
    edges,
    gx,
    gw,
    ev_start,
    ev_end,
    ev_time,
    ev_state,
    ev_amount,
    ev_pair,
    ev_perkg,
    ev_duration,
    dose_factor,
    caution_init,
    caution_f,
    caution_rate,
    rec_times,
    x_init,
    u_init,
    pao2_init,
    rescue_on,
    rescue_state,
    rescue_amount,
    rescue_delay,
    rescue_trigger,
    rescue_prob,
    screen_pao2,
    fine_dt,
    max_episodes,
    record_state,
    out_rec,
    out_x,
    out_epi,
    out_n_epi,
    out_death,
    out_final_x,
    out_final_u,
    out_final_pao2,
    out_caution,
):
    """Simulate a chunk of subjects; see module docstring. Outputs are written in place.

    ``caution_init`` is each subject's caution after survived overdoses at the start
    (``model.behaviour`` eq. 2b): every dose is scaled by ``caution_f ** k``, ``k``
    rises by one at the start of each overdose episode and decays at
    ``caution_rate`` (per h); ``caution_f = 1`` turns it off. The caution at the end
    is written to ``out_caution``.
    """
    n_sub = lam.shape[0]
    n = lam.shape[1]
    n_lig = eff_rows.shape[0]
    n_rec = rec_times.shape[0]
    for i in prange(n_sub):
        p = pvec[i]
        lam_i = lam[i]
        v_i = vmat[i]
        vinv_i = vinv[i]
        w_val = np.zeros((n_lig, n))
        w_idx = np.zeros((n_lig, n), np.int64)
        w_cnt = np.zeros(n_lig, np.int64)
        for li in range(n_lig):
            scale = 0.0
            for m in range(n):
                scale = max(scale, abs(v_i[eff_rows[li], m]))
            for m in range(n):
                if abs(v_i[eff_rows[li], m]) > 1e-13 * scale:
                    w_val[li, w_cnt[li]] = v_i[eff_rows[li], m] / kd[i, li]
                    w_idx[li, w_cnt[li]] = m
                    w_cnt[li] += 1
        tau_i = tau_eff[i]
        eps_i = eps_eff[i]
        # state
        x = x_init[i].copy()
        z = vinv_i @ x
        uf = u_init[i, 0]
        us = u_init[i, 1]
        pao2 = pao2_init[i]
        pao2_prev = pao2
        rate = np.zeros(n)  # active infusion input (umol/h per state)
        inf_end = np.full(64, np.inf)
        inf_state = np.zeros(64, np.int64)
        inf_rate = np.zeros(64)
        n_inf = 0
        q_on = False
        t = 0.0
        alive = True
        below_arrest = 0.0
        in_episode = False
        rescue_given = False
        rescue_drawn = False
        n_epi = 0
        k_caution = caution_init[i]
        t_caution = 0.0
        pending_rescue = np.inf
        rescue_counter = 0
        ev = ev_start[i]
        rec = 0
        # scratch
        max_nodes = gx.shape[0] * (edges.shape[0] - 1)
        node_s = np.empty(max_nodes)
        node_w = np.empty(max_nodes)
        node_a = np.empty(max_nodes)
        node_car = np.empty(max_nodes)
        node_uf = np.empty(max_nodes)
        node_us = np.empty(max_nodes)
        e_t = np.empty((n, max_nodes))
        s_node = np.empty(max_nodes)
        w_node = np.empty(max_nodes)
        wf_node = np.empty(max_nodes)
        ws_node = np.empty(max_nodes)
        work = np.empty((5, max_nodes))
        n_pan_max = edges.shape[0] - 1
        cut = np.full(N_CUT + 1, -1.0)
        cut[N_CUT] = 0.0
        cut_e = np.empty((N_CUT, n, gx.shape[0]))
        cut_s = np.empty((N_CUT, gx.shape[0]))
        cut_w = np.empty((N_CUT, gx.shape[0], 5))
        dec_f = np.empty(n_pan_max)
        dec_s = np.empty(n_pan_max)
        coef = np.zeros((n_lig, n))
        bcoef = np.zeros(n_lig)
        act = np.zeros(n_lig + 1, np.int64)
        max_fine = int(math.ceil(MAX_INTERVAL_H / fine_dt)) + 1
        fine_e = np.empty((n, max_fine))
        fine_w = np.empty((5, max_fine))
        fine_v = np.empty(max_fine)
        subj = (lam_i, w_val, w_idx, w_cnt, tau_i, eps_i, n_lig, coef, bcoef, act)
        rule = (edges, gx, gw)
        tables = (
            e_t,
            s_node,
            w_node,
            wf_node,
            ws_node,
            dec_f,
            dec_s,
            cut,
            cut_e,
            cut_s,
            cut_w,
            work,
        )
        _node_tables(lam_i, p[I_KF], p[I_KS], edges, gx, gw, tables)
        nodes = (node_s, node_w, node_uf, node_us, node_a, node_car)
        e_tau = np.empty(n)
        last_tau = -1.0
        zs = np.empty(n)
        qlam = np.zeros(n)
        eld = np.empty(n)
        # bin accumulators
        acc_apeak = 0.0
        acc_epeak = 0.0
        acc_wpeak = 0.0
        acc_wint = 0.0
        acc_aint = 0.0
        acc_cmin = np.inf
        acc_cmax = -np.inf
        acc_smin = np.inf
        acc_hyp = 0.0
        acc_od = 0.0
        acc_t0 = 0.0
        t_end = rec_times[n_rec - 1]
        while rec < n_rec:
            # ---- apply events at time t ----
            while ev < ev_end[i] and ev_time[ev] <= t + 1e-12:
                if alive:
                    amt = ev_amount[ev] * dose_factor[i, ev_pair[ev]]
                    if caution_f[i] < 1.0:
                        k_now = caution_decayed(k_caution, caution_rate[i], t - t_caution)
                        amt = cautious_dose(amt, k_now, caution_f[i])
                    if ev_perkg[ev]:
                        amt *= p[I_BW]
                    st = ev_state[ev]
                    if ev_duration[ev] > 0.0:
                        for k in range(64):
                            if inf_end[k] == np.inf:
                                inf_end[k] = t + ev_duration[ev]
                                inf_state[k] = st
                                inf_rate[k] = amt / ev_duration[ev]
                                rate[st] += inf_rate[k]
                                n_inf += 1
                                break
                    else:
                        for m in range(n):
                            z[m] += vinv_i[m, st] * amt
                ev += 1
            if n_inf > 0:
                for k in range(64):
                    if inf_end[k] <= t + 1e-12:
                        rate[inf_state[k]] -= inf_rate[k]
                        inf_end[k] = np.inf
                        inf_rate[k] = 0.0
                        n_inf -= 1
            if pending_rescue <= t + 1e-12:
                if alive:
                    for m in range(n):
                        z[m] += vinv_i[m, rescue_state] * rescue_amount[i]
                    rescue_given = in_episode
                pending_rescue = np.inf
            # ---- record at time t ----
            if rec < n_rec and t >= rec_times[rec] - 1e-9:
                a_now, car_now = _activation_at(z, w_val, w_idx, w_cnt, tau_i, eps_i, n_lig)
                if not alive:
                    a_now, car_now = 0.0, 0.0
                u_now = uf + us
                c_now = camp_level(a_now, u_now, p[I_IMAX])
                v_now, _ = _resp(car_now, u_now, p)
                r = out_rec[i, rec]
                r[R_UF] = uf
                r[R_US] = us
                r[R_A] = a_now
                r[R_CAMP] = c_now
                r[R_EFF] = opioid_effect(c_now, p[I_IMAX])
                r[R_W] = withdrawal_index(c_now, p[I_WSCALE])
                r[R_V] = v_now
                r[R_PAO2] = pao2
                r[R_SPO2] = spo2(pao2, p[I_SEVA], p[I_SEVB])
                dt_bin = t - acc_t0
                r[R_APEAK] = max(acc_apeak, a_now)
                r[R_EPEAK] = max(acc_epeak, r[R_EFF])
                r[R_WPEAK] = max(acc_wpeak, r[R_W])
                r[R_WMEAN] = acc_wint / dt_bin if dt_bin > 0 else r[R_W]
                r[R_AMEAN] = acc_aint / dt_bin if dt_bin > 0 else a_now
                r[R_CMIN] = min(acc_cmin, c_now)
                r[R_CMAX] = max(acc_cmax, c_now)
                r[R_SMIN] = min(acc_smin, r[R_SPO2])
                r[R_HYPMIN] = acc_hyp
                r[R_OD] = acc_od
                r[R_ALIVE] = 1.0 if alive else 0.0
                r[R_CAR] = car_now if alive else np.nan
                if not alive:
                    r[R_UF] = np.nan
                    r[R_US] = np.nan
                    for k in range(R_A, R_ALIVE):
                        if k != R_HYPMIN and k != R_OD:
                            r[k] = np.nan
                if record_state:
                    xs = v_i @ z
                    for m in range(n):
                        out_x[i, rec, m] = xs[m]
                acc_apeak = a_now
                acc_epeak = r[R_EFF]
                acc_wpeak = r[R_W]
                acc_wint = 0.0
                acc_aint = 0.0
                acc_cmin = c_now
                acc_cmax = c_now
                acc_smin = r[R_SPO2]
                acc_hyp = 0.0
                acc_od = 0.0
                acc_t0 = t
                rec += 1
                if rec >= n_rec:
                    break
            # ---- next breakpoint ----
            t_next = min(rec_times[rec], t + MAX_INTERVAL_H, t_end)
            if ev < ev_end[i]:
                t_next = min(t_next, ev_time[ev])
            if n_inf > 0:
                for k in range(64):
                    t_next = min(t_next, inf_end[k])
            t_next = min(t_next, pending_rescue)
            tau = t_next - t
            if tau <= 0.0:
                continue
            if not alive:
                t = t_next
                continue
            # modal input term (zero without an infusion running)
            if n_inf > 0 or q_on:
                for m in range(n):
                    q = 0.0
                    for st in range(n):
                        q += vinv_i[m, st] * rate[st]
                    qlam[m] = q / lam[i, m]
                q_on = n_inf > 0
            n_nodes, uf_end, us_end = _interval(tau, z, qlam, subj, p, uf, us, rule, tables, nodes)
            # ---- respiratory screening over the whole interval ----
            first_low, last_low, smin_nodes = _screen(
                n_nodes, node_uf, node_us, node_car, p, screen_pao2
            )
            split_at = tau
            died_at = -1.0
            need_fine = first_low >= 0 or pao2 < screen_pao2 or pending_rescue < np.inf
            if need_fine:
                # start early enough that the PaO2 lag has equilibrated (10 tau_O2)
                if first_low <= 0 or pao2 < screen_pao2:
                    s0 = 0.0
                else:
                    s0 = node_s[first_low - 1]
                    if s0 < 10.0 * p[I_TAUO2]:
                        s0 = 0.0
                s1 = tau if last_low < 0 or last_low + 1 >= n_nodes else node_s[last_low + 1]
                if pending_rescue < np.inf:
                    s1 = tau
                if pao2 >= screen_pao2 and s0 > 0.0:
                    # start the lag at its quasi-steady value before the low window
                    for m in range(n):
                        zs[m] = math.exp(lam_i[m] * s0) * (z[m] + qlam[m]) - qlam[m]
                    _, car0 = _activation_at(zs, w_val, w_idx, w_cnt, tau_i, eps_i, n_lig)
                    _, pao2 = _resp(car0, node_uf[first_low] + node_us[first_low], p)
                # A window whose lagged PaO2 would end below the hypoxic-depression
                # threshold runs on to the end of the interval: below it PaO2 can keep
                # falling after the quasi-steady target has recovered.
                while True:
                    n_steps = int(math.ceil((s1 - s0) / fine_dt))
                    if n_steps < 1:
                        n_steps = 1
                    dt = (s1 - s0) / n_steps
                    for m in range(n):
                        eld[m] = math.exp(lam_i[m] * dt)
                    lag = pao2_lag_weight(dt, p[I_TAUO2])
                    # The quasi-steady PaO2 does not depend on the lag: evaluate it at every
                    # step first (node-major, so the loops vectorise), then step the lag.
                    for m in range(n):
                        e = math.exp(lam_i[m] * s0)
                        for k in range(n_steps):
                            e *= eld[m]
                            fine_e[m, k] = e
                    _odds_at_nodes(
                        fine_e,
                        n_steps,
                        0,
                        coef,
                        bcoef,
                        w_idx,
                        w_cnt,
                        act,
                        act[n_lig],
                        tau_i,
                        eps_i,
                        fine_w,
                    )
                    s = s0
                    pj = 0
                    for k in range(n_steps):
                        s += dt
                        while pj < n_nodes - 1 and node_s[pj + 1] < s:
                            pj += 1
                        car = agonist_occupancy(fine_w[2, k], fine_w[0, k])
                        fine_v[k], fine_w[3, k] = _resp(car, node_uf[pj] + node_us[pj], p)
                    if s1 >= tau or not _still_depressed(
                        pao2, n_steps, fine_w, fine_v, lag, p, not rescue_given
                    ):
                        break
                    s1 = tau
                # the window may end early once past the last node below the screen
                s_recover = node_s[last_low] if last_low >= 0 else s0
                s = s0
                for k in range(n_steps):
                    s += dt
                    target = fine_w[3, k]
                    if not rescue_given:
                        # hypoxic respiratory depression (respiration eq. 10); a
                        # rescuer's naloxone and breaths lift it
                        target = _depressed_target(target, fine_v[k], pao2, p)
                    pao2 = pao2_step(pao2, target, lag)
                    sat = spo2(pao2, p[I_SEVA], p[I_SEVB])
                    acc_smin = min(acc_smin, sat)
                    if pao2 < p[I_PHYP]:
                        acc_hyp += dt * 60.0
                        if in_episode:
                            out_epi[i, n_epi - 1, 2] += dt * 60.0
                    if pao2 < p[I_POD]:
                        if not in_episode and n_epi < max_episodes:
                            in_episode = True
                            out_epi[i, n_epi, 0] = t + s
                            out_epi[i, n_epi, 1] = pao2
                            out_epi[i, n_epi, 2] = dt * 60.0  # this step is hypoxic too
                            out_epi[i, n_epi, 3] = 0.0
                            out_epi[i, n_epi, 4] = OUTCOME_RECOVERED
                            out_epi[i, n_epi, 5] = 0.0
                            n_epi += 1
                            acc_od += 1.0
                            # a survived episode makes the next doses smaller (eq. 2b)
                            k_caution = (
                                caution_decayed(k_caution, caution_rate[i], t + s - t_caution) + 1.0
                            )
                            t_caution = t + s
                        if in_episode:
                            out_epi[i, n_epi - 1, 3] += dt * 60.0
                            out_epi[i, n_epi - 1, 1] = min(out_epi[i, n_epi - 1, 1], pao2)
                    elif in_episode and pao2 > p[I_PHYP]:
                        in_episode = False
                        rescue_given = False
                    if rescue_on and not rescue_drawn and pao2 < rescue_trigger:
                        # the person is found (bystander or EMS): one draw per low spell
                        rescue_drawn = True
                        if pending_rescue == np.inf:
                            rescue_counter += 1
                            if event_uniform(seed, subj_global[i], rescue_counter) < rescue_prob:
                                pending_rescue = t + s + rescue_delay
                    elif rescue_drawn and pao2 > max(p[I_PHYP], rescue_trigger):
                        rescue_drawn = False
                    if in_episode and pending_rescue < np.inf:
                        out_epi[i, n_epi - 1, 5] = 1.0
                    below_arrest = time_below_arrest(below_arrest, pao2, dt * 3600.0, p[I_PARREST])
                    if arrested(below_arrest, p[I_ARRDELAY]):
                        died_at = s
                        break
                    if t + s >= pending_rescue - 1e-12:
                        break
                    if (
                        s > s_recover
                        and pao2 >= screen_pao2
                        and target >= screen_pao2
                        and not in_episode
                        and not rescue_drawn
                        and pending_rescue == np.inf
                    ):
                        # past the last low node, the lagged PaO2 and its target are
                        # back above the screen: the rest of the interval is as outside
                        # a window (the lag relaxes towards the end value below)
                        break
                if died_at >= 0.0:
                    split_at = died_at
                    if n_epi > 0:
                        out_epi[i, n_epi - 1, 4] = OUTCOME_FATAL
                elif pending_rescue < t + tau - 1e-12:
                    split_at = pending_rescue - t
                if split_at < tau:
                    # The interval ends at the split (rescue or death): redo its
                    # quadrature so that the bin's read-outs and the slow states
                    # cover [0, split_at] only. The nodes past the split belong to
                    # a trajectory that does not happen (no naloxone given), and
                    # the rest of the interval is simulated again after the split.
                    n_nodes, uf_end, us_end = _interval(
                        split_at, z, qlam, subj, p, uf, us, rule, tables, nodes
                    )
                    smin_nodes = _screen(n_nodes, node_uf, node_us, node_car, p, screen_pao2)[2]
                if died_at < 0.0 and s < split_at - 1e-12:
                    # window ended early (PaO2 above the screen): relax the lag
                    # towards the end value over the rest of the interval
                    for m in range(n):
                        zs[m] = math.exp(lam_i[m] * split_at) * (z[m] + qlam[m]) - qlam[m]
                    _, car_end = _activation_at(zs, w_val, w_idx, w_cnt, tau_i, eps_i, n_lig)
                    u_end = node_uf[n_nodes - 1] + node_us[n_nodes - 1]
                    _, po2_end = _resp(car_end, u_end, p)
                    pao2 = pao2_relaxed(pao2, po2_end, split_at - s, p[I_TAUO2])
            else:
                pao2_prev = pao2
                pao2 = -1.0  # relaxed towards the end value below, once z is advanced
            # ---- bin read-outs over the nodes of [0, split_at] ----
            acc_smin = min(acc_smin, smin_nodes)
            for j in range(n_nodes):
                a = node_a[j]
                c = camp_level(a, node_uf[j] + node_us[j], p[I_IMAX])
                wd = withdrawal_index(c, p[I_WSCALE])
                acc_apeak = max(acc_apeak, a)
                acc_epeak = max(acc_epeak, opioid_effect(c, p[I_IMAX]))
                acc_wpeak = max(acc_wpeak, wd)
                acc_wint += node_w[j] * wd
                acc_aint += node_w[j] * a
                acc_cmin = min(acc_cmin, c)
                acc_cmax = max(acc_cmax, c)
            # ---- advance the exact PK and slow states ----
            if split_at != last_tau:
                for m in range(n):
                    e_tau[m] = math.exp(lam_i[m] * split_at)
                last_tau = split_at
            for m in range(n):
                z[m] = e_tau[m] * (z[m] + qlam[m]) - qlam[m]
            uf = uf_end
            us = us_end
            t = t + split_at
            if pao2 < 0.0:
                # outside the fine window PaO2 stays above the screen: relax the lag
                # towards the end value (exact for a constant target; equal to the
                # quasi-steady value after intervals much longer than tau_O2)
                _, car_end = _activation_at(z, w_val, w_idx, w_cnt, tau_i, eps_i, n_lig)
                _, po2_end = _resp(car_end, uf + us, p)
                pao2 = pao2_relaxed(pao2_prev, po2_end, split_at, p[I_TAUO2])
            if died_at >= 0.0:
                alive = False
                out_death[i] = t
        out_n_epi[i] = n_epi
        xs = v_i @ z
        for m in range(n):
            out_final_x[i, m] = xs[m]
        out_final_u[i, 0] = uf
        out_final_u[i, 1] = us
        out_final_pao2[i] = pao2
        out_caution[i] = caution_decayed(k_caution, caution_rate[i], t - t_caution)
