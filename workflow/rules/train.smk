# One training run per grid point (dataset, steps, alpha0, omega) and run tag (training seed,
# fidelity variant: infusion/beyond/switches.py), and per natural-image dataset's final model (config natural_images, whose model and training keys it takes). The checkpoint lives
# outside the declared outputs, so a killed job that runs again resumes where it stopped.


rule train:
    input:
        data="results/data/{dataset}.npz",
    output:
        model="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/model.pt",
        metrics="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/metrics.csv",
        chains="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/chains.npz",
        summary="results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}/summary.json",
    log:
        "results/logs/train/{dataset}/T{steps}-a{alpha}-w{omega}{tag}.log",
    benchmark:
        "results/benchmarks/train/{dataset}-T{steps}-a{alpha}-w{omega}{tag}.tsv"
    conda:
        "../envs/infusion.yaml"
    threads: resource("train", "threads")
    resources:
        gpu=1,
    params:
        gpu_slots=config["resources"]["jobs_per_gpu"],
        run=lambda wildcards, output: os.path.dirname(output.model),
        checkpoint="results/checkpoints/{dataset}/T{steps}-a{alpha}-w{omega}{tag}.pt",
        settings=train_flags,
    shell:
        "infusion --threads {threads} --gpu-slots {params.gpu_slots}"
        " train --data {input.data} --out {params.run}"
        " --checkpoint {params.checkpoint} --steps {wildcards.steps}"
        " --alpha0 {wildcards.alpha} --omega {wildcards.omega} {params.settings} > {log} 2>&1"
