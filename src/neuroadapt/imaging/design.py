"""Design matrices from a participants table and a contrast written as text.

Contrasts (one tested regressor, t-test):

- ``users<controls`` (= ``controls>users``): group coded user = 1, control =
  0, tested with a negative sign, so a one-sided test looks for less gray
  matter in users;
- ``users>controls`` (= ``controls<users``);
- ``years_of_use`` / ``-years_of_use``: years of use as the regressor, with
  group as a nuisance regressor (so the slope is estimated within users); an
  error when every user has the same years of use (the contrast would only
  repeat the group contrast).

Nuisance regressors: an intercept (added by the GLM) and the covariates
(default ``age``, ``sex`` coded female = 1, ``tiv``); a covariate that does not
vary is dropped and noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from neuroadapt.imaging.load import ImagingInputError

CONTRASTS = {
    "users<controls": ("group", -1.0),
    "controls>users": ("group", -1.0),
    "users>controls": ("group", 1.0),
    "controls<users": ("group", 1.0),
    "years_of_use": ("years_of_use", 1.0),
    "+years_of_use": ("years_of_use", 1.0),
    "-years_of_use": ("years_of_use", -1.0),
}
DEFAULT_COVARIATES = ("age", "sex", "tiv")


@dataclass
class Design:
    """Tested regressor and nuisance regressors of one contrast.

    Attributes
    ----------
    contrast
        The contrast text.
    tested
        Signed tested regressor.
    confounds
        Nuisance regressors (no intercept), subjects × k.
    confound_names
        Their names.
    notes
        What was dropped or recoded.
    """

    contrast: str
    tested: np.ndarray
    confounds: np.ndarray
    confound_names: list[str]
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One sentence for a methods paragraph."""
        cov = ", ".join(self.confound_names) if self.confound_names else "none"
        return f"contrast {self.contrast}; nuisance regressors: intercept, {cov}"


def covariate(df: pd.DataFrame, name: str, source: str = "participants table") -> np.ndarray:
    """One numeric covariate column (``sex``: female = 1, male = 0)."""
    if name not in df.columns:
        raise ImagingInputError(f"{source}: no '{name}' column (needed as a covariate)")
    col = df[name]
    if name == "sex":
        s = col.astype(str).str.strip().str.upper().str[:1]
        bad = sorted(set(s) - {"F", "M"})
        if bad:
            raise ImagingInputError(f"{source}: column 'sex' has value '{bad[0]}'; allowed: F, M")
        return (s == "F").to_numpy(dtype=float)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        i = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ImagingInputError(
            f"{source}: column '{name}' is not a number for {df['participant_id'].iloc[i]}"
        )
    return values


def make_design(
    participants: pd.DataFrame,
    contrast: str,
    covariates: tuple[str, ...] = DEFAULT_COVARIATES,
    source: str = "participants table",
) -> Design:
    """Build the design of a contrast.

    Parameters
    ----------
    participants
        Checked participants table (``group`` is ``user``/``control``).
    contrast
        One of :data:`CONTRASTS`.
    covariates
        Nuisance covariate columns.
    source
        Name used in error messages.
    """
    key = contrast.replace(" ", "").lower()
    if key not in CONTRASTS:
        raise ImagingInputError(f"contrast '{contrast}' not in {', '.join(CONTRASTS)}")
    var, sign = CONTRASTS[key]
    group = (participants["group"] == "user").to_numpy(dtype=float)
    if var == "group" and (group.sum() == 0 or group.sum() == len(group)):
        raise ImagingInputError(f"{source}: column 'group' needs both users and controls")
    notes: list[str] = []
    cols, names = [], []
    if var == "years_of_use":
        tested = sign * covariate(participants, "years_of_use", source)
        in_users = tested[group == 1] if group.any() else tested
        if np.ptp(in_users) == 0:
            raise ImagingInputError(
                f"{source}: column 'years_of_use' = {abs(in_users[0]):g} for every user; a "
                "contrast on it would only repeat the group contrast (need users with "
                "different years of use)"
            )
        if 0 < group.sum() < len(group):
            cols.append(group)
            names.append("group")
    else:
        tested = sign * group
    for name in covariates:
        values = covariate(participants, name, source)
        if np.ptp(values) == 0:
            notes.append(f"covariate '{name}' is constant and was dropped")
            continue
        cols.append(values)
        names.append(name)
    conf = np.column_stack(cols) if cols else np.empty((len(participants), 0))
    return Design(contrast, tested, conf, names, notes)
