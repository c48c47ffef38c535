# Scoring trained models: the test lower bound of every grid point (Table A.1), samples for
# the figures, and the final model's likelihood estimates (Table 3.1) and Parzen (Fig 3.4);
# inpainting with a natural-image final model (Fig 3.6).


rule evaluate_grid_point:
    input:
        model="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        "results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/test_bound.json",
    log:
        "results/logs/evaluate_grid_point/{dataset}/T{steps}-a{alpha}-w{omega}{tag}.log",
    benchmark:
        "results/benchmarks/evaluate_grid_point/{dataset}-T{steps}-a{alpha}-w{omega}{tag}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        gpu_slots=config["resources"]["jobs_per_gpu"],
        settings=flags("grid_evaluation"),
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " evaluate --model {input.model} --data {input.data}"
        " --out {output} --split test {params.settings} > {log} 2>&1"


rule sample_grid_point:
    input:
        model="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/model.pt",
        data="results/data/{dataset}.npz",
    output:
        "results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/samples.npz",
    log:
        "results/logs/sample_grid_point/{dataset}/T{steps}-a{alpha}-w{omega}{tag}.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        gpu_slots=config["resources"]["jobs_per_gpu"],
        settings=lambda wildcards: flags(
            "grid_sampling", sampling_steps=wildcards.steps
        ),
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " sample --model {input.model} --data {input.data}"
        " --out {output} {params.settings} > {log} 2>&1"


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
        gpu_slots=config["resources"]["jobs_per_gpu"],
        settings=lambda wildcards: flags(
            "evaluation",
            omit=("test_examples", "train_examples"),
            examples=config["evaluation"][f"{wildcards.split}_examples"],
        ),
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " evaluate --model {input.model} --data {input.data}"
        " --out {output} --split {wildcards.split} {params.settings} > {log} 2>&1"


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
        gpu_slots=config["resources"]["jobs_per_gpu"],
        settings=lambda wildcards: flags("sampling", dataset=wildcards.dataset),
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " sample --model {input.model} --data {input.data}"
        " --out {output} {params.settings} > {log} 2>&1"


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
        "infusion --threads {threads} parzen --samples {input.samples} --data {input.data}"
        " --out {output} --split test {params.settings} > {log} 2>&1"


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
        gpu_slots=config["resources"]["jobs_per_gpu"],
        settings=flags("inpainting"),
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " inpaint --model {input.model} --data {input.data}"
        " --out {output} {params.settings} > {log} 2>&1"
