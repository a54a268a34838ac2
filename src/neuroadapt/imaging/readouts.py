"""PET (D2/D3 BP_ND) and fMRI (drug-cue > neutral) read-outs of simulated subjects.

**PET.** True BP_ND of subject *s* in striatal region *r* is the drug-free
baseline times the subject's D2/D3 availability (the dopamine module's
output, a fraction of naive) times a log-normal between-subject factor. A
dynamic [11C]raclopride-like scan is simulated with the simplified reference
tissue model (SRTM; Lammertsma & Hume 1996)::

    C_R(t) = (1 − e^{−t/τ}) e^{−λ t}                     (cerebellum)
    C_T(t) = R1 C_R(t) + (k2 − R1 k2a) (C_R ⊗ e^{−k2a t})(t),   k2a = k2 / (1 + BP_ND)

sampled at frame mid-times, with Gaussian noise of SD ``pet_noise_cv × max
C_T``, and BP_ND is re-estimated from the noisy curve by the basis-function
method (Gunn et al. 1997, NeuroImage 6:279-287): ``pet_bfm_n`` log-spaced
values of θ = k2a from ``pet_bfm_theta_min`` to ``pet_bfm_theta_max``
(table defaults 100 values from 0.006 to 0.6 /min).

**fMRI.** A block design alternates drug-cue, rest, neutral-cue and rest
blocks. The BOLD signal (percent of mean) of region *r* is the drug-cue
boxcar convolved with the canonical double-gamma HRF of SPM (``spm_hrf``;
Friston et al. 1998, NeuroImage 7:30-40)::

    h(t) ∝ Γ(t; hrf_delay/hrf_dispersion, hrf_dispersion)
           − Γ(t; hrf_undershoot_delay/hrf_undershoot_dispersion, hrf_undershoot_dispersion)
             / hrf_ratio,        0 ≤ t < hrf_length

(``Γ(t; shape, scale)`` the gamma density; table defaults are SPM's: 6 s,
16 s, 1 s, 1 s, 6 and 32 s, so the response peaks at 5 s), scaled by
``bold_gain × w_r × craving_s + bold_bsv_sd × z_{s,r}`` (a subject's own
response, ``z`` standard normal), plus AR(1) noise.
A first-level OLS (drug, neutral, intercept, linear drift) gives the
drug-cue > neutral contrast estimate per subject and region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import gamma

from neuroadapt.imaging.parameters import imaging_parameters
from neuroadapt.imaging.synth import subject_rng

PET_REGIONS = {"ventral striatum": "bpnd_ventral_striatum", "caudate": "bpnd_caudate",
               "putamen": "bpnd_putamen"}  # fmt: skip
FMRI_REGIONS = {
    "nucleus accumbens": "bold_w_nacc",
    "anterior cingulate": "bold_w_acc",
    "orbitofrontal cortex": "bold_w_ofc",
    "amygdala": "bold_w_amygdala",
    "insula": "bold_w_insula",
    "fusiform": "bold_w_fusiform",
}
_DT_MIN = 0.05  # fine PET time grid (min): a numerical step, far below every time constant


def _reference_tac(t: np.ndarray, p: dict) -> np.ndarray:
    return (1.0 - np.exp(-t / p["pet_input_peak"])) * np.exp(-p["pet_input_decay"] * t)


def _pet_grid(p: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference curve on the fine grid, frame mid-times and their fine-grid indices."""
    fine = np.arange(0.0, p["pet_scan"] + _DT_MIN / 2, _DT_MIN)
    frames = np.arange(p["pet_frame"] / 2, p["pet_scan"], p["pet_frame"])
    return _reference_tac(fine, p), frames, np.rint(frames / _DT_MIN).astype(int)


def _convolve_exp(c: np.ndarray, rate: np.ndarray, dt: float) -> np.ndarray:
    """(c ⊗ e^{−rate t}) on a uniform grid, for each rate (rates × time)."""
    n = c.size
    kern = np.exp(-np.outer(rate, np.arange(n) * dt))
    out = np.empty((rate.size, n))
    for i in range(rate.size):
        out[i] = np.convolve(c, kern[i])[:n] * dt
    return out


def srtm_tac(bp: np.ndarray, p: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free SRTM target curves at the frame mid-times.

    Returns frame times (min), the reference curve and targets (len(bp) × frames).
    """
    p = p or imaging_parameters()
    cr, frames, idx = _pet_grid(p)
    k2a = p["pet_k2"] / (1.0 + np.asarray(bp, dtype=float))
    conv = _convolve_exp(cr, k2a, _DT_MIN)
    ct = p["pet_r1"] * cr + (p["pet_k2"] - p["pet_r1"] * k2a)[:, None] * conv
    return frames, cr[idx], ct[:, idx]


def bfm_thetas(p: dict | None = None) -> np.ndarray:
    """θ = k2a values (1/min) of the SRTM basis functions, log-spaced.

    ``pet_bfm_n`` values from ``pet_bfm_theta_min`` to ``pet_bfm_theta_max``
    (table: 100 values from 0.006 to 0.6 /min).

    Examples
    --------
    >>> t = bfm_thetas()
    >>> t.size, float(t[0]), float(t[-1])
    (100, 0.006, 0.6)
    """
    p = p or imaging_parameters()
    lo, hi, n = p["pet_bfm_theta_min"], p["pet_bfm_theta_max"], int(round(p["pet_bfm_n"]))
    if not 0 < lo < hi or n < 2:
        raise ValueError(
            f"basis functions: need 0 < theta_min {lo} < theta_max {hi} and n {n} >= 2"
        )
    return np.geomspace(lo, hi, n)


def srtm_bfm(ct: np.ndarray, p: dict | None = None) -> np.ndarray:
    """BP_ND of noisy target curves (curves × frames) by the basis-function method.

    Basis functions ``C_R ⊗ e^{−θ t}`` for θ in :func:`bfm_thetas` (Gunn et al. 1997).
    """
    p = p or imaging_parameters()
    cr_fine, _, idx = _pet_grid(p)
    thetas = bfm_thetas(p)
    basis = _convolve_exp(cr_fine, thetas, _DT_MIN)[:, idx]
    cr = cr_fine[idx]
    best_rss = np.full(ct.shape[0], np.inf)
    bp = np.full(ct.shape[0], np.nan)
    for j, theta in enumerate(thetas):
        A = np.column_stack([cr, basis[j]])
        coef, *_ = np.linalg.lstsq(A, ct.T, rcond=None)
        rss = ((ct.T - A @ coef) ** 2).sum(axis=0)
        better = rss < best_rss
        best_rss[better] = rss[better]
        r1, b = coef[0], coef[1]
        bp[better] = ((b + r1 * theta) / theta - 1.0)[better]
    return bp


def pet_bpnd(
    participants: pd.DataFrame, d2_availability: np.ndarray, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulated BP_ND per subject and striatal region.

    Parameters
    ----------
    participants
        Participants table (``participant_id``).
    d2_availability
        D2/D3 availability per subject (fraction of naive; 1 for controls), or
        subjects × 3 regions.
    seed
        Seed of the per-subject streams.

    Returns
    -------
    measured, true : pandas.DataFrame
        Estimated (from noisy curves) and true BP_ND, subjects × regions.
    """
    p = imaging_parameters()
    avail = np.asarray(d2_availability, dtype=float)
    n = len(participants)
    if avail.ndim == 1:
        avail = np.repeat(avail[:, None], len(PET_REGIONS), axis=1)
    if avail.shape != (n, len(PET_REGIONS)) or not np.all(np.isfinite(avail)) or avail.min() < 0:
        raise ValueError(f"d2_availability must be {n} (or {n}×3) finite fractions >= 0")
    base = np.array([p[k] for k in PET_REGIONS.values()])
    true = np.empty((n, len(PET_REGIONS)))
    cv = p["bpnd_bsv_cv"]
    sd = np.sqrt(np.log1p(cv**2))
    for i, pid in enumerate(participants["participant_id"].astype(str)):
        rng = subject_rng(seed, pid, "pet")
        true[i] = base * avail[i] * np.exp(sd * rng.standard_normal(base.size) - sd**2 / 2)
    frames, _, ct = srtm_tac(true.ravel(), p)
    rng_rows = [subject_rng(seed, str(pid), "pet-noise") for pid in participants["participant_id"]]
    eps = np.vstack([r.standard_normal((len(PET_REGIONS), frames.size)) for r in rng_rows])
    noisy = ct + p["pet_noise_cv"] * ct.max(axis=1, keepdims=True) * eps
    measured = srtm_bfm(noisy, p).reshape(n, len(PET_REGIONS))
    index = pd.Index(participants["participant_id"].astype(str), name="participant_id")
    cols = list(PET_REGIONS)
    return pd.DataFrame(measured, index=index, columns=cols), pd.DataFrame(
        true, index=index, columns=cols
    )


def pet_test_retest(n: int = 200, seed: int = 0, p: dict | None = None) -> pd.Series:
    """Test-retest variability of simulated BP_ND per striatal region (percent).

    Two scans of the same true (baseline) BP_ND with independent noise;
    variability ``|BP1 − BP2| / ((BP1 + BP2) / 2)`` averaged over ``n``
    subjects, the measure of test-retest studies (e.g. Alakurtti et al. 2011).

    Parameters
    ----------
    n
        Simulated subjects per region.
    seed
        Noise seed.
    p
        Imaging parameters (default: the table's).
    """
    p = p or imaging_parameters()
    base = np.array([p[k] for k in PET_REGIONS.values()])
    _, _, ct = srtm_tac(np.tile(base, n), p)
    rng = np.random.default_rng(seed)
    scans = [
        srtm_bfm(
            ct + p["pet_noise_cv"] * ct.max(axis=1, keepdims=True) * rng.standard_normal(ct.shape),
            p,
        ).reshape(n, base.size)
        for _ in range(2)
    ]
    var = np.abs(scans[0] - scans[1]) / ((scans[0] + scans[1]) / 2)
    return pd.Series(100 * var.mean(axis=0), index=list(PET_REGIONS), name="test_retest_pct")


def canonical_hrf(dt: float, length: float | None = None, p: dict | None = None) -> np.ndarray:
    """SPM canonical double-gamma HRF sampled every ``dt`` seconds (unit sum).

    Parameters
    ----------
    dt
        Sampling interval (s).
    length
        Kernel length (s); default the table's ``hrf_length`` (32 s).
    p
        Imaging parameters (default: the table's): ``hrf_delay``,
        ``hrf_undershoot_delay``, ``hrf_dispersion``,
        ``hrf_undershoot_dispersion``, ``hrf_ratio`` (SPM's ``spm_hrf``
        defaults 6 s, 16 s, 1 s, 1 s, 6).

    Examples
    --------
    >>> h = canonical_hrf(0.1)
    >>> h.size, round(float(h.sum()), 12), round(float(np.argmax(h) * 0.1), 1)
    (320, 1.0, 5.0)
    """
    p = p or imaging_parameters()
    length = p["hrf_length"] if length is None else length
    t = np.arange(0.0, length, dt)
    d1, d2 = p["hrf_dispersion"], p["hrf_undershoot_dispersion"]
    response = gamma.pdf(t, p["hrf_delay"] / d1, scale=d1)
    undershoot = gamma.pdf(t, p["hrf_undershoot_delay"] / d2, scale=d2)
    h = response - undershoot / p["hrf_ratio"]
    return h / h.sum()


def block_design(p: dict | None = None, dt: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Drug-cue and neutral-cue regressors (HRF-convolved) at each TR; columns: drug, neutral."""
    p = p or imaging_parameters()
    block, n_blocks, tr = p["bold_block"], int(round(p["bold_blocks"])), p["bold_tr"]
    cycle = 4 * block
    total = n_blocks * cycle
    t = np.arange(0.0, total, dt)
    phase = np.mod(t, cycle)
    drug = (phase < block).astype(float)
    neutral = ((phase >= 2 * block) & (phase < 3 * block)).astype(float)
    h = canonical_hrf(dt, p=p)
    regs = np.column_stack([np.convolve(x, h)[: t.size] for x in (drug, neutral)])
    scans = np.arange(0.0, total, tr)
    idx = np.rint(scans / dt).astype(int)
    return scans, regs[idx]


def fmri_cue_contrast(
    participants: pd.DataFrame, craving: np.ndarray, seed: int = 0
) -> pd.DataFrame:
    """Drug-cue > neutral contrast estimates (percent signal change) per subject and region.

    Parameters
    ----------
    participants
        Participants table (``participant_id``).
    craving
        Cue-craving response per subject (0-1; the glutamate module's output).
    seed
        Seed of the per-subject streams.
    """
    p = imaging_parameters()
    craving = np.asarray(craving, dtype=float)
    n = len(participants)
    if craving.shape != (n,) or not np.all(np.isfinite(craving)):
        raise ValueError(f"craving must be {n} finite numbers")
    scans, regs = block_design(p)
    X = np.column_stack([regs, np.ones(scans.size), scans / scans.max() - 0.5])
    pinv = np.linalg.pinv(X)
    weights = np.array([p[k] for k in FMRI_REGIONS.values()])
    rho, sd = p["bold_ar1"], p["bold_noise"]
    out = np.empty((n, weights.size))
    for i, pid in enumerate(participants["participant_id"].astype(str)):
        rng = subject_rng(seed, pid, "fmri")
        amp = p["bold_gain"] * weights * craving[i] + p["bold_bsv_sd"] * rng.standard_normal(
            weights.size
        )
        innov = rng.standard_normal((weights.size, scans.size)) * sd * np.sqrt(1 - rho**2)
        noise = np.empty_like(innov)
        noise[:, 0] = innov[:, 0] / np.sqrt(1 - rho**2)
        for k in range(1, scans.size):
            noise[:, k] = rho * noise[:, k - 1] + innov[:, k]
        y = 100.0 + amp[:, None] * regs[:, 0][None, :] + noise
        beta = pinv @ y.T
        out[i] = beta[0] - beta[1]
    index = pd.Index(participants["participant_id"].astype(str), name="participant_id")
    return pd.DataFrame(out, index=index, columns=list(FMRI_REGIONS))
