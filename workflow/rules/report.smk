# Aggregation, tables, figures and the report's front page: each rule makes one artifact
# (infusion/paper/artifacts.py) named like its output, `infusion artifact ID`. Tables and
# figures read only the aggregated CSVs and the run outputs, all declared as inputs.


localrules:
    grid,
    table_a_1,
    table_3_1,
    fig_3_4,
    runtimes,
    claims,
    scorecard,


rule grid:
    input:
        summaries=grid_files("summary.json", SEED_TAGS),
        bounds=grid_files("test_bound.json", SEED_TAGS),
        metrics=grid_files("metrics.csv"),
    output:
        grid="results/tables/grid.csv",
        curves="results/tables/curves.csv",
    log:
        "results/logs/grid/grid.log",
    conda:
        "../envs/infusion.yaml"
    params:
        runs=" ".join(
            shlex.quote(f"{panel}={seed_runs(run)}") for panel, run in panel_runs()
        ),
    shell:
        infusion_shell(
            "artifact grid --runs {params.runs} --out {output.grid:q}"
            " --curves-out {output.curves:q}"
        )


rule table_a_1:
    input:
        grid="results/tables/grid.csv",
    output:
        report(
            "results/tables/tableA.1.csv",
            caption="../report/tableA.1.rst",
            category="2. Tables",
            labels={"table": "A.1"},
        ),
    log:
        "results/logs/table_a_1/tableA.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact tableA.1 --grid {input.grid:q} --out {output:q}")


rule table_3_1:
    input:
        test=final_seed_files("likelihood_test.json"),
        train=final_seed_files("likelihood_train.json"),
        # the test IS under each seed's tightest proposal, where the study searches for it
        tightest=(
            final_seed_files("likelihood_test_tightest.json")
            if config["proposal_search"]["enabled"]
            else []
        ),
    output:
        report(
            "results/tables/table3.1.csv",
            caption="../report/table3.1.rst",
            category="2. Tables",
            labels={"table": "3.1"},
        ),
    log:
        "results/logs/table_3_1/table3.1.log",
    conda:
        "../envs/infusion.yaml"
    params:
        tightest=lambda wildcards, input: tightest_flags(input.tightest),
    shell:
        infusion_shell(
            "artifact table3.1 --test {input.test:q} --train {input.train:q}{params.tightest}"
            " --out {output:q}"
        )


rule fig_3_4:
    input:
        parzen=final_seed_files("parzen.json"),
    output:
        report(
            "results/tables/fig3.4.csv",
            caption="../report/fig3.4.rst",
            category="2. Tables",
            labels={"table": "Fig 3.4 (Parzen)"},
        ),
    log:
        "results/logs/fig_3_4/fig3.4.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact fig3.4 --parzen {input.parzen:q} --out {output:q}")


rule runtimes:
    input:
        benchmarks=[
            *(
                run_benchmark(rule_name, f"{run}{tag}")
                for rule_name in ("train", "evaluate_grid_point")
                for run in grid_runs()
                for tag in SEED_TAGS
            ),
            *expand(
                "results/benchmarks/{stage}.tsv",
                stage=[
                    f"{stage}/{DATASET}{tag}{split}"
                    for tag in SEED_TAGS
                    for stage, split in (
                        ("evaluate_likelihood", "-test"),
                        ("evaluate_likelihood", "-train"),
                        ("sample_final", ""),
                        ("parzen", ""),
                    )
                ],
            ),
        ],
    output:
        report(
            "results/tables/runtimes.csv",
            caption="../report/runtimes.rst",
            category="3. Runtimes",
            labels={"table": "runtimes"},
        ),
    log:
        "results/logs/runtimes/runtimes.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact runtimes --benchmarks {input.benchmarks:q} --out {output:q}"
        )


rule cost_estimate:
    input:
        # The study's config files: `infusion cost` merges and validates them as snakemake
        # did (infusion.study). Values given with snakemake --config are not in them. The
        # rates are timed afresh where the jobs run (--no-cache).
        config="config.yaml",
        overlays=workflow.overwrite_configfiles,
    output:
        report(
            "results/tables/cost.csv",
            caption="../report/cost.rst",
            category="3. Runtimes",
            labels={"table": "cost estimate"},
        ),
    log:
        "results/logs/cost_estimate/cost.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("train", "threads")
    resources:
        gpu=1,
    params:
        device=config["training"]["device"],
    shell:
        infusion_shell(
            "cost --config {input.config:q} --configfile {input.overlays:q}"
            " --device {params.device} --no-cache --out {output:q}",
            gpu=True,
        )


rule claims:
    input:
        # The study's config files: the claims read its scale (a claim against other
        # models' published numbers needs the paper's) and config verdicts from them.
        config="config.yaml",
        overlays=workflow.overwrite_configfiles,
        table_a_1="results/tables/tableA.1.csv",
        fig_3_4="results/tables/fig3.4.csv",
        # where the study makes them: Table 3.2, the lower-bound-training table
        table_3_2=["results/tables/table3.2.csv"] if output_dataset("table3.2") else [],
        lower_bound_training=(
            ["results/tables/beyond/lower-bound-training.csv"]
            if config["lower_bound_training"]["enabled"]
            else []
        ),
    output:
        report(
            "results/tables/claims.csv",
            caption="../report/claims.rst",
            category="1. Scorecard",
            labels={"table": "claims"},
        ),
    log:
        "results/logs/claims/claims.log",
    conda:
        "../envs/infusion.yaml"
    params:
        optional=lambda wildcards, input: optional_flag(input.table_3_2, "table-3-2")
        + optional_flag(input.lower_bound_training, "lower-bound-training"),
    shell:
        infusion_shell(
            "artifact claims --config {input.config:q} --configfile {input.overlays:q}"
            " --table-a-1 {input.table_a_1:q} --fig-3-4 {input.fig_3_4:q}{params.optional}"
            " --out {output:q}"
        )


rule scorecard:
    input:
        # The study's config files: the scorecard reads the study's scale and its verdicts'
        # settings from them (infusion.paper.scorecard.scorecard_study), as `infusion cost`
        # does. Values given with snakemake --config are not in them.
        config="config.yaml",
        overlays=workflow.overwrite_configfiles,
        table_a_1="results/tables/tableA.1.csv",
        table_3_1="results/tables/table3.1.csv",
        fig_3_4="results/tables/fig3.4.csv",
        claims="results/tables/claims.csv",
        # Table 3.2's Inception scores, where the study scores them
        table_3_2=["results/tables/table3.2.csv"] if output_dataset("table3.2") else [],
        # the ladder's prediction of the paper's setting, where the ladder runs
        gap=["results/tables/beyond/gap.csv"] if config["ladder"]["enabled"] else [],
    output:
        csv=report(
            "results/tables/scorecard.csv",
            caption="../report/scorecard.rst",
            category="1. Scorecard",
            labels={"table": "scorecard"},
        ),
        page="results/report/front_page.rst",
    log:
        "results/logs/scorecard/scorecard.log",
    conda:
        "../envs/infusion.yaml"
    params:
        table_3_2=lambda wildcards, input: optional_flag(input.table_3_2, "table-3-2"),
        gap=lambda wildcards, input: optional_flag(input.gap, "gap"),
    shell:
        infusion_shell(
            "artifact scorecard --config {input.config:q} --configfile {input.overlays:q}"
            " --table-a-1 {input.table_a_1:q} --table-3-1 {input.table_3_1:q}"
            " --fig-3-4 {input.fig_3_4:q} --claims {input.claims:q}{params.table_3_2}{params.gap}"
            " --out {output.csv:q} --page-out {output.page:q}"
        )


rule fig_3_1:
    input:
        samples=f"results/final/{DATASET}/samples.npz",
    output:
        report(
            "results/figures/fig3.1.png",
            caption="../report/fig3.1.rst",
            category="4. Figures",
            labels={"figure": "3.1"},
        ),
    log:
        "results/logs/fig_3_1/fig3.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact fig3.1 --samples {input.samples:q} --out {output:q}")


rule fig_3_2:
    input:
        chains=lambda wildcards: final_file("chains.npz"),
    output:
        report(
            "results/figures/fig3.2.png",
            caption="../report/fig3.2.rst",
            category="4. Figures",
            labels={"figure": "3.2"},
        ),
    log:
        "results/logs/fig_3_2/fig3.2.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact fig3.2 --chains {input.chains:q} --out {output:q}")


rule fig_3_3:
    input:
        metrics=lambda wildcards: final_file("metrics.csv"),
    output:
        report(
            "results/figures/fig3.3.png",
            caption="../report/fig3.3.rst",
            category="4. Figures",
            labels={"figure": "3.3"},
        ),
    log:
        "results/logs/fig_3_3/fig3.3.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact fig3.3 --metrics {input.metrics:q} --out {output:q}")


rule fig_3_5:
    input:
        samples="results/final/{dataset}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        report(
            "results/figures/fig3.5-{dataset}.png",
            caption="../report/fig3.5.rst",
            category="4. Figures",
            labels={"figure": "3.5 ({dataset})"},
        ),
    log:
        "results/logs/fig_3_5/fig3.5-{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact fig3.5 --samples {input.samples:q} --data {input.data:q} --out {output:q}"
        )


rule fig_a_1:
    input:
        curves="results/tables/curves.csv",
    output:
        report(
            "results/figures/figA.1.png",
            caption="../report/figA.1.rst",
            category="4. Figures",
            labels={"figure": "A.1"},
        ),
    log:
        "results/logs/fig_a_1/figA.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact figA.1 --curves {input.curves:q} --out {output:q}")


rule table_a_1_images:
    input:
        grid="results/tables/grid.csv",
        samples=grid_files("samples.npz"),
    output:
        report(
            "results/figures/tableA.1.png",
            caption="../report/tableA.1-images.rst",
            category="2. Tables",
            labels={"table": "A.1 (sample means)"},
        ),
    log:
        "results/logs/table_a_1_images/tableA.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact tableA.1-images --grid {input.grid:q} --samples {input.samples:q} --out {output:q}"
        )


rule fig_a_2:
    input:
        constant=lambda wildcards: constant_file("samples.npz"),
        increasing=lambda wildcards: final_file("samples.npz"),
    output:
        report(
            "results/figures/figA.2.png",
            caption="../report/figA.2.rst",
            category="4. Figures",
            labels={"figure": "A.2"},
        ),
    log:
        "results/logs/fig_a_2/figA.2.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact figA.2 --constant {input.constant:q} --increasing {input.increasing:q} --out {output:q}"
        )


rule fig_a_3:
    input:
        samples=lambda wildcards: natural_file("figA.3", "samples.npz"),
    output:
        report(
            "results/figures/figA.3.png",
            caption="../report/figA.3.rst",
            category="4. Figures",
            labels={"figure": "A.3"},
        ),
    log:
        "results/logs/fig_a_3/figA.3.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact figA.3 --samples {input.samples:q} --out {output:q}")


rule fig_a_4:
    input:
        samples=lambda wildcards: natural_file("figA.4", "samples.npz"),
    output:
        report(
            "results/figures/figA.4.png",
            caption="../report/figA.4.rst",
            category="4. Figures",
            labels={"figure": "A.4"},
        ),
    log:
        "results/logs/fig_a_4/figA.4.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell("artifact figA.4 --samples {input.samples:q} --out {output:q}")


rule fig_3_6:
    input:
        inpainting=lambda wildcards: natural_file("fig3.6", "inpainting.npz"),
    output:
        report(
            "results/figures/fig3.6.png",
            caption="../report/fig3.6.rst",
            category="4. Figures",
            labels={"figure": "3.6"},
        ),
    log:
        "results/logs/fig_3_6/fig3.6.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact fig3.6 --inpainting {input.inpainting:q} --out {output:q}"
        )
