"""Scenarios: the typed description of a virtual experiment and its dosing language."""

from neuroadapt.scenarios.errors import ScenarioError as ScenarioError
from neuroadapt.scenarios.files import dump_scenario as dump_scenario
from neuroadapt.scenarios.files import list_shipped as list_shipped
from neuroadapt.scenarios.files import load_scenario as load_scenario
from neuroadapt.scenarios.files import loads_scenario as loads_scenario
from neuroadapt.scenarios.regimen import MAX_DOSES as MAX_DOSES
from neuroadapt.scenarios.regimen import Abstinence as Abstinence
from neuroadapt.scenarios.regimen import Cycle as Cycle
from neuroadapt.scenarios.regimen import Regimen as Regimen
from neuroadapt.scenarios.regimen import RegimenError as RegimenError
from neuroadapt.scenarios.regimen import RepeatedDose as RepeatedDose
from neuroadapt.scenarios.regimen import Segment as Segment
from neuroadapt.scenarios.regimen import SingleDose as SingleDose
from neuroadapt.scenarios.regimen import events_to_frame as events_to_frame
from neuroadapt.scenarios.regimen import format_duration as format_duration
from neuroadapt.scenarios.regimen import parse_duration as parse_duration
from neuroadapt.scenarios.regimen import sort_events as sort_events
from neuroadapt.scenarios.schema import Cohort as Cohort
from neuroadapt.scenarios.schema import Outputs as Outputs
from neuroadapt.scenarios.schema import Rescue as Rescue
from neuroadapt.scenarios.schema import Scenario as Scenario
from neuroadapt.scenarios.schema import Treatment as Treatment
from neuroadapt.scenarios.schema import validate_scenario as validate_scenario

__all__ = [
    "MAX_DOSES",
    "Abstinence",
    "Cohort",
    "Cycle",
    "Outputs",
    "Regimen",
    "RegimenError",
    "RepeatedDose",
    "Rescue",
    "Scenario",
    "ScenarioError",
    "Segment",
    "SingleDose",
    "Treatment",
    "dump_scenario",
    "events_to_frame",
    "format_duration",
    "list_shipped",
    "load_scenario",
    "loads_scenario",
    "parse_duration",
    "sort_events",
    "validate_scenario",
]
