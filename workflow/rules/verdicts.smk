# Beyond the paper: the verdicts on every paper number (config section verdicts,
# infusion/paper/verdicts.py). The scorecard rule (report.smk) judges each row; this rule
# counts the verdicts per table and draws paper against ours (artifact verdicts).


localrules:
    verdicts,


rule verdicts:
    input:
        scorecard="results/tables/scorecard.csv",
    output:
        table=report(
            "results/tables/beyond/verdicts.csv",
            caption="../report/verdicts.rst",
            category="5. Beyond the paper",
            labels={"table": "verdicts"},
        ),
        figure=report(
            "results/figures/beyond/verdicts.png",
            caption="../report/verdicts.rst",
            category="5. Beyond the paper",
            labels={"figure": "verdicts"},
        ),
    log:
        "results/logs/verdicts/verdicts.log",
    conda:
        "../envs/infusion.yaml"
    shell:
        infusion_shell(
            "artifact verdicts --scorecard {input.scorecard:q} --out {output.table:q}"
            " --figure-out {output.figure:q}"
        )
