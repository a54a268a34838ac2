"""The run pipeline adds the brain scales for users and matched controls."""

import numpy as np
import xarray as xr

from neuroadapt.experiments.run import resolve, run_scenario
from neuroadapt.scenarios import loads_scenario

SC = """
name = "brain-test"
seed = 2
regimen = "10 mg iv q8h x 60d then 0 x 30d"
[cohort]
subjects = 12
controls = 12
"""


def test_users_and_controls_get_brain_scales(tmp_path):
    out = run_scenario(resolve(loads_scenario(SC)), tmp_path)
    users = xr.open_dataset(tmp_path / "results.nc", engine="h5netcdf")
    ctrl = xr.open_dataset(tmp_path / "controls.nc", engine="h5netcdf")
    assert out.controls is not None
    for name in (
        "dopamine_d2_availability",
        "glutamate_glt1",
        "structure_gm_volume",
        "white_matter_fa",
        "cognition_z",
    ):
        assert name in users and name in ctrl, name
    d2_users = users.dopamine_d2_availability.isel(time=60).mean().item()
    d2_ctrl = ctrl.dopamine_d2_availability.isel(time=60).mean().item()
    assert d2_users < d2_ctrl
    gm_users = users.structure_gm_volume.isel(time=60).mean().item()
    assert gm_users < ctrl.structure_gm_volume.isel(time=60).mean().item()
    assert np.isfinite(users.cognition_z.values).all()
