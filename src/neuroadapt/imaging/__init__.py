"""Virtual neuroimaging and imaging statistics.

Synthetic modulated gray-matter maps of simulated cohorts, the analysis that
runs the same on simulated and real NIfTI maps (ROI volumetry, voxel-wise GLM
with Freedman–Lane permutations, max-T, TFCE and cluster mass), cluster
tables with atlas labels, PET (D2/D3 BP_ND) and fMRI (cue reactivity)
read-outs, and validation against the known ground truth.
"""
