"""The daily loop of a life course's drug-taking subjects.

Each day the behaviour decides use from the brain's state of the evening
before, the kernel runs the day (regular users in blocks of days), deaths are
resolved and the brain advances; the records are stored on the recorded days.
"""

from __future__ import annotations

import numpy as np

from neuroadapt.engine import kernel as K
from neuroadapt.engine.brain import BrainClock, brain_params
from neuroadapt.engine.lifecourse_mortality import _OtherCauses
from neuroadapt.engine.lifecourse_pharmacology import MAX_USES_PER_DAY, _Pharmacology
from neuroadapt.engine.lifecourse_records import (
    _AGG,
    _REC,
    HELD,
    NEVER,
    _store,
    _zero_drivers,
)
from neuroadapt.model import behaviour as B
from neuroadapt.model import mortality as M
from neuroadapt.model.clock import HOURS_PER_DAY, rate_per_day
from neuroadapt.streams import uniform_stream


def _run_chunk(
    params, plan, ids, drug_free, cov, modules, seed, variability, rescue, rec_days, block_days=28
):
    """The daily loop for drug-taking subjects (``_run_split`` sends controls elsewhere)."""
    n = len(ids)
    users = ~drug_free
    user_idx = np.flatnonzero(users)  # chunk index of each of the kernel's subjects
    pharm = _Pharmacology(params, plan, ids[users], seed, variability, rescue)
    p = brain_params(params, ids, seed, variability)
    clock = BrainClock(modules, p, cov)
    alive = np.ones(n, dtype=bool)
    death = np.full(n, np.nan)
    cause = np.zeros(n, dtype=np.int8)  # model.mortality.CAUSES
    other = _OtherCauses(p, ids, cov, seed)
    arm = (uniform_stream(seed, ids, 0, "behaviour:arm") < plan.abstinent_fraction) & users
    mode = np.where(users, B.USING, NEVER)
    # everyone titrates to the typical person's effect (model.behaviour eq. 1a)
    d0 = B.personal_start_dose(plan.start_dose_mg, p["kd_morphine"], params["kd_morphine"])
    habit = np.where(users, d0, 0.0)
    priming = np.zeros(n)
    caution = np.zeros(n)  # after a survived overdose (model.behaviour eq. 2b)
    bits = np.zeros(n, dtype=np.uint64)
    held_until = np.full(n, plan.use_days + plan.detox_days)  # end of each one's detoxification
    first_lapse = np.full(n, np.nan)
    relapse = np.full(n, np.nan)
    abstinent_again = np.full(n, np.nan)  # first stop after a relapse
    stops = np.zeros(n, dtype=np.int16)  # times regular use was left (detoxification included)
    episodes: list = []
    acc = {k: np.zeros(n) for k in _AGG}
    records: dict[str, list[np.ndarray]] = {}
    out, inputs = clock.advance(_zero_drivers(n), 0.0, None)
    _store(records, out, acc, mode, habit, np.ones(n), alive, 0)
    rec_i = 1
    day = 0
    while day < plan.days:
        # Blocks: regular users' doses are decided once per block (their habit follows
        # tolerance slowly); everyone else (detoxified, abstaining) decides day by day.
        end = plan.use_days if day < plan.use_days else plan.days
        n_days = min(block_days, end - day)
        if day == plan.use_days:
            mode = np.where(arm, HELD, mode)
            stops += arm
        elif day > plan.use_days:
            # after the planned use, regular users stop (treatment, own detoxification)
            u_stop = uniform_stream(seed, ids, day, "behaviour:cessation")
            stop = (mode == B.USING) & users & alive & (u_stop < B.cessation_probability(n_days, p))
            mode = np.where(stop, HELD, mode)
            held_until = np.where(stop, day + plan.detox_days, held_until)
            abstinent_again = np.where(
                stop & ~np.isnan(relapse) & np.isnan(abstinent_again), day, abstinent_again
            )
            stops += stop
        s_euph = _euphoric(inputs, users, pharm)
        regular = (mode == B.USING) & users
        target = B.regular_dose(d0, s_euph, inputs["hedonic_deficit"], p)
        habit = np.where(regular, B.step_habit(habit, target, n_days, p), habit)
        caution_rate = rate_per_day(p["t_half_overdose_caution"]) / HOURS_PER_DAY  # per h
        caution_rate = np.broadcast_to(caution_rate, (n,))
        reduction = np.broadcast_to(p["overdose_dose_reduction"], (n,))
        n_use_reg = _uses_per_day(clock.states.get("tolerance"), p, n)
        kd_shift = _receptor_shift(inputs, n)
        in_block = regular & alive
        daily = users & alive & ~in_block
        # the kernel's daily records that the loop reads (_DAY_COLS; NaN as 0, as
        # nan_to_num) by day, record and subject: each day's drivers are contiguous rows
        bins = np.zeros((n_days, len(_DAY_COLS), n))
        died_h = np.full(n, np.nan)
        if in_block.any():
            sub = pharm.rows(np.flatnonzero(in_block[user_idx]), kd_shift[in_block])
            c_in = (caution[in_block], reduction[in_block], caution_rate[in_block])
            b_u, d_u, eps, c_u = pharm.run(
                sub, n_use_reg[in_block], habit[in_block], day, n_days, c_in
            )
            caution[in_block] = c_u
            bins[:, :, in_block] = b_u[:, :, _DAY_COLS].transpose(1, 2, 0)
            died_h[in_block] = d_u
            _nan_to_zero(bins)
            episodes.extend(eps)
        daily_rows = np.flatnonzero(daily[user_idx]) if daily.any() else None
        for j in range(n_days):
            d_abs = day + j
            mode = np.where((mode == HELD) & (d_abs >= held_until), B.ABSTAINING, mode)
            mode_today = mode  # the state the day's other-cause hazard depends on
            # ---- decide (from the state of the evening before) and run the daily group ----
            n_use = np.where(in_block, n_use_reg, 0)
            lapse = np.zeros(n, bool)
            if daily_rows is not None:
                # the daily group's receptor-level tolerance changes from day to day
                daily_sub = pharm.rows(daily_rows, _receptor_shift(inputs, n)[daily])
                cue = uniform_stream(seed, ids, d_abs, "behaviour:cue") < p["cue_probability"]
                drive = B.lapse_drive(inputs["craving"], cue, inputs["negative_affect"], priming, p)
                u_lapse = uniform_stream(seed, ids, d_abs, "behaviour:lapse")
                lapse = (
                    daily
                    & alive
                    & (mode == B.ABSTAINING)
                    & (u_lapse < B.lapse_probability(drive, p))
                )
                n_use = np.where(daily & (mode == B.USING), n_use_reg, n_use)
                n_use = np.where(lapse, 1, n_use) * alive
                # the dose that feels right at today's tolerance to euphoria (eq. 1)
                s_now = _euphoric(inputs, users, pharm)
                wanted = B.regular_dose(d0, s_now, inputs["hedonic_deficit"], p)
                dose = np.where(mode == B.USING, wanted, wanted * p["lapse_dose_fraction"])
                c_in = (caution[daily], reduction[daily], caution_rate[daily])
                b_d, d_d, eps, c_d = pharm.run(daily_sub, n_use[daily], dose[daily], d_abs, 1, c_in)
                caution[daily] = c_d
                bins[j][:, daily] = np.nan_to_num(b_d[:, 0, _DAY_COLS]).T
                died_h[daily] = np.where(np.isfinite(d_d), j * 24.0 + d_d, died_h[daily])
                episodes.extend(eps)
            # ---- behaviour bookkeeping ----
            used = (n_use * alive) > 0
            bits = ((bits << np.uint64(1)) | used.astype(np.uint64)) & np.uint64((1 << 62) - 1)
            first_lapse = np.where(lapse & np.isnan(first_lapse), d_abs, first_lapse)
            abstaining = (mode == B.ABSTAINING) & users
            if abstaining.any():
                back = abstaining & B.relapsed(bits, p)
                relapse = np.where(back & np.isnan(relapse), d_abs, relapse)
                mode = np.where(back, B.USING, mode)
                # a return to regular use starts from the dose that feels right now
                if daily_rows is not None:
                    habit = np.where(back & daily, dose, habit)
            priming = B.step_priming(priming, used, p)
            # ---- deaths (overdose in the kernel, other causes here: the earlier) and brain ----
            dead_before = ~alive
            dies_today = np.isfinite(died_h) & (died_h >= j * 24.0) & (died_h < (j + 1) * 24.0)
            t_od = np.where(dies_today & alive, d_abs + (died_h - j * 24.0) / 24.0, np.inf)
            t_other, other_cause = other.day(d_abs, mode_today, alive)
            t_other = np.where(np.isfinite(t_other), t_other, np.inf)
            t_die = np.minimum(t_od, t_other)
            dying = alive & np.isfinite(t_die)
            death = np.where(dying, t_die, death)
            cause = np.where(dying, np.where(t_od <= t_other, M.OVERDOSE, other_cause), cause)
            alive &= ~dying
            row = bins[j]  # (_DAY_COLS, subjects); read only today
            row[np.ix_(_ALIVE_ONLY_ROWS, ~alive)] = 0.0
            row[:, dead_before] = 0.0  # a block's doses after a death were simulated ahead
            drivers = {k: row[i] for i, k in enumerate(_REC)}
            drivers["alive"] = alive.astype(float)
            tol_j = np.where(alive & users, 1.0 + row[_DAY_UF] + row[_DAY_US], 1.0)
            drivers["tolerance_shift"] = tol_j
            out, inputs = clock.advance(drivers, d_abs + 1.0, 1.0)
            # deaths from the brain (fatal toxic leukoencephalopathy) end the life course too
            tle = out.get("white_matter_tle_dead")
            if tle is not None:
                brain_death = alive & (np.asarray(tle) > 0)
                death = np.where(brain_death, d_abs + 1.0, death)
                cause = np.where(brain_death, M.LEUKOENCEPHALOPATHY, cause)
                alive &= ~brain_death
            for k, how in _AGG.items():
                v = (n_use * alive).astype(float) if k == "uses" else drivers[k]
                acc[k] = np.maximum(acc[k], v) if how == "max" else acc[k] + v
            if rec_i < len(rec_days) and d_abs + 1 == rec_days[rec_i]:
                span = rec_days[rec_i] - rec_days[rec_i - 1]
                _store(records, out, acc, mode, habit, tol_j, alive, span)
                rec_i += 1
        day += n_days
    result = {f"rec_{k}": np.stack(v, axis=1).astype(np.float32) for k, v in records.items()}
    ep = np.array(episodes, dtype=float).reshape(-1, 1 + K.N_EPI)
    # a block's doses were simulated ahead; drop episodes after a death of another cause
    died_at = dict(zip(ids.tolist(), death.tolist(), strict=True))
    ep = ep[[not (ep_t / 24.0 > died_at[int(s_)]) for s_, ep_t in ep[:, :2]]] if len(ep) else ep
    result.update(
        {
            "arm": np.where(users, arm.astype(np.int8), 2).astype(np.int8),
            "death_time": death,
            "death_cause": cause.astype(np.int8),
            "first_lapse": first_lapse,
            "relapse": relapse,
            "abstinent_again": abstinent_again,
            "stops": stops,
            "co_use": _co_use(pharm, users),
            "final_habit": habit,
            "episodes": ep,
        }
    )
    return result


_ALIVE_ONLY = (
    "activation_mean",
    "activation_peak",
    "effect_peak",
    "withdrawal_mean",
    "withdrawal_peak",
)
#: Kernel record columns the daily loop reads: the drivers (``_REC``, in order), then
#: the fast and slow tolerance states; ``_DAY_UF``, ``_DAY_US`` are their positions.
_DAY_COLS = np.array([*_REC.values(), K.R_UF, K.R_US])
_DAY_UF, _DAY_US = len(_REC), len(_REC) + 1
_ALIVE_ONLY_ROWS = np.array([list(_REC).index(k) for k in _ALIVE_ONLY])


def _euphoric(inputs, users, pharm) -> np.ndarray:
    """Tolerance to euphoria of every subject (``model.tolerance``; AC shift alone without it)."""
    if "euphoric" in inputs:
        return np.where(users, np.nan_to_num(inputs["euphoric"], nan=1.0), 1.0)
    tol = np.ones(len(users))
    tol[users] = pharm.tolerance()
    return tol


def _receptor_shift(inputs, n: int) -> np.ndarray:
    """Receptor-level right-shift of agonist binding (1 without ``model.tolerance``)."""
    shift = inputs.get("receptor_shift")
    return np.ones(n) if shift is None else np.nan_to_num(np.asarray(shift, float), nan=1.0)


def _uses_per_day(tol_state, p, n: int) -> np.ndarray:
    """Doses a day of regular users, ``model.behaviour`` eq. (0).

    Without ``model.tolerance`` every regular user takes the established number.
    """
    circuit = np.ones(n) if tol_state is None else tol_state["circuit"]
    return B.uses_per_day(circuit, p, MAX_USES_PER_DAY)


def _co_use(pharm, users) -> np.ndarray:
    """Co-use flags of every subject of a chunk (drug-free controls: 0)."""
    out = np.zeros(len(users), dtype=np.int8)
    out[users] = pharm.co_use
    return out


def _nan_to_zero(a: np.ndarray) -> None:
    """``np.nan_to_num(a, copy=False)``, with one scan when every value is finite."""
    bad = ~np.isfinite(a)
    if bad.any():
        a[bad] = np.nan_to_num(a[bad])
