# Table 3.2: the Inception score of the table3.2 dataset's final-model samples (config
# natural_outputs; CIFAR-10) with their FID against the real images, and of the real images
# themselves (the anchor row), through torch-fidelity's Inception (infusion/estimation/inception.py).


localrules:
    fetch_inception_weights,
    table_3_2,


# Downloads run where snakemake runs (no local copy in inception.weights); the file's
# SHA-256 must start with inception_sha256(), its MD5 be inception.weights_md5 if set.
rule fetch_inception_weights:
    output:
        INCEPTION_DOWNLOAD,
    log:
        "results/logs/fetch_inception_weights/weights.log",
    priority: 100
    conda:
        "../envs/infusion.yaml"
    params:
        sha256=inception_sha256(),
        md5=inception_md5_flag(),
    shell:
        infusion_shell(
            "fetch-inception-weights --weights-sha256 {params.sha256} {params.md5}"
            " --out {output:q}"
        )


rule inception:
    input:
        samples="results/final/{dataset}/samples.npz",
        data="results/data/{dataset}.npz",
        weights=inception_weights(),
    output:
        "results/final/{dataset}/inception_samples.json",
    log:
        "results/logs/inception/{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        splits=" ".join(config["inception"]["real_splits"]),
        sha256=inception_sha256(),
        settings=flags(
            "inception",
            omit=("weights", "weights_md5", "weights_sha256", "real_splits"),
        ),
    shell:
        infusion_shell(
            "inception --samples {input.samples:q} --reference {input.data:q}"
            " --reference-splits {params.splits} --weights {input.weights:q}"
            " --weights-sha256 {params.sha256} --out {output:q} {params.settings}",
            gpu=True,
        )


rule inception_real:
    input:
        data="results/data/{dataset}.npz",
        weights=inception_weights(),
    output:
        "results/final/{dataset}/inception_real.json",
    log:
        "results/logs/inception_real/{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        splits=" ".join(config["inception"]["real_splits"]),
        sha256=inception_sha256(),
        settings=flags(
            "inception",
            omit=("weights", "weights_md5", "weights_sha256", "real_splits"),
        ),
    shell:
        infusion_shell(
            "inception --data {input.data:q} --data-splits {params.splits}"
            " --weights {input.weights:q} --weights-sha256 {params.sha256}"
            " --out {output:q} {params.settings}",
            gpu=True,
        )


rule table_3_2:
    input:
        samples=lambda wildcards: natural_file("table3.2", "inception_samples.json"),
        real=lambda wildcards: natural_file("table3.2", "inception_real.json"),
    output:
        report(
            "results/tables/table3.2.csv",
            caption="../report/table3.2.rst",
            category="2. Tables",
            labels={"table": "3.2"},
        ),
    log:
        "results/logs/table_3_2/table3.2.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact table3.2 --samples {input.samples:q} --real {input.real:q} --out {output:q}"
        )
