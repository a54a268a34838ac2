"""Deaths from other causes of a chunk's subjects, day by day (``model.mortality``)."""

from __future__ import annotations

import numpy as np

from neuroadapt.engine.lifecourse_records import HELD
from neuroadapt.model import behaviour as B
from neuroadapt.model import mortality as M
from neuroadapt.parameters.life_table import load_life_table
from neuroadapt.streams import uniform_stream


class _OtherCauses:
    """Deaths from other causes (``model.mortality``, eq. 3) of a chunk's subjects, day by day.

    Each subject's threshold and cause uniform are drawn once from the streams
    ``mortality:other`` and ``mortality:cause`` (counter 0), so the deaths do not
    depend on chunking.
    """

    def __init__(self, p, ids, cov, seed):
        self.table = load_life_table()
        self.p = {k: p[k] for k in M.PARAMETERS}
        self.age0 = np.asarray(cov["age_years"], dtype=float)
        self.female = np.asarray(cov["female"], dtype=float)
        self.threshold = -np.log(uniform_stream(seed, ids, 0, "mortality:other"))
        self.v = uniform_stream(seed, ids, 0, "mortality:cause")
        self.cum = np.zeros(len(ids))
        self._years: np.ndarray | None = None  # completed ages of the last day's h_bg
        self._h_bg = np.zeros(len(ids))

    def day(self, d: int, mode: np.ndarray, alive: np.ndarray):
        """Time of death (days, NaN if none) and cause of other-cause deaths on day ``d``.

        ``mode`` is each subject's state at the start of the day.
        """
        age = self.age0 + d / M.DAYS_PER_YEAR
        years = np.floor(age)
        # the life table's hazard changes only on a subject's birthday
        new = np.ones(len(age), bool) if self._years is None else years != self._years
        if new.any():
            self._h_bg[new] = M.background_hazard(self.table, age[new], self.female[new])
            self._years = years
        h_bg = self._h_bg
        abstinent = (mode == B.ABSTAINING) | (mode == HELD)
        h = np.where(alive, M.cause_hazards(h_bg, mode == B.USING, abstinent, self.p), 0.0)
        self.cum, dies, frac, cause = M.other_cause_step(self.cum, self.threshold, h, self.v)
        return np.where(dies, d + frac, np.nan), cause
