"""Validation numbers measured once, stated in every VBM report and in docs/imaging.md.

Where they came from: ``neuroadapt imaging validate`` (see the commands
below), run on the 2-core development machine (shared), seed 0. Rerun the
command after changing the statistics or the synthetic maps and copy its
``fwe.tsv`` here; ``tests/test_imaging_data.py`` checks that the record is
consistent (counts, intervals) and the slow test reruns a smaller version.
"""

#: Family-wise error over null cohorts: cohorts with ≥ 1 significant voxel or
#: cluster at FWE p < 0.05, with exact (Clopper–Pearson) 95 % intervals.
NULL_FWE: dict = {
    "null_cohorts": 300,
    "description": (
        "20 users and 20 controls each, no effect, 64,551 voxels of the GM mask between MNI "
        "z −12 and +16 mm, 100 Freedman–Lane permutations, one-sided, age, sex and TIV "
        "covariates, cluster-forming p < 0.001"
    ),
    "command": (
        "neuroadapt imaging validate --null-cohorts 300 --subjects 20 --permutations 100 "
        "--slab-mm -12:16 --seed 0"
    ),
    "rates": {
        "max-T": {"k": 15, "ci": (0.0283, 0.0811)},
        "cluster mass": {"k": 10, "ci": (0.0161, 0.0604)},
        "TFCE": {"k": 11, "ci": (0.0184, 0.0647)},
    },
}
