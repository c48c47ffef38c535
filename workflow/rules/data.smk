# Datasets are prepared once into results/data/{dataset}.npz. A localrule: cluster compute
# nodes often have no internet, so downloads run where snakemake itself runs. Where the raw
# files come from is the config section `data` (base URLs, a local path). A local file
# that is missing (TFD, CelebA) does not stop the planning: the job, scheduled first, stops
# before any work with a message saying which file to place where (and which config key).


localrules:
    prepare_data,


rule prepare_data:
    input:
        local_source,
    output:
        "results/data/{dataset}.npz",
    log:
        "results/logs/prepare_data/{dataset}.log",
    priority: 100
    conda:
        "../envs/infusion.yaml"
    params:
        cache=DOWNLOADS,
        source=source_flags,
    shell:
        infusion_shell(
            "prepare {wildcards.dataset} --out {output:q} --cache {params.cache:q} {params.source}"
        )
