"""The numba day kernel of the virtual rat lab: one simulated day of every rat.

One job: :func:`_run_day` (``prange`` over rats) resolves the session on a
1-s decision clock and the home cage on coarser steps, exactly as described
in ``engine.operant``; its helpers compute binding odds from modal PK
coordinates, draw counter-based uniforms and write the event buffer. The
positions of the behavioural parameters in the ``beh`` array follow
``model.operant.PARAM_NAMES`` and are named here (``P_*``), as are the
daily outputs (``D_*``) and the carried behavioural state (``S_*``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neuroadapt.engine.operant_spec import DAY_S, HOME_COARSE_S, HOME_DT_S, HOME_FINE_S
from neuroadapt.model import operant as O
from neuroadapt.model.receptor import activation, stimulus
from neuroadapt.model.signalling import (
    camp_level,
    opioid_effect,
    superactivation_demand,
    withdrawal_index,
)
from neuroadapt.streams import event_uniform

# daily outputs
(D_AMEAN, D_APEAK, D_EPEAK, D_WMEAN, D_WPEAK, D_WANT, D_PHI, D_TOL) = range(8)
N_DAILY = 8
# carried behavioural state
(S_V, S_VMEM, S_H, S_NEXP, S_XD, S_XV, S_XDMEM, S_XVMEM) = range(8)
N_STATE = 8
# positions of the behavioural parameters in a rat's row of ``beh`` (model.operant.PARAM_NAMES)
P_PRESS_RATE_MAX = 0
P_PRESS_URGE_U50 = 1
P_PRESS_HILL = 2
P_EXPLORE_RATE = 3
P_INACTIVE_GENERALISATION = 4
P_SET_POINT_H0 = 5
P_ALLOSTATIC_GAIN = 6
P_AFFECT_GAIN = 7
P_CUE_DRIVE_GAIN = 8
P_VALUE_INITIAL = 9
P_VALUE_LEARNING_RATE = 10
P_VALUE_EXTINCTION_RATE = 11
P_T_HALF_SPONTANEOUS_RECOVERY = 12
P_HABIT_LEARNING_RATE = 13
P_HABIT_EXTINCTION_RATE = 14
P_HABIT_PRESS_RATE = 15
P_RATIO_LEARNING_RATE = 16
P_RETRIEVAL_PHI50 = 17
P_RETRIEVAL_HILL = 18
P_CUE_RETRIEVAL_GAIN = 19
P_STRESS_RETRIEVAL_GAIN = 20
P_T_HALF_CUE_TRACE = 21
P_T_HALF_STRESS_TRACE = 22
P_CPP_LEARNING_RATE = 23
P_CPP_EXTINCTION_RATE = 24
P_CPP_CHOICE_BETA = 25
P_CPP_SIDE_LEAVE_RATE = 26
P_CPP_CENTRE_LEAVE_RATE = 27
P_CPP_SIDE_BIAS_SD = 28
P_T_HALF_CPP_FORGETTING = 29
N_PARAMS = 30
# every named index is the position of its parameter in the order the lab packs them
if N_PARAMS != len(O.PARAM_NAMES) or any(
    globals()[f"P_{name.upper()}"] != k for k, name in enumerate(O.PARAM_NAMES)
):
    raise RuntimeError("operant_kernel: the named indices do not match model.operant.PARAM_NAMES")


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
    return event_uniform(seed, rat, (day * 131072 + step) * 8 + purpose)


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
        lam_max = pb[P_PRESS_RATE_MAX] / 3600.0
        u50 = pb[P_PRESS_URGE_U50]
        hill = pb[P_PRESS_HILL]
        lam_0 = pb[P_EXPLORE_RATE] / 3600.0
        g_i = pb[P_INACTIVE_GENERALISATION]
        h0 = pb[P_SET_POINT_H0]
        k_a = pb[P_ALLOSTATIC_GAIN]
        k_n = pb[P_AFFECT_GAIN]
        k_c = pb[P_CUE_DRIVE_GAIN]
        a_v = pb[P_VALUE_LEARNING_RATE]
        a_e = pb[P_VALUE_EXTINCTION_RATE]
        k_sr = ln2 / pb[P_T_HALF_SPONTANEOUS_RECOVERY] / 3600.0
        a_h = pb[P_HABIT_LEARNING_RATE]
        a_he = pb[P_HABIT_EXTINCTION_RATE]
        lam_h = pb[P_HABIT_PRESS_RATE] / 3600.0
        a_f = pb[P_RATIO_LEARNING_RATE]
        phi50 = pb[P_RETRIEVAL_PHI50]
        r_hill = pb[P_RETRIEVAL_HILL]
        g_c = pb[P_CUE_RETRIEVAL_GAIN]
        g_s = pb[P_STRESS_RETRIEVAL_GAIN]
        k_cue = ln2 / (pb[P_T_HALF_CUE_TRACE] * 3600.0)
        k_stress = ln2 / (pb[P_T_HALF_STRESS_TRACE] * 3600.0)
        a_p = pb[P_CPP_LEARNING_RATE]
        k_ext = pb[P_CPP_EXTINCTION_RATE] / 3600.0
        beta = pb[P_CPP_CHOICE_BETA]
        r_side = pb[P_CPP_SIDE_LEAVE_RATE] / 3600.0
        r_centre = pb[P_CPP_CENTRE_LEAVE_RATE] / 3600.0
        k_forget = ln2 / pb[P_T_HALF_CPP_FORGETTING] / 3600.0
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
