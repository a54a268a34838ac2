"""Operant behaviour of virtual rats: homeostatic reinforcement learning on the model's own state.

Process
-------
A rat in an operant chamber decides, second by second, whether to press the
active lever (which, after the ratio requirement, delivers an IV infusion
with a light/tone cue and starts a timeout), the inactive lever, or
neither. Its decision reads the state that the drug itself leaves in its
brain, in the manner of homeostatic reinforcement learning [Keramati &
Gutkin 2014; Keramati et al. 2017]: the value of an infusion is the
reduction of a homeostatic *drive*, whose set point shifts allostatically
with chronic exposure [Koob & Le Moal 2001]. The dopamine surge teaches
[Redish 2004]; habit grows with reinforced training [Dezfouli et al. 2009];
drug cues act through the glutamate module's cue-evoked craving; stress and
the drug state retrieve an extinguished expectation [Bouton 2004; Shaham et
al. 2003].

Internal state (read from the pharmacology of the same rat)
-----------------------------------------------------------
``A`` is the brain MOR activation (``model.receptor``) from the effect-site
concentrations; ``A_int`` is the *interoceptive* activation, computed from
the larger of the effect-site and the plasma-equivalent concentration of
each ligand (the rat senses drug on board within seconds of an infusion, so
it does not press again while the brain is still equilibrating). ``U`` is
the AC superactivation (``model.signalling``). The hedonic state is the
signed opioid effect

    e = (1 - cAMP(A_int, U)) / Imax,    cAMP = (1 + U)(1 - Imax A)          (1)

positive under the drug, negative in withdrawal (cAMP overshoot).

Drive and set point
-------------------
The rat seeks a hedonic level ``h*``; the allostatic shift ``s`` of the
dopamine module (hedonic set point, rises with daily exposure) and negative
affect ``N`` (affect module, or acute stress ``S(t)`` after footshock)
raise it, and so does a drug cue, by the glutamate module's cue-evoked
craving ``C`` times the cue trace ``c(t)`` (below), which incubates over
abstinence:

    h* = h0 + k_a s + k_n max(N, S(t)) + k_c C c(t)                         (2)
    drive d(e) = max(0, h* - e)                                             (3)

The expected effect after one infusion, ``e+``, is (1) at
``A+ = A(odds_int + dose/dose_ref * odds_unit)``, the activation with the
peak brain odds that one infusion of the current unit dose adds to the
odds on board (the rat has learned what an infusion does). The homeostatic
reward of pressing is the drive it removes [Keramati & Gutkin 2014]:

    r_H = d(e) - d(e+)                                                      (4)

Expectation, retrieval, urge and press hazards
----------------------------------------------
``V`` in [0, 1] is the learned expectation that the active lever delivers
the drug; ``V_mem`` the expectation acquired in training, which extinction
does not erase (extinction is new learning, Bouton 2004). Retrieval cues
restore it: the drug state (dopamine surge fraction ``phi(A)`` of the
current activation), the conditioned cue (the glutamate module's cue
craving ``C`` times the cue trace ``c(t)``), and stress ``S(t)``:

    psi_d = phi^m / (phi^m + phi50^m)
    psi = 1 - (1 - psi_d)(1 - g_c C c(t))(1 - g_s S(t))                     (5)
    V_eff = V + (V_mem - V) psi                                             (6)
    u = V_eff r_H                                                           (7)
    lambda_active   = lambda_max u^n / (u^n + u50^n) + lambda_H H + lambda_0 (8)
    lambda_inactive = lambda_0 + g_i (lambda_active - lambda_0)             (9)

``lambda_0`` is exploration (equal on both levers), ``g_i`` generalisation
to the inactive lever, ``H`` the habit. During the signalled timeout the
goal-directed term is off (``r_H = 0``): only habit and exploration press
through it, so timeout presses grow with habit.

Learning
--------
On an infusion with dopamine surge fraction ``phi+ = phi(A+)``
(``model.dopamine`` eq. (2) as a fraction of its maximum):

    V <- V + a_V phi+ (1 - V),     V_mem <- max(V_mem, V)
    H <- H + a_H phi+ (1 - H)
    n_exp <- n_exp + a_F (n - n_exp)     (n presses this reinforcer took)    (10)

On an active press that does not deliver the drug while the presses since
the last reinforcer (timeout presses included) exceed the expected ratio
``n_exp``, and on a completed ratio that delivers no drug (extinction;
ratio strain under a progressive ratio), the expectation extinguishes, and
so does, within the session, what cues, stress or the drug state retrieved
[Bouton 2004]:

    V <- V (1 - a_E),   rho <- rho (1 - a_E),   H <- H (1 - a_HE)          (11)

``rho`` (1 at the start of each session) multiplies ``psi`` in (6): what
is retrieved extinguishes within the session and recovers by the next
(spontaneous recovery), while the trained expectation ``V_mem`` persists.

Between sessions the expectation recovers towards ``V_mem`` (spontaneous
recovery, half-time ``t_sr``); the habit persists.

Place conditioning
------------------
A context ``k`` (drug- or vehicle-paired compartment) carries an
associative strength ``X_k``; confinement for ``T`` minutes with
dopamine-surge fraction ``phi(t)`` updates it as a Rescorla-Wagner step
towards the session's mean surge; drug-free exposure extinguishes it at a
rate per minute; the memory of the conditioned value ``X_mem`` is retrieved
by the drug state as in (5)-(6):

    X_k <- X_k + a_P (mean_T phi - X_k)               (pairing)             (12)
    X_k <- X_k exp(-k_E minutes in k)                 (drug-free exposure)  (13)
    X_eff = X + (X_mem - X) psi_d                                           (14)

In a free-choice test the rat leaves a side compartment at rate
``r0 exp(-beta (X_eff,k + b_k))`` (``b_k``: the rat's unconditioned bias
for that side) and the centre at rate ``r_c``, choosing a side in
proportion to ``exp(beta (X_eff,k + b_k))``.

References
----------
Keramati M & Gutkin B 2014 eLife 3:e04811, doi:10.7554/eLife.04811.
Keramati M, Durand A, Girardeau P, Gutkin B, Ahmed SH 2017 Psychol Rev 124:130-153.
Koob GF & Le Moal M 2001 Neuropsychopharmacology 24:97-129.
Redish AD 2004 Science 306:1944-1947.
Dezfouli A et al. 2009 Neural Comput 21:2869-2893.
Bouton ME 2004 Learn Mem 11:485-494.
Shaham Y, Shalev U, Lu L, de Wit H, Stewart J 2003 Psychopharmacology 168:3-20.
Tsibulsky VL & Norman AB 1999 Brain Res 839:85-93 (satiety threshold).
Richardson NR & Roberts DCS 1996 J Neurosci Methods 66:1-11.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

__all__ = [
    "PARAM_NAMES",
    "drive",
    "extinguish",
    "hedonic_state",
    "learn",
    "pr_requirement",
    "press_hazards",
    "retrieval",
    "set_point",
    "surge_fraction",
]

#: Per-animal operant parameters in the order the engine packs them.
PARAM_NAMES: tuple[str, ...] = (
    "press_rate_max",
    "press_urge_u50",
    "press_hill",
    "explore_rate",
    "inactive_generalisation",
    "set_point_h0",
    "allostatic_gain",
    "affect_gain",
    "cue_drive_gain",
    "value_initial",
    "value_learning_rate",
    "value_extinction_rate",
    "t_half_spontaneous_recovery",
    "habit_learning_rate",
    "habit_extinction_rate",
    "habit_press_rate",
    "ratio_learning_rate",
    "retrieval_phi50",
    "retrieval_hill",
    "cue_retrieval_gain",
    "stress_retrieval_gain",
    "t_half_cue_trace",
    "t_half_stress_trace",
    "cpp_learning_rate",
    "cpp_extinction_rate",
    "cpp_choice_beta",
    "cpp_side_leave_rate",
    "cpp_centre_leave_rate",
    "cpp_side_bias_sd",
    "t_half_cpp_forgetting",
)


@register_jitable
def hedonic_state(a, u, imax):
    """Signed opioid effect ``e = (1 - cAMP) / Imax``, eq. (1): > 0 drugged, < 0 withdrawal."""
    return (1.0 - (1.0 + u) * (1.0 - imax * a)) / imax


@register_jitable
def set_point(h0, k_a, shift, k_n, affect, stress, k_c, craving, cue):
    """Allostatic hedonic set point ``h*``, eq. (2), raised by cue-evoked craving."""
    return h0 + k_a * shift + k_n * max(affect, stress) + k_c * craving * cue


@register_jitable
def drive(e, h_star):
    """Homeostatic drive ``max(0, h* - e)``, eq. (3)."""
    return max(0.0, h_star - e)


@register_jitable
def surge_fraction(a, tolerance, release_loss, beta, hill, a50):
    """Dopamine surge as a fraction of its maximum (``model.dopamine`` eq. (1)-(2)).

    ``(DA_phasic - 100) / (100 S_max)`` for activation ``a``, tolerance
    ``T = 1 + U`` and loss of releasable dopamine ``R``.
    """
    x = max(a, 0.0) / max(tolerance, 1.0) ** beta
    xn = x**hill
    return (1.0 - release_loss) * xn / (xn + a50**hill)


@register_jitable
def retrieval(phi, phi50, m, craving, cue, g_c, stress, g_s):
    """Retrieval of the trained expectation by drug state, cue and stress, eq. (5)."""
    pm = max(phi, 0.0) ** m
    psi_d = pm / (pm + phi50**m)
    c = min(max(g_c * craving * cue, 0.0), 1.0)
    s = min(max(g_s * stress, 0.0), 1.0)
    return 1.0 - (1.0 - psi_d) * (1.0 - c) * (1.0 - s)


@register_jitable
def press_hazards(v, v_mem, psi, r_h, habit, lam_max, u50, hill, lam_h, lam_0, g_i):
    """Active and inactive press hazards (per unit time of the rates), eqs. (6)-(9)."""
    v_eff = v + (v_mem - v) * psi
    u = max(v_eff * r_h, 0.0)
    un = u**hill
    lam_a = lam_max * un / (un + u50**hill) + lam_h * habit + lam_0
    lam_i = lam_0 + g_i * (lam_a - lam_0)
    return lam_a, lam_i


@register_jitable
def learn(v, v_mem, habit, n_exp, phi, n_presses, a_v, a_h, a_f):
    """Updates after a reinforced ratio, eq. (10); returns ``(V, V_mem, H, n_exp)``."""
    v = v + a_v * phi * (1.0 - v)
    habit = habit + a_h * phi * (1.0 - habit)
    n_exp = n_exp + a_f * (n_presses - n_exp)
    return v, max(v_mem, v), habit, n_exp


@register_jitable
def extinguish(v, retr, psi, habit, a_e, a_he):
    """Updates after an unreinforced press beyond the expected ratio, eq. (11).

    Returns ``(V, rho, H)``: retrieval within the session, ``rho``, fades with
    each unreinforced press (``psi`` is accepted for symmetry with the
    retrieval it acts on), so reinstated seeking is self-limiting; it starts
    again at 1 the next session.
    """
    return v * (1.0 - a_e), retr * (1.0 - a_e), habit * (1.0 - a_he)


@register_jitable
def pr_requirement(j):
    """Response requirement of the ``j``-th reinforcer (1-based), Richardson & Roberts 1996."""
    return int(math.floor(5.0 * math.exp(0.2 * j) - 5.0 + 0.5))
