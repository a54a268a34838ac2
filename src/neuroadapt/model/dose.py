"""The dose event: one administration of one drug, as data.

One type for every layer that handles doses: the regimen language expands to
it (``scenarios.regimen``), the engine simulates it (``engine.simulate``), the
SBML export turns it into events (``engine.sbml``) and the NONMEM tables write
and read it (``io.nonmem``). It sits in the model layer, below the scenarios
and the engine, so that both can import it.

The rat lab's non-contingent dose inside an operant session, timed in seconds
from the session start, is a different thing:
``neuroadapt.engine.operant_spec.SessionDose``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Dose"]


@dataclass(frozen=True)
class Dose:
    """One administration: ``amount`` (``unit``) of ``drug`` by ``route`` at ``time_h``.

    Parameters
    ----------
    time_h : float
        Time of the administration (h from the start of the simulation); for an
        infusion, its start.
    drug : str
        Canonical drug name (one of ``neuroadapt.model.routes.DRUGS``, e.g.
        ``"heroin"``, ``"naloxone"``).
    route : str
        Canonical route (one of ``neuroadapt.model.routes.ROUTES``, e.g. ``"iv"``,
        ``"oral"``), allowed for the drug (``ALLOWED_ROUTES``).
    amount : float
        Amount given, in ``unit`` (for an infusion, the whole amount over
        ``duration_h``).
    unit : str
        ``"mg"`` (default) or ``"mg/kg"`` (multiplied by the subject's body
        weight when simulated).
    duration_h : float
        0 (default) for a bolus; > 0 for a zero-order infusion of ``amount``
        over that many hours, at the rate ``amount / duration_h``.

    Examples
    --------
    >>> Dose(8.0, "heroin", "iv", 20.0)
    Dose(time_h=8.0, drug='heroin', route='iv', amount=20.0, unit='mg', duration_h=0.0)
    """

    time_h: float
    drug: str
    route: str
    amount: float
    unit: str = "mg"
    duration_h: float = 0.0
