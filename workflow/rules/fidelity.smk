# Beyond the paper: the fidelity ablation (config section fidelity, infusion/beyond/switches.py).
# Its runs are the final model's under run tags, trained, scored and sampled by the same
# rules as the study's (train, evaluate_likelihood, sample_final, parzen).


localrules:
    fidelity_table,
    fidelity_figure,


rule fidelity_table:
    input:
        fidelity_inputs(),
    output:
        report(
            "results/tables/fidelity.csv",
            caption="../report/fidelity.rst",
            category="5. Beyond the paper",
            labels={"table": "fidelity"},
        ),
    log:
        "results/logs/fidelity_table.log",
    conda:
        "../envs/infusion.yaml"
    params:
        rows=fidelity_rows(),
    shell:
        "infusion fidelity-table {params.rows} --out {output} > {log} 2>&1"


rule fidelity_figure:
    input:
        "results/tables/fidelity.csv",
    output:
        report(
            "results/figures/fidelity.png",
            caption="../report/fidelity.rst",
            category="5. Beyond the paper",
            labels={"figure": "fidelity"},
        ),
    log:
        "results/logs/fidelity_figure.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        "infusion fidelity-figure --table {input} --out {output} > {log} 2>&1"
