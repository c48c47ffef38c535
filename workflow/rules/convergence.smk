# Beyond the paper: how far the estimates are from converged (config section convergence).
# The final model's lower bound and IS estimate against the number of chains k, on the first
# convergence.examples test images (infusion/estimation/against_k.py), under
# convergence.proposal and, with convergence.tightest, under the tightest proposal the
# validation search found (convergence_tightest.json); its table and figure are the artifact
# convergence (infusion/beyond/convergence.py).


localrules:
    convergence,


rule estimate_convergence:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset),
        data="results/data/{dataset}.npz",
        search=lambda wildcards: (
            [f"results/final/{wildcards.dataset}/proposal_search.json"]
            if wildcards.proposal_choice
            else []
        ),
    output:
        "results/final/{dataset}/convergence{proposal_choice}.json",
    log:
        "results/logs/estimate_convergence/{dataset}{proposal_choice}.log",
    benchmark:
        "results/benchmarks/estimate_convergence/{dataset}{proposal_choice}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=convergence_flags,
    shell:
        infusion_shell(
            "convergence --model {input.model:q} --data {input.data:q} --out {output:q}"
            " {params.settings}",
            gpu=True,
        )


rule convergence:
    input:
        estimates=convergence_files(),
    output:
        table=report(
            "results/tables/beyond/convergence.csv",
            caption="../report/convergence.rst",
            category="5. Beyond the paper",
            labels={"table": "convergence"},
        ),
        figure=report(
            "results/figures/beyond/convergence.png",
            caption="../report/convergence.rst",
            category="5. Beyond the paper",
            labels={"figure": "convergence"},
        ),
    log:
        "results/logs/convergence/convergence.log",
    conda:
        "../envs/infusion.yaml"
    params:
        study_chains=config["evaluation"]["chains"],
    shell:
        infusion_shell(
            "artifact convergence --estimates {input.estimates:q}"
            " --study-chains {params.study_chains} --out {output.table:q}"
            " --figure-out {output.figure:q}"
        )
