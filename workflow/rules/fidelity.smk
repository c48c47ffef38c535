# Beyond the paper: the fidelity ablation (config section fidelity, infusion/beyond/switches.py).
# Its runs are the final model's under run tags, trained, scored and sampled by the same
# rules as the study's (train, evaluate_likelihood, sample_final, parzen); its table and
# figure are the artifacts fidelity-table and fidelity-figure (infusion/beyond/fidelity.py).


localrules:
    fidelity_table,
    fidelity_figure,


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
        variant=" ".join(variant for variant, _, _ in ablation_runs(config)),
        seed=" ".join(str(seed) for _, seed, _ in ablation_runs(config)),
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
