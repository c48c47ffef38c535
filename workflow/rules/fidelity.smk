# Beyond the paper: the fidelity ablation (config section fidelity, infusion/switches.py).
# Its runs are the final model's under run tags, trained, scored and sampled by the same
# rules as the study's (train, evaluate_likelihood, sample_final, parzen); its table and
# figure are the artifacts fidelity-table and fidelity-figure (infusion/beyond/fidelity.py).
# Its cross-scoring (config section cross_scoring) scores each trained variant under every
# variant's schedule and its tightest proposal: the artifact proposals
# (infusion/beyond/cross_scoring.py).


localrules:
    fidelity_table,
    fidelity_figure,
    proposals,


rule fidelity_table:
    input:
        likelihood=fidelity_files("likelihood_test.json"),
        parzen=fidelity_files("parzen.json"),
    output:
        report(
            "results/tables/fidelity.csv",
            caption="../report/fidelity.rst",
            category="5. Beyond the paper",
            labels={"table": "fidelity"},
        ),
    log:
        "results/logs/fidelity_table/fidelity.log",
    conda:
        "../envs/infusion.yaml"
    params:
        variant=" ".join(run.variant for run in ablation_runs(config)),
        seed=" ".join(str(run.seed) for run in ablation_runs(config)),
    shell:
        infusion_shell(
            "artifact fidelity-table --likelihood {input.likelihood:q} --parzen {input.parzen:q}"
            " --variant {params.variant} --seed {params.seed} --out {output:q}"
        )


rule fidelity_figure:
    input:
        table="results/tables/fidelity.csv",
    output:
        report(
            "results/figures/fidelity.png",
            caption="../report/fidelity.rst",
            category="5. Beyond the paper",
            labels={"figure": "fidelity"},
        ),
    log:
        "results/logs/fidelity_figure/fidelity.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact fidelity-figure --table {input.table:q} --out {output:q}"
        )


rule score_under_proposal:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
        data="results/data/{dataset}.npz",
        search=lambda wildcards: (
            [f"results/final/{wildcards.dataset}{wildcards.tag}/proposal_search.json"]
            if wildcards.proposal == TIGHTEST
            else []
        ),
    output:
        "results/final/{dataset}{tag}/proposals/{proposal}.json",
    log:
        "results/logs/score_under_proposal/{dataset}{tag}-{proposal}.log",
    benchmark:
        "results/benchmarks/score_under_proposal/{dataset}{tag}-{proposal}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=cross_flags,
    shell:
        infusion_shell(
            "evaluate --model {input.model:q} --data {input.data:q} --out {output:q}"
            " --split test {params.settings}",
            gpu=True,
        )


rule proposals:
    input:
        scores=cross_files(),
    output:
        table=report(
            "results/tables/beyond/proposals.csv",
            caption="../report/proposals.rst",
            category="5. Beyond the paper",
            labels={"table": "proposals"},
        ),
        figure=report(
            "results/figures/beyond/proposals.png",
            caption="../report/proposals.rst",
            category="5. Beyond the paper",
            labels={"figure": "proposals"},
        ),
    log:
        "results/logs/proposals/proposals.log",
    conda:
        "../envs/infusion.yaml"
    params:
        variant=cross_column(0),
        seed=cross_column(1),
        scored_by=cross_column(3),
        schedule=cross_column(4),
    shell:
        infusion_shell(
            "artifact proposals --scores {input.scores:q} --variant {params.variant}"
            " --seed {params.seed} --scored-by {params.scored_by} --schedule {params.schedule}"
            " --out {output.table:q} --figure-out {output.figure:q}"
        )
