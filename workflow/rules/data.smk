# Datasets are prepared once into results/data/{dataset}.npz. A localrule: cluster compute
# nodes often have no internet, so downloads run where snakemake itself runs.


localrules:
    prepare_data,


rule prepare_data:
    output:
        "results/data/{dataset}.npz",
    log:
        "results/logs/prepare_data/{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    params:
        cache="results/downloads",
    shell:
        "infusion prepare {wildcards.dataset} --out {output} --cache {params.cache} > {log} 2>&1"
