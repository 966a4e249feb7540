#!/usr/bin/env bash
# Re-runs the bitline figures of docs/cost_validation.md: both hardware presets at W8A8 and W4A4
# (the analog one with a 4-bit ADC), printed as the doc's table rows. Usage: bash scripts/cost_validation.sh [path to bitline]   (from the repository root)
set -euo pipefail
BITLINE=${1:-build/bin/bitline}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitline-cost-validation.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
presets=configs/hardware
sed -e 's|adc: {bits: 8}|adc: {bits: 4}|' $presets/analog_sram_cim.yaml > "$WORK/analog4.yaml"
four_bits=(--set quantization.weight_bits=4 --set quantization.activation_bits=4)
run() {  # run NAME CONFIG [ARGS...]: the cost report into $WORK/NAME
  local name=$1 config=$2; shift 2
  "$BITLINE" cost --config "$config" --run-dir "$WORK/$name" "$@" > /dev/null
}
run analog8 $presets/analog_sram_cim.yaml
run analog4 "$WORK/analog4.yaml" "${four_bits[@]}"
run digital8 $presets/digital_sram_cim.yaml
run digital4 $presets/digital_sram_cim.yaml "${four_bits[@]}"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
rows = [("analog8", "analog_sram_cim", "W8A8, 8-bit ADC", "65 nm"), ("analog4", "analog_sram_cim", "W4A4, 4-bit ADC", "65 nm"),
        ("digital8", "digital_sram_cim", "W8A8", "22 nm"), ("digital4", "digital_sram_cim", "W4A4", "22 nm")]
macro_parts = ["adc", "dac", "cells", "adder_tree", "shift_add", "accumulator"]
for run, preset, precision, node in rows:
    cost = json.load(open(f"{work}/{run}/cost_{preset}.json"))
    parts, total = cost["energy_pj_by_part"], cost["energy_per_inference_pj"]
    macro_tops_per_w = 2 * cost["macs_per_inference"] / sum(parts[p] for p in macro_parts)
    print(f"| {preset} | {precision} | {node} | {macro_tops_per_w:.3g} | {cost['tops_per_w']:.3g} | "
          f"{cost['tops_per_mm2']:.3g} | {100 * parts['adc'] / total:.0f} % / {100 * parts['dac'] / total:.0f} % |")
PY
