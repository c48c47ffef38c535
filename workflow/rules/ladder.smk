# Beyond the paper: the ladder toward the paper's scale (config section ladder, issue 22).
# Each run of infusion.runs.ladder_runs is trained by the train rule under its run tag; its
# scores go to results/beyond/ladder/<dataset>/<point><tag>/ (LADDER_RUN): the test estimates
# under its own proposal and the ladder's common one (at the cross-scoring's sizes), its
# samples and their Parzen estimate. The artifact ladder (infusion/beyond/ladder.py) reads
# the study's config files for the plan, as `infusion cost` does.

LADDER_RUN = RUN.replace("results/runs/", f"{LADDER_SCORES}/", 1)


localrules:
    ladder,


use rule score_under_proposal as score_ladder_run with:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{LADDER_RUN}/proposals/{{proposal}}.json",
    log:
        run_file("results/logs/score_ladder_run", "-{proposal}.log"),
    benchmark:
        "results/benchmarks/score_ladder_run/{dataset}-T{steps}-a{alpha}-w{omega}{tag}-{proposal}.tsv"


use rule sample_final as sample_ladder_run with:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{LADDER_RUN}/samples.npz",
    log:
        run_file("results/logs/sample_ladder_run", ".log"),
    benchmark:
        run_benchmark("sample_ladder_run")
    params:
        settings=lambda wildcards: flags(
            "sampling",
            sampling_steps=study.objective_sampling_steps(config, wildcards.steps),
        ),


use rule parzen as parzen_ladder_run with:
    input:
        samples=f"{LADDER_RUN}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        f"{LADDER_RUN}/parzen.json",
    log:
        run_file("results/logs/parzen_ladder_run", ".log"),
    benchmark:
        run_benchmark("parzen_ladder_run")


rule ladder:
    input:
        config="config.yaml",
        overlays=workflow.overwrite_configfiles,
        scores=ladder_files(),
    output:
        table=report(
            "results/tables/beyond/ladder.csv",
            caption="../report/ladder.rst",
            category="5. Beyond the paper",
            labels={"table": "ladder"},
        ),
        gap=report(
            "results/tables/beyond/gap.csv",
            caption="../report/ladder.rst",
            category="5. Beyond the paper",
            labels={"table": "gap"},
        ),
        figure=report(
            "results/figures/beyond/ladder.png",
            caption="../report/ladder.rst",
            category="5. Beyond the paper",
            labels={"figure": "ladder"},
        ),
    log:
        "results/logs/ladder/ladder.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact ladder --config {input.config:q} --configfile {input.overlays:q}"
            " --out {output.table:q} --gap-out {output.gap:q} --figure-out {output.figure:q}"
        )
