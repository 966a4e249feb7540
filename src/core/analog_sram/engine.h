#pragma once
// The analog SRAM macro as a functional model and an event counter: Y ~= X . W^T computed the way
// the array does it, bit plane by bit plane, tile by tile, through the column ADCs.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/analog_sram/readout.h"
#include "core/analog_sram/spec.h"

namespace bitline::core::analog_sram {

using core::Events;
using core::NoiseKey;
using core::ProductShape;

namespace detail {
struct FastPlan;
}

// The events of a product of this shape on a macro of this spec and cycle plan (cycle_plan(spec)),
// without data: what Engine::count returns. Kinds: macs, tile activations, row drives, cell reads
// (every driven row on every physical column), ADC conversions of adc_bits (each vote sample one),
// digital cycles with their adder-tree inputs (priced as one 1-bit addition per row of the tile,
// the model of an HCiM cycle's popcount tree [A]), voted cycles, shift-adds, and accumulations
// across row tiles.
Events count_events(const Spec& spec, const std::vector<Cycle>& cycles, const ProductShape& shape);

// The analog macro for one layer's operands (spec.weight_bits, input_bits, signed_inputs).
class Engine : public core::Macro {
 public:
  explicit Engine(const Spec& spec);
  const Spec& spec() const { return spec_; }
  const std::vector<Cycle>& cycles() const { return cycles_; }
  // True when every cycle's readout returns its MAC exactly: the product is then the exact integer
  // product, and callers may compute it with an integer GEMM (DESIGN.md invariant 3).
  bool lossless() const override { return lossless_; }
  const Readout& readout(const Cycle& cycle) const;

  // x: [rows, K] input codes within the input grid; w: [cols, K] weight codes (signed). out: [rows,
  // cols] reconstructed results in integer units (exact integers when lossless).
  void matmul(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
              Events* events) const;
  // The events of a product of this shape, without data.
  Events count(const ProductShape& shape) const override;

  // core::Macro: forward is matmul.
  void forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
               Events* events) const override {
    matmul(shape, x, w, key, out, events);
  }
  using core::Macro::forward;
  core::ArrayFootprint footprint(const ProductShape& shape) const override;
  // Cycles with a conversion read the columns of an ADC one after another, each conversion whole
  // clock cycles long; all-digital plans take one cycle per activation.
  double cycles_per_activation(const cost::Hardware& hardware, const cost::ComponentLibrary& library) const override;
  // The converter's own mean energy per conversion (a CCO's), when it has an energy model.
  std::optional<double> own_energy_pj(const core::EventType& type) const override;

  // matmul runs a SIMD kernel (bit-serial specs with <= 8 weight bits, N <= 255 and ADC <= 8 bits, on
  // CPUs with AVX-512 VBMI/VNNI and GFNI) and otherwise this scalar reference, which gives the same
  // results bit for bit; tests and benchmarks call it directly.
  void matmul_reference(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key,
                        float* out, Events* events) const;
  // Whether matmul uses the SIMD kernel for this spec on this CPU.
  bool fast_kernel() const { return fast_ != nullptr; }

 private:
  // The analog transfers of every physical column of one product (spec.per_column()).
  struct ColumnTransfers {
    // Index ((tile * cols + o) * weight_bits + i) * readouts_.size() + readout_index; null where unused.
    std::vector<std::unique_ptr<Readout>> readouts;
    // For the SIMD kernel (fast_->per_column): detail::fill_column_tables of output column o of
    // tile t at (t * cols + o) * detail::kColumnTableBytes.
    std::vector<uint8_t> kernel_tables;
  };
  std::shared_ptr<const ColumnTransfers> column_transfers(uint64_t layer_key, const std::vector<Tile>& tiles,
                                                          int64_t cols) const;

  Spec spec_;
  std::vector<Cycle> cycles_;
  bool lossless_ = true;
  bool per_column_ = false;  // spec.per_column() and some cycle converts: physical columns read differently
  // Readouts indexed by [input chunk bits][noisy]; built once.
  std::vector<std::unique_ptr<Readout>> readouts_;
  std::shared_ptr<const detail::FastPlan> fast_;  // null: the reference path runs
  // Per-column transfers by (layer key, tiles, cols), built on first use.
  mutable std::mutex column_mutex_;
  mutable std::map<std::tuple<uint64_t, std::size_t, int64_t>, std::shared_ptr<const ColumnTransfers>> column_cache_;
};

}  // namespace bitline::core::analog_sram
