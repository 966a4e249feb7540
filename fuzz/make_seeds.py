#!/usr/bin/env python3
"""Writes the committed seed inputs of the fuzz harnesses into fuzz/seeds/<harness>/.

Small, valid (or nearly valid) examples of each format, so that the fuzzers start from the
structure of real files; scripts/fuzz.sh adds the repository's configs and CSV tables, and the
checkpoint harness writes its own seeds (BITLINE_FUZZ_WRITE_SEEDS). Run from the repository root:
    python3 fuzz/make_seeds.py
"""
import gzip
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def write(harness, name, data):
    os.makedirs(os.path.join(ROOT, harness), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, harness, name), "wb") as f:
        f.write(data)


def npy(descr, shape, payload, major=1):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    length_bytes = 2 if major == 1 else 4
    header += " " * (63 - (8 + length_bytes + len(header)) % 64) + "\n"
    length = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header.encode() + payload


write("fuzz_npy", "f4_2x3", npy("<f4", (2, 3), struct.pack("<6f", 0.5, -1, 2, 3.25, 0, 1e-3)))
write("fuzz_npy", "f8_scalar", npy("<f8", (), struct.pack("<d", 2.5)))
write("fuzz_npy", "i1_4", npy("|i1", (4,), bytes([0, 1, 0x80, 0xFF])))
write("fuzz_npy", "u1_2x2", npy("|u1", (2, 2), bytes([1, 2, 3, 4])))
write("fuzz_npy", "i2_3", npy("<i2", (3,), struct.pack("<3h", -7, 0, 7)))
write("fuzz_npy", "i4_1x2", npy("<i4", (1, 2), struct.pack("<2i", -1, 1 << 30)))
write("fuzz_npy", "i8_2", npy("<i8", (2,), struct.pack("<2q", -(1 << 62), 5)))
write("fuzz_npy", "f4_nan", npy("<f4", (3,), struct.pack("<3f", 1, float("nan"), float("inf"))))
write("fuzz_npy", "f4_empty", npy("<f4", (0, 255), b""))
write("fuzz_npy", "f4_v2", npy("<f4", (1,), struct.pack("<f", 1), major=2))
write("fuzz_npy", "f8_v3", npy("<f8", (1, 1), struct.pack("<d", -3), major=3))


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_pair(images, labels):
    # The harness reads a little-endian u32 first: where the image file ends.
    return struct.pack("<I", len(images)) + images + labels


images = idx(0x803, (3, 2, 2), bytes(range(12)))
labels = idx(0x801, (3,), bytes([0, 9, 4]))
write("fuzz_idx", "gzip", idx_pair(gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)))
write("fuzz_idx", "plain", idx_pair(images, labels))
write("fuzz_idx", "gzip_images_plain_labels", idx_pair(gzip.compress(images, mtime=0), labels))

record = bytes([3]) + bytes((i * 7) % 256 for i in range(3072))
write("fuzz_cifar10", "two_records", record + bytes([9]) + bytes(3072))
write("fuzz_cifar10", "one_record_cut", record[:100])

thresholds = "code,threshold_lsb\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n5,4.5\n6,5.5\n7,6.5\n"
inl = "# INL of a 3-bit converter\ncode,inl_lsb\n1,0.1\n2,-0.2\n3,0.3\n4,0\n5,0.25\n6,-0.1\n7,0.05\n"
dnl = "code,dnl_lsb\n1,0.1\n2,-0.2\n3,0.3\n4,0\n5,0.25\n6,-0.1\n"
per_column = "column,code,inl_lsb\n0,1,0.1\n0,2,0\n0,3,-0.1\n1,1,0.2\n1,2,0.1\n1,3,0\n"
operating_points = ("corner,vdd_v,f0_mhz,gain_mhz_per_ua,isat_ua\n"
                    "TT,0.6,20,10,40\nTT,0.9,100,20,80\nTT,1.0,130,22,90\nFF,0.9,140,25,100\nSS,0.9,60,15,60\n")
for name, text in (("thresholds", thresholds), ("inl", inl), ("dnl", dnl), ("per_column", per_column),
                   ("operating_points", operating_points)):
    write("fuzz_csv_table", name, text)
# fuzz_adc_table: byte 0 = file kind (0 thresholds, 1 INL, 2 DNL), byte 1 = ADC bits - 1.
write("fuzz_adc_table", "thresholds_3bit", bytes([0, 2]) + thresholds.encode())
write("fuzz_adc_table", "inl_3bit", bytes([1, 2]) + inl.encode())
write("fuzz_adc_table", "dnl_3bit", bytes([2, 2]) + dnl.encode())
write("fuzz_adc_table", "per_column_2bit", bytes([1, 1]) + per_column.encode())
# fuzz_cco_table: byte 0 = ADC bits - 1.
write("fuzz_cco_table", "five_points_6bit", bytes([5]) + operating_points.encode())
write("fuzz_cco_table", "two_points_4bit", bytes([3]) + b"corner,vdd_v,f0_mhz,gain_mhz_per_ua,isat_ua\nTT,0.8,50,15,60\nTT,0.9,100,20,80\n")

payload = b"PK\x03\x04 an archive"
header = "bitline checkpoint 2 %d %08x\n" % (len(payload), zlib.crc32(payload))
write("fuzz_checked_file", "small", header.encode() + payload)
write("fuzz_checked_file", "empty_payload", "bitline checkpoint 2 0 00000000\n")

write("fuzz_layer_config", "golden", """layer: {type: linear, mode: simulate}
quantization: {weight_bits: 2, activation_bits: 2, activation_sign: unsigned,
               weight_granularity: per_tensor, activation_scaling: asim_dynamic}
macro: {type: analog_sram, analog_sram: {rows_per_conversion: 255, adc: {bits: 4}, asim_compatible: true}}
""")
write("fuzz_layer_config", "conv", """layer: {type: conv2d, padding: 1, stride: 2, groups: 1, mode: simulate}
quantization: {weight_bits: 8, activation_bits: 8}
macro:
  type: analog_sram
  analog_sram:
    rows_per_conversion: 64
    input_bits_per_cycle: 2
    adc: {bits: 6, model: cco, cco: {vdd_v: 0.8}, variation: {gain_sigma_percent: 2}}
    noise: {additive_sigma_lsb: 0.5}
    hybrid: {levels: 2, top_levels: majority_vote, vote_samples: 3}
""")
write("fuzz_layer_config", "digital", """layer: {type: linear, mode: simulate}
quantization: {weight_bits: 4, activation_bits: 6, activation_sign: signed}
macro: {type: digital_sram, digital_sram: {rows_per_activation: 64, input_bits_per_cycle: 2, row_mapping: channel_aligned}}
""")
write("fuzz_layer_config", "daism", """layer: {type: conv2d, padding: 1, mode: simulate}
macro: {type: daism, daism: {format: fp16, variant: precomputed_top, k: 3, kept_columns: 12, rounding: nearest_even,
                             accumulation: fp16, stored_operand: inputs}}
""")
write("fuzz_experiment_config", "daism", """experiment: {name: seed, seed: 2, threads: 1}
data: {train_samples: 100, test_samples: 50}
model: {name: cnn, width_multiplier: 0.5}
quantization: {weight_bits: 4, activation_bits: 4}
macros:
  - name: pc2
    type: daism
    daism: {variant: precomputed_digits, k: 2, kept_columns: 9, train_products: [forward, weight_gradient]}
    layer_overrides:
      - {layers: [fc2], daism: {variant: exact}}
  - name: int8
    type: daism
    daism: {format: int8, variant: or}
train:
  float: {epochs: 1}
  qat: {epochs: 1, mode: simulate, macro: pc2}
evaluation:
  runs:
    - {name: fp32, mode: float}
    - {name: fp32_on_pc2, mode: simulate, macro: pc2, weights: float}
    - {name: int8, mode: simulate, macro: int8}
""")
write("fuzz_layer_config", "ddc_pim", """layer: {type: conv2d, groups: 3, padding: 1, mode: simulate}
macro: {type: ddc_pim, ddc_pim: {rows_per_activation: 64, input_bits_per_cycle: 2, depthwise_blocks_per_column_group: 4}}
""")
write("fuzz_experiment_config", "ddc_pim", """experiment: {name: seed, seed: 2, threads: 1}
data: {train_samples: 100, test_samples: 50}
model: {name: mobilenetv2, width_multiplier: 0.25}
macros:
  - {name: ddc, type: ddc_pim, ddc_pim: {depthwise_blocks_per_column_group: 2}}
  - {name: digital, type: digital_sram}
train:
  float: {epochs: 1}
  qat: {epochs: 0}
  fcc: {epochs: 1, layers: [pointwise, depthwise, linear], keep_unpaired: [last_conv], encoding: offset_binary,
        matching: greedy, cost: cosine}
evaluation:
  runs:
    - {name: paired, mode: simulate, macro: ddc, weights: paired}
    - {name: fcc, mode: simulate, macro: digital, weights: fcc}
""")
write("fuzz_layer_config", "sot_mram_fp", """layer: {type: conv2d, padding: 1, mode: simulate}
macro: {type: sot_mram_fp, sot_mram_fp: {format: custom, exponent_bits: 5, mantissa_bits: 2, rounding: nearest_even,
                                         logic: magic_nor, exponent_difference: subtract,
                                         device: {nor_energy_fj: 10, nor_cycle_ns: 3}}}
""")
write("fuzz_experiment_config", "sot_mram_fp", """experiment: {name: seed, seed: 2, threads: 1}
data: {train_samples: 100, test_samples: 50}
model: {name: cnn, width_multiplier: 0.5}
macros:
  - name: mram
    type: sot_mram_fp
    sot_mram_fp: {format: fp16, rounding: toward_zero, train_products: [forward, weight_gradient, weight_update],
                  device: {read_energy_fj: 5, write_energy_fj: 40, cell_area_f2: 30}}
    hardware: {technology_node_nm: 28, array_rows: 1024, array_columns: 1024, tiles: 32, macros_per_tile: 256}
train:
  optimizer: sgd
  float: {epochs: 0}
  qat: {epochs: 1, mode: simulate, macro: mram}
evaluation:
  runs:
    - {name: mram, mode: simulate, macro: mram}
""")
write("fuzz_pairing_file", "two_layers", """{"pairing_hash": "0123456789abcdef", "encoding": "twos_complement", "layers": [
 {"layer": "features.1.expand", "kind": "pointwise", "filters": 5, "depth": 16, "pairs": [[0, 3], [1, 4]],
  "unpaired": 2, "cost": 1234, "seconds": 0.001},
 {"layer": "features.1.depthwise", "kind": "depthwise", "filters": 4, "depth": 9, "pairs": [[0, 1], [2, 3]],
  "unpaired": -1, "cost": 56, "seconds": 0.0}]}
""")
write("fuzz_pairing_file", "offset_binary", """{"pairing_hash": "fedcba9876543210", "encoding": "offset_binary", "layers": []}
""")
write("fuzz_adc_config", "ideal", "adc: {bits: 5}\nnoise_sigma_lsb: 0.3\noutput_dir: out/ideal\n")
write("fuzz_adc_config", "cco", "adc: {bits: 6, model: cco, cco: {vdd_v: 0.6, corner: SS}}\n"
                                "characterize: {sine_samples: 64, sine_cycles: 7}\n")
write("fuzz_adc_config", "table", "adc: {bits: 6, model: table, table: {inl_csv: configs/adc/example_inl_6bit.csv},\n"
                                  "      variation: {offset_sigma_lsb: 0.2, chip_seed: 3}}\n")
write("fuzz_experiment_config", "two_macros", """experiment: {name: seed, seed: 2, threads: 1}
data: {train_samples: 100, test_samples: 50, mean: [0.5], std: [0.25], augment: {random_crop_padding_px: 2}}
model: {name: resnet20, width_multiplier: 0.5, resnet: {depth: 14}}
quantization:
  weight_bits: 4
  activation_bits: 6
  layer_overrides:
    - {layers: [conv1, 'layer3.*'], weight_bits: 8, on_macro: false}
macros:
  - name: analog
    analog_sram: {rows_per_conversion: 128, adc: {bits: 6, full_scale: calibrated}, noise: {additive_sigma_lsb: 0.5}}
    layer_overrides:
      - {layers: [fc], analog_sram: {adc: {bits: 8}}}
    hardware: {technology_node_nm: 22, array_rows: 256}
  - name: voting
    analog_sram: {hybrid: {levels: 3, top_levels: majority_vote}}
  - name: digital
    type: digital_sram
    digital_sram: {rows_per_activation: 128, input_bits_per_cycle: 2}
    layer_overrides:
      - {layers: ['layer1.*'], digital_sram: {rows_per_activation: 32}}
train:
  batch_size: 32
  float: {epochs: 1}
  qat: {epochs: 1, mode: simulate, macro: analog, adc_aware: {variation_sampling: per_batch}}
evaluation:
  runs:
    - {name: fp32, mode: float}
    - {name: sim, mode: simulate, macro: voting}
""")

# The sweep section (fuzz_sweep_config): grid and zip, values and ranges, list entries by name and index.
write("fuzz_sweep_config", "grid", """experiment: {name: seed, threads: 1, run_dir: sweeps/seed}
macros:
  - {name: asim, type: analog_sram, analog_sram: {adc: {bits: 8}}}
evaluation: {runs: [{name: analog, mode: simulate, macro: asim}]}
sweep:
  combine: grid
  axes:
    - {key: 'macros[asim].analog_sram.adc.bits', name: adc_bits, values: [4, 6, 8]}
    - {key: 'macros[0].analog_sram.rows_per_conversion', range: {start: 32, stop: 128, step: 32}}
  slurm: {partition: debug, time: '00:10:00', cpus_per_task: 1, memory: 4G, max_parallel: 2, sbatch_args: [--qos=short]}
""")
write("fuzz_sweep_config", "zip", """model: {name: mlp}
sweep:
  combine: zip
  axes:
    - {key: quantization.weight_bits, values: [8, 6, 4]}
    - {key: 'quantization.layer_overrides', name: overrides, values: [[], [{layers: [fc1], weight_bits: 8}], []]}
    - {key: train.float.learning_rate, range: {start: 0.1, stop: 0.05, step: -0.025}}
""")

# The files of a run or sweep directory (fuzz_run_results, fuzz_sweep_state, fuzz_slurm_jobs): as bitline
# writes them, cut down to a few entries.
cost = """{"energy_per_inference_pj": 6476000.5, "latency_layer_by_layer_ns": 5576.2, "tops_per_w": 0.581, "area_mm2": 22.53,
 "energy_pj_by_part": {"adc": 1200.5, "cells": 80.25}, "area_um2_by_part": {"adc": 1500, "cells": 900},
 "layers": [{"layer": "features.0", "energy_pj": 3000.5, "latency_ns": 2000.25, "events": {"macs": 1024}},
            {"layer": "classifier", "energy_pj": 3476000, "latency_ns": 3576, "events": {}}]}"""
write("fuzz_run_results", "run", """{"experiment": "default", "model": "cnn",
 "training": [{"stage": "float", "checkpoint": "runs/x/checkpoints/float-1.ckpt",
               "history": [{"epoch": 1, "train_loss": 0.51, "train_accuracy": 0.82}, {"epoch": 2, "train_loss": null, "train_accuracy": 0.1}]}],
 "evaluations": [
  {"name": "fp32", "mode": "float", "precision": "fp32", "accuracy": 0.9134, "loss": 0.2362},
  {"name": "analog", "mode": "simulate", "macro": "asim", "precision": "W8A8", "accuracy": 0.8293, "loss": null,
   "layers": [{"layer": "features.0", "csnr_db": 7.99}, {"layer": "classifier", "csnr_db": null}], "cost": %s}]}
""" % cost)
write("fuzz_run_results", "cost_only", '{"evaluations": [{"name": "asim", "mode": "cost", "macro": "asim", "cost": %s}]}\n' % cost)
write("fuzz_sweep_state", "sweep", """{"name": "adc_sweep", "source": "sweep.yaml", "combine": "grid",
 "axes": [{"name": "adc_bits", "key": "macros[asim].analog_sram.adc.bits", "numeric": true, "values": [4, 8]}],
 "points": [
  {"point": 0, "id": "p000", "label": "adc_bits=4", "values": {"adc_bits": 4}, "config": "configs/p000.yaml", "dir": "points/p000", "state": "done"},
  {"point": 1, "id": "p001", "label": "adc_bits=8", "values": {"adc_bits": 8}, "state": "failed", "detail": "exit 2"}],
 "rows": [{"point": 0, "label": "adc_bits=4", "adc_bits": 4, "evaluation": "analog", "mode": "simulate", "macro": "asim",
           "precision": "W8A8", "accuracy_percent": 82.93, "loss": 0.49, "min_csnr_db": 7.99, "energy_nj_per_image": 6476,
           "latency_us_per_image": 5.576, "tops_per_w": 0.581, "area_mm2": 22.53}],
 "cost_only": false}
""")
write("fuzz_sweep_state", "status_running", "running 2026-12-01T07:05:00Z slurm 123_4 node01\n")
write("fuzz_sweep_state", "status_finished", "finished 2 2026-12-01T07:06:00Z\n")
write("fuzz_slurm_jobs", "jobs", """[{"job_id": "123", "submitted_utc": "2026-12-01T07:05:00Z", "array": "0-1%2",
  "points": [{"point": 0, "id": "p000"}, {"point": 1, "id": "p001"}]},
 {"job_id": "130", "submitted_utc": "2026-12-01T08:00:00Z", "array": "1", "points": [{"point": 1, "id": "p001"}]}]
""")
write("fuzz_slurm_jobs", "hostile", '[{"job_id": "1; touch X #", "points": []}]\n')
