# Beyond the paper: the tightest proposal (config section proposal_search, issue 21). Each
# final model scores candidate proposals q on validation images (infusion search-proposal,
# infusion/estimation/proposal_search.py), and Table 3.1's estimates are made again under the
# best of them (infusion evaluate --proposal-from): the row "IS, tightest proposal on
# validation" of Table 3.1 and the scorecard's tightest column.


rule search_proposal:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}{tag}/proposal_search.json",
    log:
        "results/logs/search_proposal/{dataset}{tag}.log",
    benchmark:
        "results/benchmarks/search_proposal/{dataset}{tag}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=flags("proposal_search", omit=("enabled",)),
    shell:
        infusion_shell(
            "search-proposal --model {input.model:q} --data {input.data:q} --out {output:q}"
            " {params.settings}",
            gpu=True,
        )


rule evaluate_tightest:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
        data="results/data/{dataset}.npz",
        search="results/final/{dataset}{tag}/proposal_search.json",
    output:
        "results/final/{dataset}{tag}/likelihood_{split}_tightest.json",
    log:
        "results/logs/evaluate_tightest/{dataset}{tag}-{split}.log",
    benchmark:
        "results/benchmarks/evaluate_tightest/{dataset}{tag}-{split}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        # evaluation.proposal is the paper procedure's: the search file names this one
        settings=lambda wildcards: evaluation_flags(wildcards.split, omit=("proposal",)),
    shell:
        infusion_shell(
            "evaluate --model {input.model:q} --data {input.data:q} --out {output:q}"
            " --split {wildcards.split} --proposal-from {input.search:q} {params.settings}",
            gpu=True,
        )
