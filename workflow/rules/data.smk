# Datasets are prepared once into results/data/{dataset}.npz. A localrule: cluster compute
# nodes often have no internet, so downloads run where snakemake itself runs. Where the raw
# files come from is the config section `data` (base URLs, a local path); a local path
# that is missing stops the planning with a message saying what to place where.


localrules:
    prepare_data,


rule prepare_data:
    input:
        local_source,
    output:
        "results/data/{dataset}.npz",
    log:
        "results/logs/prepare_data/{dataset}.log",
    conda:
        "../envs/infusion.yaml"
    params:
        cache=DOWNLOADS,
        source=source_flags,
    shell:
        "infusion prepare {wildcards.dataset} --out {output} --cache {params.cache}"
        " {params.source} > {log} 2>&1"
