# Beyond the paper, how many sampling steps (config sampling_steps;
# infusion/beyond/sampling_steps.py): the final model of every training seed sampled for
# each step count of study.sampling_step_counts, with the sampling section's settings, and
# each sample file scored by Parzen as Fig 3.4 is; the artifact sampling-steps adds the
# samples' distance to their nearest training image.

SAMPLING_STEPS_RUN = "results/final/{dataset}{tag}/sampling_steps/{sampling_steps}"


rule sample_steps:
    input:
        model=lambda wildcards: final_file("model.pt", wildcards.dataset, wildcards.tag),
    output:
        f"{SAMPLING_STEPS_RUN}/samples.npz",
    log:
        "results/logs/sample_steps/{dataset}{tag}-{sampling_steps}.log",
    wildcard_constraints:
        sampling_steps=r"\d+",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    resources:
        gpu=1,
    params:
        settings=lambda wildcards: flags(
            "sampling",
            dataset=wildcards.dataset,
            sampling_steps=wildcards.sampling_steps,
        ),
    shell:
        infusion_shell(
            "sample --model {input.model:q} --out {output:q} {params.settings}",
            gpu=True,
        )


rule parzen_steps:
    input:
        samples=f"{SAMPLING_STEPS_RUN}/samples.npz",
        data="results/data/{dataset}.npz",
    output:
        f"{SAMPLING_STEPS_RUN}/parzen.json",
    log:
        "results/logs/parzen_steps/{dataset}{tag}-{sampling_steps}.log",
    wildcard_constraints:
        sampling_steps=r"\d+",
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


rule sampling_steps:
    input:
        samples=sampling_steps_files("samples.npz"),
        parzen=sampling_steps_files("parzen.json"),
        data=f"results/data/{DATASET}.npz",
    output:
        table=report(
            "results/tables/beyond/sampling-steps.csv",
            caption="../report/sampling-steps.rst",
            category="5. Beyond the paper",
            labels={"table": "sampling steps"},
        ),
        figure=report(
            "results/figures/beyond/sampling-steps.png",
            caption="../report/sampling-steps.rst",
            category="5. Beyond the paper",
            labels={"figure": "sampling steps"},
        ),
    log:
        "results/logs/sampling_steps/sampling-steps.log",
    conda:
        "../envs/infusion.yaml"
    threads: resource("evaluate", "threads")
    params:
        steps=" ".join(str(steps) for _ in SEED_TAGS for steps in SAMPLING_STEPS),
        seed=" ".join(
            str(seed) for seed in config["training"]["seeds"] for _ in SAMPLING_STEPS
        ),
        training_steps=config["final"]["steps"],
    shell:
        infusion_shell(
            "artifact sampling-steps --samples {input.samples:q} --parzen {input.parzen:q}"
            " --data {input.data:q} --steps {params.steps} --seed {params.seed}"
            " --training-steps {params.training_steps} --out {output.table:q}"
            " --figure-out {output.figure:q}"
        )
