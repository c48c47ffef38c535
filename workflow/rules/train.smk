# One training run per grid point (dataset, steps, alpha0, omega) and run tag (training seed,
# fidelity variant: infusion/switches.py), and per natural-image dataset's final model
# (config natural_images, whose model and training keys it takes). The checkpoint lives
# outside the declared outputs, so a killed job that runs again resumes where it stopped.


rule train:
    input:
        data="results/data/{dataset}.npz",
    output:
        model=f"{RUN}/model.pt",
        metrics=f"{RUN}/metrics.csv",
        chains=f"{RUN}/chains.npz",
        summary=f"{RUN}/summary.json",
    log:
        run_file("results/logs/train", ".log"),
    benchmark:
        run_benchmark("train")
    conda:
        "../envs/infusion.yaml"
    threads: resource("train", "threads")
    resources:
        gpu=1,
    params:
        run=lambda wildcards, output: os.path.dirname(output.model),
        checkpoint=run_file("results/checkpoints", ".pt"),
        settings=train_flags,
    shell:
        infusion_shell(
            "train --data {input.data:q} --out {params.run:q} --checkpoint {params.checkpoint:q}"
            " --steps {wildcards.steps} --alpha0 {wildcards.alpha} --omega {wildcards.omega}"
            " {params.settings}",
            gpu=True,
        )
