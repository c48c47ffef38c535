# Aggregation, tables, figures and the report's front page. Tables and figures read only
# the aggregated CSVs and the run outputs; each is one call of the `infusion` CLI.


localrules:
    aggregate_grid,
    table_a1,
    table_3_1,
    table_parzen,
    runtimes,
    scorecard,


rule aggregate_grid:
    input:
        summaries=grid_files("summary.json", SEED_TAGS),
        bounds=grid_files("test_bound.json", SEED_TAGS),
    output:
        grid="results/tables/grid.csv",
        curves="results/tables/curves.csv",
    log:
        "results/logs/aggregate_grid.log",
    conda:
        "../envs/infusion.yaml"
    params:
        runs=" ".join(f"--run {panel}={seed_runs(run)}" for panel, run in panel_runs()),
    shell:
        "infusion aggregate {params.runs} --grid-out {output.grid}"
        " --curves-out {output.curves} > {log} 2>&1"


rule table_a1:
    input:
        "results/tables/grid.csv",
    output:
        report(
            "results/tables/tableA.1.csv",
            caption="../report/tableA.1.rst",
            category="2. Tables",
            labels={"table": "A.1"},
        ),
    log:
        "results/logs/table_a1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion table-a1 --grid {input} --out {output} > {log} 2>&1"


rule table_3_1:
    input:
        test=final_seed_files("likelihood_test.json"),
        train=final_seed_files("likelihood_train.json"),
    output:
        report(
            "results/tables/table3.1.csv",
            caption="../report/table3.1.rst",
            category="2. Tables",
            labels={"table": "3.1"},
        ),
    log:
        "results/logs/table_3_1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion table-3-1 --test {input.test} --train {input.train} --out {output}"
        " > {log} 2>&1"


rule table_parzen:
    input:
        final_seed_files("parzen.json"),
    output:
        report(
            "results/tables/fig3.4.csv",
            caption="../report/fig3.4.rst",
            category="2. Tables",
            labels={"table": "Fig 3.4 (Parzen)"},
        ),
    log:
        "results/logs/table_parzen.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion table-parzen --parzen {input} --out {output} > {log} 2>&1"


rule runtimes:
    input:
        train=[
            f"results/benchmarks/train/{DATASET}-{run.split('/')[-1]}{tag}.tsv"
            for run in grid_runs()
            for tag in SEED_TAGS
        ],
        evaluate=[
            f"results/benchmarks/evaluate_grid_point/{DATASET}-{run.split('/')[-1]}{tag}.tsv"
            for run in grid_runs()
            for tag in SEED_TAGS
        ],
        final=expand(
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
    output:
        report(
            "results/tables/runtimes.csv",
            caption="../report/runtimes.rst",
            category="3. Runtimes",
            labels={"table": "runtimes"},
        ),
    log:
        "results/logs/runtimes.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion runtimes {input} --out {output} > {log} 2>&1"


rule cost_estimate:
    input:
        # The study's config files: `infusion cost` merges and validates them as snakemake
        # did (infusion.study). Values given with snakemake --config are not in them.
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
        "results/logs/cost_estimate.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("train", "threads")
    resources:
        gpu=1,
    params:
        gpu_slots=config["resources"]["jobs_per_gpu"],
        device=config["training"]["device"],
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots} cost"
        " --config {input.config} --configfile {input.overlays} --device {params.device}"
        " --out {output} > {log} 2>&1"


rule scorecard:
    input:
        table_a1="results/tables/tableA.1.csv",
        table_3_1="results/tables/table3.1.csv",
        parzen="results/tables/fig3.4.csv",
    output:
        csv=report(
            "results/tables/scorecard.csv",
            caption="../report/scorecard.rst",
            category="1. Scorecard",
            labels={"table": "scorecard"},
        ),
        page="results/report/front_page.rst",
    log:
        "results/logs/scorecard.log",
    conda:
        "../envs/infusion.yaml"
    params:
        study=lambda wildcards: study_flags(),
    shell:
        "infusion scorecard --table-a1 {input.table_a1} --table-3-1 {input.table_3_1}"
        " --parzen {input.parzen} --out-csv {output.csv} --out-rst {output.page}"
        " {params.study} > {log} 2>&1"


rule figure_sampling_chains:
    input:
        f"results/final/{DATASET}/samples.npz",
    output:
        report(
            "results/figures/fig3.1.png",
            caption="../report/fig3.1.rst",
            category="4. Figures",
            labels={"figure": "3.1"},
        ),
    log:
        "results/logs/figures/fig3.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure sampling-chains --samples {input} --out {output} > {log} 2>&1"


rule figure_training_chains:
    input:
        lambda wildcards: final_file("chains.npz"),
    output:
        report(
            "results/figures/fig3.2.png",
            caption="../report/fig3.2.rst",
            category="4. Figures",
            labels={"figure": "3.2"},
        ),
    log:
        "results/logs/figures/fig3.2.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure training-chains --chains {input} --out {output} > {log} 2>&1"


rule figure_training_curves:
    input:
        lambda wildcards: final_file("metrics.csv"),
    output:
        report(
            "results/figures/fig3.3.png",
            caption="../report/fig3.3.rst",
            category="4. Figures",
            labels={"figure": "3.3"},
        ),
    log:
        "results/logs/figures/fig3.3.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure training-curves --metrics {input} --out {output} > {log} 2>&1"


rule figure_nearest_neighbours:
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
        "results/logs/figures/fig3.5-{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure nearest-neighbours --samples {input.samples} --data {input.data}"
        " --out {output} > {log} 2>&1"


rule figure_grid_curves:
    input:
        "results/tables/curves.csv",
    output:
        report(
            "results/figures/figA.1.png",
            caption="../report/figA.1.rst",
            category="4. Figures",
            labels={"figure": "A.1"},
        ),
    log:
        "results/logs/figures/figA.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure grid-curves --curves {input} --out {output} > {log} 2>&1"


rule figure_grid_means:
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
        "results/logs/figures/tableA.1.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure grid-means --grid {input.grid} --out {output} > {log} 2>&1"


rule figure_constant_vs_increasing:
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
        "results/logs/figures/figA.2.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure constant-vs-increasing --constant {input.constant}"
        " --increasing {input.increasing} --out {output} > {log} 2>&1"


rule figure_chains:
    input:
        lambda wildcards: natural_file(f"fig{wildcards.figure}", "samples.npz"),
    output:
        report(
            "results/figures/fig{figure}.png",
            caption="../report/figA.3-A.4.rst",
            category="4. Figures",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/figures/fig{figure}.log",
    wildcard_constraints:
        figure=r"A\.3|A\.4",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure chains --samples {input} --out {output} > {log} 2>&1"


rule figure_inpainting:
    input:
        lambda wildcards: natural_file("fig3.6", "inpainting.npz"),
    output:
        report(
            "results/figures/fig3.6.png",
            caption="../report/fig3.6.rst",
            category="4. Figures",
            labels={"figure": "3.6"},
        ),
    log:
        "results/logs/figures/fig3.6.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion figure inpainting --inpainting {input} --out {output} > {log} 2>&1"
