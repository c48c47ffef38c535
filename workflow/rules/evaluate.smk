# Scoring trained models: the test lower bound of every grid point (Table A.1), samples for
# the figures, and the final model's likelihood estimates (Table 3.1) and Parzen (Fig 3.4);
# inpainting with a natural-image final model (Fig 3.6).


rule evaluate_grid_point:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{RUN}/test_bound.json",
    log:
        run_file("results/logs/evaluate_grid_point", ".log"),
    benchmark:
        run_benchmark("evaluate_grid_point")
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=flags("grid_evaluation"),
    shell:
        infusion_shell(
            "evaluate --model {input.model:q} --data {input.data:q} --out {output:q} --split test"
            " {params.settings}",
            gpu=True,
        )


rule sample_grid_point:
    input:
        model=f"{RUN}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        f"{RUN}/samples.npz",
    log:
        run_file("results/logs/sample_grid_point", ".log"),
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=lambda wildcards: flags(
            "grid_sampling", sampling_steps=wildcards.steps
        ),
    shell:
        infusion_shell(
            "sample --model {input.model:q} --data {input.data:q} --out {output:q} {params.settings}",
            gpu=True,
        )


rule evaluate_likelihood:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}{tag}/likelihood_{split}.json",
    log:
        "results/logs/evaluate_likelihood/{dataset}{tag}-{split}.log",
    benchmark:
        "results/benchmarks/evaluate_likelihood/{dataset}{tag}-{split}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=lambda wildcards: evaluation_flags(wildcards.split),
    shell:
        infusion_shell(
            "evaluate --model {input.model:q} --data {input.data:q} --out {output:q}"
            " --split {wildcards.split} {params.settings}",
            gpu=True,
        )


rule sample_final:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}{tag}/samples.npz",
    log:
        "results/logs/sample_final/{dataset}{tag}.log",
    benchmark:
        "results/benchmarks/sample_final/{dataset}{tag}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=lambda wildcards: flags("sampling", dataset=wildcards.dataset),
    shell:
        infusion_shell(
            "sample --model {input.model:q} --data {input.data:q} --out {output:q} {params.settings}",
            gpu=True,
        )


rule parzen:
    input:
        samples="results/final/{dataset}{tag}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}{tag}/parzen.json",
    log:
        "results/logs/parzen/{dataset}{tag}.log",
    benchmark:
        "results/benchmarks/parzen/{dataset}{tag}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    params:
        settings=flags("parzen"),
    shell:
        infusion_shell(
            "parzen --samples {input.samples:q} --data {input.data:q} --out {output:q} --split test"
            " {params.settings}",
            threads=True,
        )


rule inpaint:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset),
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}/inpainting.npz",
    log:
        "results/logs/inpaint/{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=flags("inpainting"),
    shell:
        infusion_shell(
            "inpaint --model {input.model:q} --data {input.data:q} --out {output:q} {params.settings}",
            gpu=True,
        )
