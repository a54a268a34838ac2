"""Report panels: shapes, labels and physical invariants of the small virtual experiments."""

from __future__ import annotations

import numpy as np
import pytest

from neuroadapt.experiments.panels import (
    HISTORY,
    PANEL_NAMES,
    PK_ROUTES,
    compute_panels,
    wilson_interval,
)
from neuroadapt.parameters import load_parameters

SUBJECTS = 100


@pytest.fixture(scope="module")
def panels():
    return compute_panels(load_parameters("human"), seed=0, overdose_subjects=SUBJECTS)


def test_every_panel_is_present_and_described(panels):
    assert set(panels) == set(PANEL_NAMES)
    for name, ds in panels.items():
        assert len(ds.attrs["description"]) > 40, name
        assert ds.attrs["parameter_hash"] == load_parameters("human").hash(), name
        for var in ds.data_vars:
            assert "units" in ds[var].attrs and "long_name" in ds[var].attrs, (name, var)


def test_shapes(panels):
    assert dict(panels["pk_by_route"].sizes) == {"route": len(PK_ROUTES), "time": 361}
    assert list(panels["pk_by_route"]["route"].values) == list(PK_ROUTES)
    assert panels["camp_acute_chronic"].sizes["exposure"] == 2
    assert panels["tolerance"].sizes["time"] == 61
    assert panels["withdrawal"].sizes["condition"] == 2
    assert panels["respiration"].sizes["condition"] == 4
    od = panels["overdose_vs_dose"]
    assert list(od["history"].values) == ["naive", "tolerant", "abstinent"]
    assert od.sizes["dose"] == 10


def test_no_nan_while_alive(panels):
    for name, ds in panels.items():
        alive = ds["alive"].values.astype(bool) if "alive" in ds else None
        for var in ds.data_vars:
            x = ds[var].values.astype(float)
            if alive is not None and x.shape == alive.shape:
                x = x[alive]
            assert np.isfinite(x).all(), (name, var)


def test_concentrations_are_non_negative(panels):
    pk = panels["pk_by_route"]
    for var in ("blood_heroin", "blood_6mam", "blood_morphine", "brain_6mam", "brain_morphine"):
        assert (pk[var].values >= 0).all(), var
    # oral heroin delivers morphine only
    assert pk["blood_heroin"].sel(route="oral").max() == 0
    assert pk["blood_morphine"].sel(route="oral").max() > 0
    # an IV bolus gives the highest heroin peak
    peaks = pk["blood_heroin"].max("time")
    assert peaks.sel(route="iv") == peaks.max()


def test_occupancy_and_activation_are_fractions(panels):
    occ = panels["occupancy"]
    for var in ("agonist_occupancy", "activation", "occupancy_curve", "activation_curve"):
        x = occ[var].values
        assert (x >= 0).all() and (x <= 1).all(), var
    curve = occ["occupancy_curve"]
    assert (curve.diff("concentration") >= 0).all()  # monotone in concentration
    # half occupancy at the dissociation constant
    for lig in occ["ligand"].values:
        kd = float(occ["kd"].sel(ligand=lig))
        half = float(curve.sel(ligand=lig).interp(concentration=kd))
        assert half == pytest.approx(0.5, abs=0.02)


def test_acute_vs_chronic_signalling(panels):
    ds = panels["camp_acute_chronic"]
    acute, chronic = ds.sel(exposure="acute"), ds.sel(exposure="chronic")
    assert float(acute["camp"].sel(time=-1)) == pytest.approx(1.0)  # naive, drug-free
    assert float(acute["camp"].min()) < 1.0  # the dose inhibits adenylyl cyclase
    assert float(chronic["tolerance_shift"].min()) > 1.0  # tolerant on day 30
    assert float(chronic["opioid_effect"].max()) < float(acute["opioid_effect"].max())


def test_tolerance_builds_and_is_lost(panels):
    tol = panels["tolerance"]["tolerance_shift"]
    stop = HISTORY.days
    peak = float(tol.sel(time=stop))
    assert peak > 1.0
    assert float(tol.isel(time=-1)) < 1.0 + 0.25 * (peak - 1.0)
    assert (tol.sel(time=slice(stop, None)).diff("time") <= 1e-6).all()  # falls in abstinence
    assert (panels["tolerance"]["u_fast"] >= 0).all() and (panels["tolerance"]["u_slow"] >= 0).all()


def test_withdrawal_after_stop_and_naloxone(panels):
    w = panels["withdrawal"]["withdrawal"]
    stop, nlx = w.sel(condition="abrupt stop"), w.sel(condition="naloxone")
    assert float(stop.max()) > 0
    t_nlx = panels["withdrawal"].attrs["naloxone_time_h"]
    window = slice(t_nlx, t_nlx + 2)
    assert float(nlx.sel(time=window).max()) > 0
    assert float(nlx.sel(time=window).max()) > float(stop.sel(time=window).max())


def test_respiration_tolerance(panels):
    r = panels["respiration"]
    for var in ("ventilation", "pao2", "spo2"):
        start = r[var].isel(time=0)
        assert (r[var].min("time") <= start).all()
    naive20 = float(r["ventilation"].sel(condition="naive 20 mg").min())
    tol20 = float(r["ventilation"].sel(condition="tolerant 20 mg").min())
    assert tol20 >= naive20  # respiratory tolerance
    assert (r["spo2"].values[r["alive"].values] <= 1).all()


def test_overdose_risk_ordering(panels):
    od = panels["overdose_vs_dose"]
    naive = od["p_fatal"].sel(history="naive").values
    tolerant = od["p_fatal"].sel(history="tolerant").values
    abstinent = od["p_fatal"].sel(history="abstinent").values
    slack = 1.0 / SUBJECTS
    assert (tolerant <= naive + 1e-12).all()
    assert (tolerant <= abstinent + slack).all() and (abstinent <= naive + slack).all()
    assert naive[-1] > naive[0]  # risk rises with dose
    for v in ("p_fatal", "p_nonfatal"):
        assert ((od[v] >= 0) & (od[v] <= 1)).all()
    assert (od["p_fatal"] + od["p_nonfatal"] <= 1 + 1e-12).all()
    assert (od["p_fatal_low"] <= od["p_fatal"]).all()
    assert (od["p_fatal"] <= od["p_fatal_high"]).all()
    assert (od["n_at_risk"] <= SUBJECTS).all()


def test_wilson_interval_brackets_the_proportion():
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo[0] == 0 and hi[-1] == 1
    assert lo[1] < 0.5 < hi[1]


def test_cached_panels_round_trip(tmp_path, monkeypatch):
    import xarray as xr

    import neuroadapt.experiments.panels as P
    from neuroadapt.parameters import load_parameters

    params = load_parameters("human")
    calls = []
    real = P.compute_panels
    monkeypatch.setattr(P, "compute_panels", lambda p, seed: calls.append(seed) or real(p, seed))
    first = P.cached_panels(params, seed=3, directory=tmp_path)
    second = P.cached_panels(params, seed=3, directory=tmp_path)
    assert calls == [3]
    for name in P.PANEL_NAMES:
        xr.testing.assert_identical(first[name], second[name])
    P.cached_panels(params, seed=4, directory=tmp_path)
    assert calls == [3, 4]
