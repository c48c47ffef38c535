# Beyond the paper: denoising against lower-bound training (config section
# lower_bound_training). Each run of infusion.runs.objective_runs is trained by the train rule under
# its objective's run tag (infusion/runs.py). The final model's runs are scored
# by the rules of Table 3.1 and Fig 3.4 (results/final/<dataset><tag>/); the other points'
# by the same rules into OBJECTIVE_RUN (common.smk). Their table and figure are the artifact
# lower-bound-training (infusion/beyond/lower_bound_training.py), which reads the plan from
# the study's config files (infusion.runs.objective_runs), as the ladder's does.


localrules:
    lower_bound_training,


use rule evaluate_likelihood as evaluate_objective_point with:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{OBJECTIVE_RUN}/likelihood_{{split}}.json",
    log:
        run_file("results/logs/evaluate_objective_point", "-{split}.log"),
    benchmark:
        "results/benchmarks/evaluate_objective_point/{dataset}-T{steps}-a{alpha}-w{omega}{tag}-{split}.tsv"


use rule sample_final as sample_objective_point with:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{OBJECTIVE_RUN}/samples.npz",
    log:
        run_file("results/logs/sample_objective_point", ".log"),
    benchmark:
        run_benchmark("sample_objective_point")
    params:
        settings=lambda wildcards: flags(
            "sampling",
            sampling_steps=study.objective_sampling_steps(config, wildcards.steps),
        ),


use rule parzen as parzen_objective_point with:
    input:
        samples=f"{OBJECTIVE_RUN}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        f"{OBJECTIVE_RUN}/parzen.json",
    log:
        run_file("results/logs/parzen_objective_point", ".log"),
    benchmark:
        run_benchmark("parzen_objective_point")


rule lower_bound_training:
    input:
        config="config.yaml",
        overlays=workflow.overwrite_configfiles,
        scores=objective_files(),
    output:
        table=report(
            "results/tables/beyond/lower-bound-training.csv",
            caption="../report/lower-bound-training.rst",
            category="5. Beyond the paper",
            labels={"table": "lower-bound-training"},
        ),
        figure=report(
            "results/figures/beyond/lower-bound-training.png",
            caption="../report/lower-bound-training.rst",
            category="5. Beyond the paper",
            labels={"figure": "lower-bound-training"},
        ),
    log:
        "results/logs/lower_bound_training/lower-bound-training.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact lower-bound-training --config {input.config:q} --configfile {input.overlays:q}"
            " --out {output.table:q} --figure-out {output.figure:q}"
        )
