"""The kernel side of a life course: a block's dose events and the carried PK state.

Dose times, purity and street fentanyl of each block of days
(:func:`dose_schedule`, ``_block_events``), and ``_Pharmacology``, which carries
the drug-taking subjects' PK, tolerance and PaO2 state from block to block.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from neuroadapt.engine import kernel as K
from neuroadapt.engine.inputs import EngineOptions
from neuroadapt.engine.preparation import (
    baseline_pao2,
    fine_screen,
    prep_ev_state,
    prepare,
    rescue_inputs,
)
from neuroadapt.engine.results import check_living_finite
from neuroadapt.model import behaviour as B
from neuroadapt.model.clock import HOURS_PER_DAY
from neuroadapt.streams import (
    counter_stream_base,
    counter_stream_draw,
    splitmix64,
    uniform_stream,
)

#: Most doses a day; also the stride of the per-dose purity stream.
MAX_USES_PER_DAY = 8


def dose_schedule(n_use, n_days: int, first_use_hour, waking_hours):
    """When each subject uses over ``n_days`` days: ``n_use`` doses a day over waking hours.

    Returns the subjects' first and past-last event index, every dose's time (h
    from the block start), its subject (row), day of the block and rank within the day.
    """
    n_use = np.asarray(n_use, dtype=np.int64)
    total_per_subject = n_use * int(n_days)
    ev_end = np.cumsum(total_per_subject).astype(np.int64)
    ev_start = ev_end - total_per_subject
    owner = np.repeat(np.arange(len(n_use)), total_per_subject)
    rank = np.arange(len(owner)) - ev_start[owner]
    n_o = np.maximum(n_use[owner], 1)
    day, k = np.divmod(rank, n_o)
    first, waking = np.asarray(first_use_hour), np.asarray(waking_hours)
    ev_time = day * HOURS_PER_DAY + first[owner] + k * (waking[owner] / n_o)
    return ev_start.astype(np.int64), ev_end, ev_time, owner, day, k


def _block_events(n_use, dose, ids, day0, n_days, seed, p, fentanyl_fraction=0.0):
    """Flat event arrays for ``n_days`` days: ``n_use`` doses a day spread over waking hours.

    ``p`` holds the dosed subjects' ``first_use_hour``, ``waking_hours``,
    ``purity_cv``, ``purity_batch_cv`` and ``purity_batch_days`` (parameter
    table, internal units: hours). Each dose is scaled by the purity of its
    batch (stream ``behaviour:batch``, counter the batch number since day 0)
    and by its own (stream ``behaviour:purity``), ``model.behaviour`` eq. (2).
    Returns the subjects' event ranges and every event's time, amount (mg) and
    drug pair (0 heroin, 1 fentanyl).
    """
    ev_start, ev_end, ev_time, owner, day, k = dose_schedule(
        n_use, n_days, p["first_use_hour"], p["waking_hours"]
    )
    # the purity stream's counter is (day0 + day) * MAX_USES_PER_DAY + k: its subject-free
    # part is hashed once per (day, k) of the block, not once per dose
    slots = day0 * MAX_USES_PER_DAY + np.arange(n_days * MAX_USES_PER_DAY)
    base = counter_stream_base(seed, slots, "behaviour:purity")
    z = ndtri(counter_stream_draw(base[day * MAX_USES_PER_DAY + k], ids[owner]))
    batch_days = p["purity_batch_days"][owner] / HOURS_PER_DAY
    batch = np.floor((day0 + day) / batch_days).astype(np.int64)
    z_b = ndtri(uniform_stream(seed, ids[owner], batch, "behaviour:batch"))
    amount = (
        dose[owner]
        * B.purity_factor(z_b, p["purity_batch_cv"][owner])
        * B.purity_factor(z, p["purity_cv"][owner])
    )
    pair = np.zeros(len(amount), dtype=np.int64)
    if fentanyl_fraction > 0:
        # a batch is adulterated with probability fentanyl_fraction (stream behaviour:fentanyl):
        # each of its doses also delivers fentanyl_per_heroin mg of fentanyl per mg of heroin
        spiked = uniform_stream(seed, ids[owner], batch, "behaviour:fentanyl") < fentanyl_fraction
        ev_start, ev_end, ev_time, amount, pair = _with_fentanyl(
            ev_start, ev_end, ev_time, amount, owner, spiked, p["fentanyl_per_heroin"][owner]
        )
    return ev_start, ev_end, ev_time, amount, pair


def _with_fentanyl(ev_start, ev_end, ev_time, amount, owner, spiked, ratio):
    """Insert a fentanyl event (pair 1) after each heroin dose of an adulterated batch."""
    k = spiked.astype(np.int64)
    extra = np.cumsum(k) - k  # fentanyl events inserted before each heroin event
    pos = np.arange(len(amount)) + extra
    n_total = len(amount) + int(k.sum())
    t, a = np.empty(n_total), np.empty(n_total)
    pair = np.zeros(n_total, dtype=np.int64)
    t[pos], a[pos] = ev_time, amount
    fpos = pos[spiked] + 1
    t[fpos], a[fpos], pair[fpos] = ev_time[spiked], (amount * ratio)[spiked], 1
    per_subject = np.bincount(owner, weights=k, minlength=len(ev_end)).astype(np.int64)
    new_end = ev_end + np.cumsum(per_subject)
    return new_end - (ev_end - ev_start) - per_subject, new_end, t, a, pair


class _Rows:
    """Kernel inputs of a subset of the drug-taking subjects (fixed for a block)."""

    def __init__(self, ph: _Pharmacology, rows: np.ndarray, kd_shift=None) -> None:
        pr = ph.prep
        self.rows = rows
        self.ids = ph.ids[rows]
        # pvec from the pharmacology: co-users' chemoreflex is already weakened there
        take = [pr.lam, pr.vmat, pr.vinv, pr.kd, pr.tau, pr.eps, ph.pvec, pr.dose_factor]
        (
            self.lam,
            self.vmat,
            self.vinv,
            self.kd,
            self.tau,
            self.eps,
            self.pvec,
            self.dose_factor,
        ) = [np.ascontiguousarray(a[rows]) for a in take]
        if kd_shift is not None:  # receptor-level tolerance: agonist binding right-shifted
            self.kd = self.kd * np.where(ph.agonist, np.asarray(kd_shift)[:, None], 1.0)
        self.r_amount = np.ascontiguousarray(ph.r_amount[rows])
        self.dosing = {
            k: np.asarray(pr.samples[k])[rows]
            for k in (
                "purity_cv",
                "purity_batch_cv",
                "purity_batch_days",
                "first_use_hour",
                "waking_hours",
                "fentanyl_per_heroin",
            )
        }


class _Pharmacology:
    """The kernel's carried state for the drug-taking subjects of a chunk."""

    def __init__(self, params, plan, ids, seed, variability, rescue):
        self.pairs = [("heroin", plan.route)]
        if plan.fentanyl_fraction > 0:
            self.pairs.append(("fentanyl", plan.route))  # pair 1: street fentanyl
        if rescue is not None and (rescue.drug, rescue.route) not in self.pairs:
            self.pairs.append((rescue.drug, rescue.route))
        self.prep = prepare(params, self.pairs, ids, seed, variability)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.seed, self.rescue, self.plan = seed, rescue, plan
        n = len(ids)
        self.rule = K.quadrature_rule("standard")
        self.r_state, self.r_amount = rescue_inputs(self.prep, rescue)
        self.options = EngineOptions()  # numerical resolution, as in simulate()
        self.screen = fine_screen(self.options, rescue)
        self.x = np.zeros((n, self.prep.pk.n))
        self.u = np.zeros((n, 2))
        self.pao2 = baseline_pao2(self.prep.samples) * np.ones(n)
        #: ligands whose binding receptor-level tolerance right-shifts (efficacy above 0)
        self.agonist = (self.prep.tau > 0).any(axis=0)
        # regular co-users of benzodiazepines or alcohol: a weaker CO2 chemoreflex
        s = self.prep.samples
        self.co_use = co_users(seed, self.ids, s["couse_fraction"])
        self.pvec = self.prep.pvec.copy()
        self.pvec[:, K.I_S] *= np.where(self.co_use, 1.0 - s["couse_chemoreflex_depression"], 1.0)

    def rows(self, rows: np.ndarray, kd_shift=None) -> _Rows:
        """Kernel inputs for the subjects ``rows`` (indices into this object's subjects).

        ``kd_shift`` (one per row) right-shifts the agonists' binding (receptor-level
        tolerance, ``model.tolerance``).
        """
        return _Rows(self, np.asarray(rows, dtype=np.int64), kd_shift)

    def run(self, sub: _Rows, n_use, dose, day0, n_days, caution):
        """Run the subjects of ``sub`` for ``n_days`` days from ``day0``.

        ``caution`` is ``(k, reduction, rate per h)`` for the rows (``model.behaviour``
        eq. 2b, applied to each dose inside the kernel, so that a survived overdose
        lowers the next dose at once). Returns daily bins ``(len(sub.rows), n_days,
        N_REC)``, the hour of death from the block start (NaN if alive), the overdose
        episodes and the caution at the end.
        """
        rows = sub.rows
        n = len(rows)
        ev_start, ev_end, ev_time, amount, ev_pair = _block_events(
            n_use, dose, sub.ids, day0, n_days, self.seed, sub.dosing, self.plan.fentanyl_fraction
        )
        m = len(ev_time)
        rec_t = np.arange(n_days + 1) * 24.0
        out_rec = np.empty((n, n_days + 1, K.N_REC))
        # room for two episodes per dose; rows beyond out_n_epi are unused
        out_epi = np.empty((n, 2 * MAX_USES_PER_DAY * n_days, K.N_EPI))
        out_n_epi = np.zeros(n, dtype=np.int64)
        out_death = np.full(n, np.nan)
        new_x, new_u, new_pao2 = np.empty((n, self.x.shape[1])), np.empty((n, 2)), np.empty(n)
        new_caution = np.empty(n)
        r = self.rescue
        K.run_chunk(
            sub.ids,
            np.int64(int(splitmix64(np.uint64(self.seed) ^ np.uint64(day0 + 1))) >> 2),
            sub.lam,
            sub.vmat,
            sub.vinv,
            self.prep.eff_rows,
            sub.kd,
            sub.tau,
            sub.eps,
            sub.pvec,
            *self.rule,
            ev_start,
            ev_end,
            ev_time,
            prep_ev_state(self.prep, ev_pair),
            amount,
            ev_pair,
            np.zeros(m, dtype=np.bool_),
            np.zeros(m),
            sub.dose_factor,
            *(np.ascontiguousarray(c, dtype=float) for c in caution),
            rec_t,
            np.ascontiguousarray(self.x[rows]),
            np.ascontiguousarray(self.u[rows]),
            np.ascontiguousarray(self.pao2[rows]),
            r is not None,
            np.int64(self.r_state),
            sub.r_amount,
            (r.delay_min / 60.0) if r else 0.0,
            r.trigger_pao2_mmhg if r else 0.0,
            r.probability if r else 0.0,
            self.screen,
            self.options.fine_dt_s / 3600.0,
            out_epi.shape[1],
            False,
            out_rec,
            np.zeros((n, 1, self.x.shape[1])),
            out_epi,
            out_n_epi,
            out_death,
            new_x,
            new_u,
            new_pao2,
            new_caution,
        )
        check_living_finite(out_rec[:, 1:], sub.ids, day0 * 24.0 + rec_t[1:], "life-course kernel")
        died = np.isfinite(out_death)
        new_x[died] = 0.0  # the dead are only carried along
        self.x[rows], self.u[rows], self.pao2[rows] = new_x, new_u, new_pao2
        episodes = [
            (int(sub.ids[i]), day0 * 24.0 + out_epi[i, e, 0], *out_epi[i, e, 1:])
            for i in np.flatnonzero(out_n_epi)
            for e in range(int(out_n_epi[i]))
        ]
        return out_rec[:, 1:], out_death, episodes, new_caution

    def tolerance(self):
        """Fold right-shift 1 + U of every subject now."""
        return 1.0 + self.u.sum(1)


def co_users(seed: int, ids: np.ndarray, fraction) -> np.ndarray:
    """Which subjects regularly co-use benzodiazepines or alcohol (stream ``behaviour:co_use``)."""
    return uniform_stream(seed, np.asarray(ids, dtype=np.int64), 0, "behaviour:co_use") < fraction
