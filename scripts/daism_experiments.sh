#!/usr/bin/env bash
# Runs the DAISM experiments of docs/experiments/daism.md (configs/experiments/daism_*.yaml) and
# prints their tables. About two hours on 2 cores. Usage: bash scripts/daism_experiments.sh [BITLINE]
set -euo pipefail
cd "$(dirname "$0")/.."
bitline=${1:-build/bin/bitline}
"$bitline" multiplier --format bf16 --variants exact,or,pc2,pc3,pc4,top2,top3,top4 --no-csv --output-dir runs/daism_multiplier
"$bitline" multiplier --format bf16 --variants pc2 --kept-columns 9 --no-csv --output-dir runs/daism_multiplier_kept9
"$bitline" multiplier --format bf16 --variants pc2 --kept-columns 8 --no-csv --output-dir runs/daism_multiplier_kept8
"$bitline" multiplier --format bf16 --variants pc2 --kept-columns 7 --no-csv --output-dir runs/daism_multiplier_kept7
configs=(daism_cnn_base)
for variant in exact_bf16 or pc2 pc3 top3 pc2_kept9 pc2_kept8 pc2_kept7; do configs+=("daism_cnn_finetuned_$variant"); done
configs+=(daism_cnn_scratch_exact_bf16 daism_cnn_scratch_pc2 daism_resnet20)
for variant in exact_bf16 or pc2 pc3 top3 pc2_kept9 pc2_kept8 pc2_kept7; do configs+=("daism_resnet20_finetuned_$variant"); done
configs+=(daism_resnet20_scratch_fp32 daism_resnet20_scratch_pc2)
for config in "${configs[@]}"; do
  "$bitline" run --config "configs/experiments/$config.yaml" --no-progress
done
results=()
for config in "${configs[@]}"; do
  name=$(sed -n 's/^experiment: {name: \([a-z0-9_]*\),.*/\1/p; s/^  name: \([a-z0-9_]*\)$/\1/p' "configs/experiments/$config.yaml" | head -1)
  results+=("runs/$name/results.json")
done
python3 scripts/results_table.py --cost "${results[@]}"
