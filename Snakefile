# Reproduces "Learning to Generate Samples from Noise through Infusion Training"
# (Bordes, Honari, Vincent, ICLR 2017). See README.md; every rule calls the `infusion` CLI.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


report: "results/report/front_page.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/inception.smk"
include: "workflow/rules/fidelity.smk"
include: "workflow/rules/verdicts.smk"
include: "workflow/rules/convergence.smk"
include: "workflow/rules/proposal_search.smk"
include: "workflow/rules/lower_bound_training.smk"
include: "workflow/rules/sampling_steps.smk"
include: "workflow/rules/parzen_trust.smk"
include: "workflow/rules/ladder.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
