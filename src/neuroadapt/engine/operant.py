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

This module is the lab (:class:`OperantLab`) that packs the day's session
specs, runs the kernel and advances the brain clock; the specs and day
results live in ``engine.operant_spec`` and the jitted kernel in
``engine.operant_kernel`` (both re-exported here where public).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from neuroadapt.engine.brain import BrainClock
from neuroadapt.engine.operant_kernel import (
    D_AMEAN,
    D_APEAK,
    D_EPEAK,
    D_PHI,
    D_TOL,
    D_WANT,
    D_WMEAN,
    D_WPEAK,
    N_DAILY,
    N_STATE,
    S_H,
    S_NEXP,
    S_V,
    S_VMEM,
    S_XD,
    S_XV,
    _run_day,
)
from neuroadapt.engine.operant_spec import (
    _DOSE_KIND,
    _KIND,
    _MAX_DOSES,
    CODES,
    COUNTERS,
    DAY_S,
    MAX_COMPONENTS,
    ZONES,
    Component,
    DayResult,
    SessionDose,
    SessionSpec,
    hours,
)
from neuroadapt.engine.simulate import modal_decomposition
from neuroadapt.model import operant as O
from neuroadapt.model import system
from neuroadapt.model.pk import LIGANDS, build_pk
from neuroadapt.parameters import ParameterSet
from neuroadapt.streams import standard_normal_stream

__all__ = [
    "BEHAVIOUR_READS",
    "BRAIN_FOR_BEHAVIOUR",
    "CODES",
    "COUNTERS",
    "DAY_S",
    "MAX_COMPONENTS",
    "Component",
    "DayResult",
    "SessionDose",
    "OperantLab",
    "SessionSpec",
    "ZONES",
    "hours",
]

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
