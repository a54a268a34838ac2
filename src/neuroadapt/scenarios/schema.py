"""The Scenario: a typed, validated description of one virtual experiment.

A scenario is a TOML file::

    name = "default"
    species = "human"
    seed = 1
    regimen = "25 mg iv q8h x 90d then 0 x 14d"

    [cohort]
    subjects = 200

    [rescue]
    dose_mg = 0.4
    route = "im"
    delay_min = 5.0
    probability = 0.5

Every table forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Problems are reported as one-line :class:`ScenarioError`.

Reading and writing the TOML is :mod:`neuroadapt.scenarios.files`.

Examples
--------
>>> from neuroadapt.scenarios import load_scenario
>>> s = load_scenario("default")
>>> s.cohort.subjects, s.total_duration_h() / 24
(1000, 4382.0)
>>> s.with_subjects(50).with_parameters(ac_gain=0.5).cohort.subjects
50
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from neuroadapt.model.dose import Dose
from neuroadapt.model.routes import ALLOWED_ROUTES, ROUTE_ALIASES
from neuroadapt.parameters import load_parameters
from neuroadapt.scenarios.errors import (
    FieldError,
    from_validation_error,
)
from neuroadapt.scenarios.regimen import (
    DURATION_UNITS,
    MAX_DOSES,
    Regimen,
    format_duration,
    parse_duration,
    sort_events,
)

__all__ = [
    "DEFAULT_BODY_WEIGHT_KG",
    "Behaviour",
    "Cohort",
    "Outputs",
    "Rescue",
    "Scenario",
    "Treatment",
    "validate_scenario",
]

#: Body weight used when ``cohort.body_weight_kg`` is left out, by species.
#: assumption: 70 kg is the conventional adult reference person (ICRP 89 reference
#: male is 73 kg); 0.3 kg is a typical adult male Sprague-Dawley rat at the start
#: of self-administration studies.
DEFAULT_BODY_WEIGHT_KG: dict[str, float] = {"human": 70.0, "rat": 0.3}

#: Longest simulated time (years), by species: a scenario must fit in a lifetime.
#: assumption: 100 years for people (an upper bound of the human life span, and the
#: model's ages stop at 90); 4 years for laboratory rats, which live 2-3.5 years
#: (Sengupta P 2013 Int J Prev Med 4:624-630).
MAX_DURATION_Y: dict[str, float] = {"human": 100.0, "rat": 4.0}
#: Shortest recording interval (h): one second, below the engine's finest step (30 s).
MIN_RECORD_EVERY_H = 1 / 3600
#: Most recorded time points per variable over all subjects (subjects x record times):
#: not science but memory (each point holds about 25 variables, 4 bytes each, so the
#: bound is about 2 GB of results). A 1,000-subject cohort recorded daily for 50 years
#: is 18 million.
MAX_RECORDED_POINTS = 20_000_000

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
_DURATION = "a duration such as '12h', '14d' or '2w'"


def _positive_duration(value: str, what: str) -> str:
    if parse_duration(value, what) <= 0:
        raise ValueError(f"must be {_DURATION}, > 0")
    return value


class Cohort(BaseModel):
    """Who is simulated: how many subjects and how much they differ."""

    model_config = _CONFIG
    subjects: int = Field(100, ge=1, le=1_000_000)
    variability: float = Field(
        1.0,
        ge=0,
        le=3,
        description="a scale on inter-individual "
        "variability (0 = identical subjects, 1 = literature)",
    )
    body_weight_kg: float | None = Field(None, gt=0)
    age_years_mean: float = Field(
        35.0, ge=12, le=90, description="mean age at the start (years; users and controls)"
    )
    age_years_sd: float = Field(8.0, ge=0, le=30, description="SD of age at the start (years)")
    female_fraction: float = Field(0.3, ge=0, le=1, description="fraction of women")
    controls: int = Field(
        0, ge=0, le=1_000_000, description="matched controls (same age/sex draws, no drug)"
    )


class Treatment(BaseModel):
    """A treatment regimen (methadone, buprenorphine, naltrexone...) on its own timeline."""

    model_config = _CONFIG
    regimen: str = Field(
        description="a regimen naming its drug, e.g. 'methadone 60 mg oral q24h x 30d'"
    )
    start: str = Field("0", description=_DURATION + " (offset from time 0)")

    @field_validator("regimen")
    @classmethod
    def _check_regimen(cls, value: str) -> str:
        Regimen.parse(value, default_drug=None)
        return value

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: str) -> str:
        parse_duration(value, "start")
        return value

    def parsed_regimen(self) -> Regimen:
        """Return the parsed regimen."""
        return Regimen.parse(self.regimen, default_drug=None)

    def start_h(self) -> float:
        """Return the start offset in hours."""
        return parse_duration(self.start)


#: Highest rescue trigger: 80 mmHg, the lower limit of normal arterial PO2 at sea
#: level (West JB, Respiratory Physiology: The Essentials); a trigger above it would
#: fire during ordinary breathing.
TRIGGER_PAO2_MAX_MMHG = 80.0


class Rescue(BaseModel):
    """Naloxone rescue: given ``delay_min`` after PaO2 falls below the trigger.

    A bystander or emergency service is present with ``probability``.
    """

    model_config = _CONFIG
    drug: Literal["naloxone"] = "naloxone"
    #: assumption: at most 100 mg, about six times the largest naloxone doses studied
    #: (16 mg intranasal, Mundin G et al. 2017 Addiction, PMID:28430384; 10 mg in the
    #: REZENOPY label), so any rescue strategy fits and typing errors do not.
    dose_mg: float = Field(gt=0, le=100)
    route: str = Field(
        "im", description="a route allowed for naloxone: " + ", ".join(ALLOWED_ROUTES["naloxone"])
    )
    #: assumption: at most a day; an opioid overdose kills or resolves within hours,
    #: so a later rescue cannot act.
    delay_min: float = Field(ge=0, le=1440)
    #: Checked by the scenario (:meth:`Scenario._check_rescue_trigger`) against the
    #: lowest cardiac-arrest threshold of the parameter table, and at most 80 mmHg.
    trigger_pao2_mmhg: float = Field(40.0, gt=0, le=TRIGGER_PAO2_MAX_MMHG)
    probability: float = Field(1.0, ge=0, le=1)

    @field_validator("route")
    @classmethod
    def _check_route(cls, value: str) -> str:
        route = ROUTE_ALIASES.get(value.lower(), value.lower())
        if route not in ALLOWED_ROUTES["naloxone"]:
            raise ValueError(
                "must be a route allowed for naloxone: " + ", ".join(ALLOWED_ROUTES["naloxone"])
            )
        return route


class Behaviour(BaseModel):
    """Use decided by the virtual people themselves (``model.behaviour``) instead of a regimen.

    Everyone uses from time 0 for ``use``; then a random ``abstinent_fraction``
    is held abstinent for ``detox`` (residential detoxification, prison) and
    afterwards tries to stay abstinent on their own until ``use + follow_up``;
    the others keep using.
    """

    model_config = _CONFIG
    route: str = Field(
        "iv", description="route of the heroin people take: " + ", ".join(ALLOWED_ROUTES["heroin"])
    )
    start_dose_mg: float = Field(10.0, gt=0, le=1000, description="dose per use at the start")
    use: str = Field("10y", description=_DURATION + " of regular use")
    detox: str = Field("14d", description=_DURATION + " held abstinent at the end of use")
    follow_up: str = Field("2y", description=_DURATION + " after the end of use")
    abstinent_fraction: float = Field(0.5, ge=0, le=1)
    fentanyl_fraction: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of purchases (batches) adulterated with fentanyl "
        "(fentanyl_per_heroin mg of fentanyl per mg of heroin; routes iv or intranasal)",
    )

    @field_validator("route")
    @classmethod
    def _check_route(cls, value: str) -> str:
        route = ROUTE_ALIASES.get(value.lower(), value.lower())
        if route not in ALLOWED_ROUTES["heroin"]:
            raise ValueError(
                "must be a route allowed for heroin: " + ", ".join(ALLOWED_ROUTES["heroin"])
            )
        return route

    @field_validator("use", "follow_up")
    @classmethod
    def _check_days(cls, value: str) -> str:
        if parse_duration(value, "duration") < 24:
            raise ValueError("must be at least one day, e.g. '10y' or '730d'")
        return value

    @field_validator("detox")
    @classmethod
    def _check_detox(cls, value: str) -> str:
        parse_duration(value, "detox")
        return value

    def days(self) -> tuple[int, int, int]:
        """Return (use, detox, follow-up) rounded to whole days."""
        return tuple(  # type: ignore[return-value]
            round(parse_duration(v) / 24) for v in (self.use, self.detox, self.follow_up)
        )


class Outputs(BaseModel):
    """What a run records."""

    model_config = _CONFIG
    record_every: str = Field("1d", description=_DURATION + ", at least 1s")
    figures: bool = True

    @field_validator("record_every")
    @classmethod
    def _check_every(cls, value: str) -> str:
        if parse_duration(value, "record_every") < MIN_RECORD_EVERY_H * (1 - 1e-12):
            raise ValueError(f"must be {_DURATION}, at least 1s")
        return value

    @field_validator("figures")
    @classmethod
    def _check_figures(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "must be true: the report always draws its figures; "
                "skip the whole report with 'neuroadapt run --no-report'"
            )
        return value

    def record_every_h(self) -> float:
        """Return the recording interval in hours."""
        return parse_duration(self.record_every)


class Scenario(BaseModel):
    """A virtual experiment: species, cohort, regimen, treatments, rescue, outputs."""

    model_config = _CONFIG
    name: str = Field(
        min_length=1, description="a name without '/' or '\\' (it names the output folder)"
    )
    description: str = ""
    species: Literal["human", "rat"] = "human"
    seed: int = Field(0, ge=0, le=2**63 - 1)  # TOML integers are 64-bit
    regimen: str | None = Field(
        None, description="a regimen such as '25 mg iv q8h x 90d then 0 x 14d'"
    )
    behaviour: Behaviour | None = None
    duration: str | None = Field(None, description=_DURATION)
    cohort: Cohort = Field(default_factory=Cohort)
    outputs: Outputs = Field(default_factory=Outputs)
    rescue: Rescue | None = None
    treatments: list[Treatment] = Field(default_factory=list)
    parameters: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "parameter overrides by name, in the parameter table's own units and within its "
            "bounds (`neuroadapt params` lists them)"
        ),
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value.strip(".") == "":
            raise ValueError(
                "must be a name without '/' or '\\', not '.' or '..' (it names the output folder)"
            )
        return value

    @field_validator("regimen")
    @classmethod
    def _check_regimen(cls, value: str | None) -> str | None:
        if value is not None:
            Regimen.parse(value)
        return value

    @model_validator(mode="after")
    def _regimen_or_behaviour(self) -> Scenario:
        either = (
            "give either 'regimen' (scheduled doses) or a [behaviour] table "
            "(people decide their own use)"
        )
        if self.regimen is None and self.behaviour is None:
            raise FieldError("regimen", "required key is missing; " + either)
        if self.regimen is not None and self.behaviour is not None:
            raise FieldError("regimen", either + ", not both")
        self._check_dose_count()  # first: the checks below expand the doses
        self._check_lifetime()
        self._check_acts()
        self._check_body_weight()
        self._check_parameters()
        self._check_rescue_trigger()
        self._check_records()
        return self

    def _check_lifetime(self) -> None:
        """Every time in the scenario fits in a lifetime of the species (``MAX_DURATION_Y``)."""
        years = MAX_DURATION_Y[self.species]
        limit = years * DURATION_UNITS["y"]
        allowed = f"within {years:g}y, a {self.species}'s lifetime"
        if self.duration is not None and parse_duration(self.duration) > limit:
            raise FieldError("duration", "must be " + allowed, self.duration)
        if self.behaviour is not None:
            b = self.behaviour
            for key in ("use", "detox", "follow_up"):
                if parse_duration(getattr(b, key)) > limit:
                    raise FieldError(f"behaviour.{key}", "must be " + allowed, getattr(b, key))
            if parse_duration(b.use) + parse_duration(b.follow_up) > limit:
                raise FieldError(
                    "behaviour.follow_up", "use + follow_up must be " + allowed, b.follow_up
                )
            if b.fentanyl_fraction > 0 and b.route not in ALLOWED_ROUTES["fentanyl"]:
                raise FieldError(
                    "behaviour.fentanyl_fraction",
                    "needs a route that fentanyl has in the model ("
                    + ", ".join(ALLOWED_ROUTES["fentanyl"])
                    + f"), not behaviour.route = '{b.route}'; set it to 0",
                    b.fentanyl_fraction,
                )
            if parse_duration(b.detox) > parse_duration(b.follow_up):
                raise FieldError(
                    "behaviour.detox",
                    f"must be at most follow_up ({b.follow_up}): detoxification ends "
                    "within the follow-up",
                    b.detox,
                )
        reg = self.parsed_regimen()
        if reg is not None and _end_h(reg, 0.0) > limit:
            raise FieldError("regimen", "must end (infusions included) " + allowed, self.regimen)
        for i, t in enumerate(self.treatments):
            if _end_h(t.parsed_regimen(), t.start_h()) > limit:
                raise FieldError(
                    f"treatments[{i}]", "start + regimen must end " + allowed, t.regimen
                )

    def _check_acts(self) -> None:
        """Refuse every option that this kind of scenario cannot act on."""
        defaults = Cohort.model_fields
        if self.behaviour is not None:
            if self.species != "human":
                raise FieldError(
                    "species", "must be 'human' with [behaviour]: life courses are human"
                )
            if self.treatments:
                raise FieldError(
                    "treatments",
                    "a [behaviour] life course cannot apply treatments yet; "
                    "remove [[treatments]] or give a scheduled 'regimen'",
                    f"{len(self.treatments)} treatment(s)",
                )
            if self.duration is not None:
                raise FieldError(
                    "duration",
                    "a [behaviour] life course lasts behaviour.use + behaviour.follow_up; "
                    "remove 'duration'",
                    self.duration,
                )
            every = self.outputs.record_every_h()
            if every < 24.0 or not (every / 24.0).is_integer():
                raise FieldError(
                    "outputs.record_every",
                    "must be whole days with [behaviour] (life courses step a day at a time)",
                    self.outputs.record_every,
                )
            return
        events = self.all_events()
        if self.duration is not None and events:
            last = max(e.time_h for e in events)
            if last >= parse_duration(self.duration):
                raise FieldError(
                    "duration",
                    f"must be later than the last dose, at {format_duration(last)}: "
                    "doses at or after the end cannot act",
                    self.duration,
                )
        if abs(self.outputs.record_every_h() - 24.0) > 1e-9:
            # matched controls and the brain scales (which read age and sex) run on
            # the daily clock only
            c = self.cohort
            if c.controls:
                raise FieldError(
                    "cohort.controls",
                    "matched controls need outputs.record_every = '1d' (they are simulated "
                    "with the brain scales on the daily clock); set it or remove controls",
                    c.controls,
                )
            for key in ("age_years_mean", "age_years_sd", "female_fraction"):
                if getattr(c, key) != defaults[key].default:
                    raise FieldError(
                        f"cohort.{key}",
                        "age and sex act only on the brain scales, which need "
                        "outputs.record_every = '1d'; set it or remove the key",
                        getattr(c, key),
                    )

    def _check_body_weight(self) -> None:
        """``cohort.body_weight_kg`` within the parameter table's bounds for the species."""
        bw = self.cohort.body_weight_kg
        if bw is None:
            return
        p = load_parameters(self.species).params["body_weight"]
        if not p.lower <= bw <= p.upper:
            raise FieldError(
                "cohort.body_weight_kg",
                f"must be a {self.species} body weight >= {p.lower:g} and <= {p.upper:g} kg "
                "(bounds of body_weight in the parameter table)",
                bw,
            )

    def _check_parameters(self) -> None:
        """``[parameters]``: names of the species' table, values within their bounds."""
        table = load_parameters(self.species)
        for name, value in self.parameters.items():
            why = table.check_override(name, value)
            if why is not None:
                raise FieldError(f"parameters.{name}", why, value)
        if "body_weight" in self.parameters and self.cohort.body_weight_kg is not None:
            raise FieldError(
                "parameters.body_weight",
                "set the body weight once: here or as cohort.body_weight_kg, not both",
                self.parameters["body_weight"],
            )

    def _check_rescue_trigger(self) -> None:
        """A rescue trigger at or above the lowest cardiac-arrest PaO2 of the parameter table.

        A trigger below it would never come before the heart stops.
        """
        if self.rescue is None:
            return
        arrest = load_parameters(self.species).params["pao2_arrest"].lower
        trigger = self.rescue.trigger_pao2_mmhg
        if trigger < arrest:
            raise FieldError(
                "rescue.trigger_pao2_mmhg",
                f"must be >= {arrest:g} and <= {TRIGGER_PAO2_MAX_MMHG:g} mmHg (from the lower "
                "bound of pao2_arrest, the cardiac-arrest threshold, in the parameter table, to "
                "the lower limit of normal arterial PO2)",
                trigger,
            )

    def _check_dose_count(self) -> None:
        """At most ``MAX_DOSES`` doses in the regimen and the treatments together."""
        n_doses = sum(
            r.n_doses
            for r in [self.parsed_regimen(), *(t.parsed_regimen() for t in self.treatments)]
            if r is not None
        )
        if n_doses > MAX_DOSES:
            raise FieldError(
                "treatments",
                f"regimen and treatments together must have at most {MAX_DOSES} doses",
                f"{n_doses} doses",
            )

    def _check_records(self) -> None:
        """At most ``MAX_RECORDED_POINTS`` recorded points (subjects x record times)."""
        times = self.total_duration_h() / self.outputs.record_every_h() + 2
        points = (self.cohort.subjects + self.cohort.controls) * times
        if points > MAX_RECORDED_POINTS:
            raise FieldError(
                "outputs.record_every",
                f"(subjects + controls) x record times = {points:.3g}: must be at most "
                f"{MAX_RECORDED_POINTS:.3g} (memory); record less often or simulate fewer "
                "subjects",
                self.outputs.record_every,
            )

    @field_validator("duration")
    @classmethod
    def _check_duration(cls, value: str | None) -> str | None:
        return None if value is None else _positive_duration(value, "duration")

    def parsed_regimen(self) -> Regimen | None:
        """Return the parsed (heroin) regimen (``None`` with ``[behaviour]``)."""
        return Regimen.parse(self.regimen) if self.regimen else None

    def all_events(self) -> list[Dose]:
        """Return the dose events of the regimen and every treatment, sorted by time.

        They are :class:`neuroadapt.model.dose.Dose`, what the engine simulates.
        """
        reg = self.parsed_regimen()
        events = reg.events() if reg is not None else []
        for t in self.treatments:
            events.extend(t.parsed_regimen().events(start_h=t.start_h()))
        return sort_events(events)

    def total_duration_h(self) -> float:
        """Return the simulated time in hours.

        ``duration`` when given; otherwise the later of the end of the
        regimen and the end of the last treatment.
        """
        if self.duration is not None:
            return parse_duration(self.duration)
        if self.behaviour is not None:
            use, _, follow = self.behaviour.days()  # whole days
            return 24.0 * (use + follow)
        ends = [t.start_h() + t.parsed_regimen().duration_h for t in self.treatments]
        reg = self.parsed_regimen()
        return max([reg.duration_h if reg is not None else 0.0, *ends])

    def weight_kg(self) -> float:
        """Return the body weight: ``cohort.body_weight_kg`` or the species default."""
        bw = self.cohort.body_weight_kg
        return DEFAULT_BODY_WEIGHT_KG[self.species] if bw is None else bw

    # ------------------------------------------------------------ derived scenarios
    def replaced(self, source: str | None = None, **update: Any) -> Scenario:
        """A copy with top-level fields replaced, validated like a file (or a ScenarioError)."""
        data = self.model_copy(update=update).model_dump(exclude_none=True)
        return validate_scenario(data, source or f"{self.name} (modified)")

    def with_parameters(self, **values: float) -> Scenario:
        """A copy with overrides (table units, within bounds) merged into ``[parameters]``."""
        merged = {**self.parameters, **{k: float(v) for k, v in values.items()}}
        return self.replaced(parameters=merged)

    def sized_cohort(self, subjects: int) -> Cohort:
        """The cohort with ``subjects`` people (and as many matched controls, if it has them)."""
        size: dict[str, int] = {"subjects": subjects}
        if self.cohort.controls:
            size["controls"] = subjects
        return self.cohort.model_copy(update=size)

    def with_subjects(self, subjects: int) -> Scenario:
        """A copy with ``subjects`` people (and as many matched controls, if it has controls)."""
        return self.replaced(cohort=self.sized_cohort(subjects))

    def with_seed(self, seed: int) -> Scenario:
        """A copy with another seed."""
        return self.replaced(seed=seed)


def _end_h(regimen: Regimen, start_h: float) -> float:
    """When a regimen started at ``start_h`` ends: its last segment or its last infusion."""
    ends = [e.time_h + e.duration_h for e in regimen.events(start_h) if e.duration_h]
    return max([start_h + regimen.duration_h, *ends])


def validate_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dictionary (the tables of its TOML text).

    Raises
    ------
    ScenarioError
        One-line message naming the first invalid field, its value and what is allowed.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, Scenario, source) from None
