# Beyond the paper, how much Parzen can be trusted (config parzen_trust;
# infusion/beyond/parzen_trust.py): the final model's samples of every training seed scored
# with sigma chosen on validation data (beside Fig 3.4's parzen.json, the fixed sigma), and
# real images: the first sampling.samples training images as kernel centres, under both.


localrules:
    parzen_trust,


rule parzen_validation_sigma:
    input:
        samples="results/final/{dataset}{tag}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}{tag}/parzen_validation_sigma.json",
    log:
        "results/logs/parzen_validation_sigma/{dataset}{tag}.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    params:
        settings=flags("parzen", sigma=0),
    shell:
        infusion_shell(
            "parzen --samples {input.samples:q} --data {input.data:q} --out {output:q} --split test"
            " {params.settings}",
            threads=True,
        )


rule parzen_real_data:
    input:
        data="results/data/{dataset}.npz",
    output:
        "results/final/{dataset}/parzen_real{sigma_choice}.json",
    log:
        "results/logs/parzen_real_data/{dataset}{sigma_choice}.log",
    wildcard_constraints:
        sigma_choice="|_validation_sigma",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    params:
        centres=lambda wildcards: section("sampling", wildcards.dataset)["samples"],
        settings=lambda wildcards: flags(
            "parzen", **({"sigma": 0} if wildcards.sigma_choice else {})
        ),
    shell:
        infusion_shell(
            "parzen --real-centres {params.centres} --data {input.data:q} --out {output:q}"
            " --split test {params.settings}",
            threads=True,
        )


rule parzen_trust:
    input:
        fixed=final_seed_files("parzen.json"),
        chosen=final_seed_files("parzen_validation_sigma.json"),
        real_fixed=f"results/final/{DATASET}/parzen_real.json",
        real_chosen=f"results/final/{DATASET}/parzen_real_validation_sigma.json",
    output:
        table=report(
            "results/tables/beyond/parzen-trust.csv",
            caption="../report/parzen-trust.rst",
            category="5. Beyond the paper",
            labels={"table": "Parzen trust"},
        ),
        figure=report(
            "results/figures/beyond/parzen-trust.png",
            caption="../report/parzen-trust.rst",
            category="5. Beyond the paper",
            labels={"figure": "Parzen trust"},
        ),
    log:
        "results/logs/parzen_trust/parzen-trust.log",
    conda:
        "../envs/infusion.yaml"
    params:
        seed=" ".join(str(seed) for seed in config["training"]["seeds"]),
    shell:
        infusion_shell(
            "artifact parzen-trust --fixed {input.fixed:q} --chosen {input.chosen:q}"
            " --seed {params.seed} --real-fixed {input.real_fixed:q}"
            " --real-chosen {input.real_chosen:q} --out {output.table:q}"
            " --figure-out {output.figure:q}"
        )
