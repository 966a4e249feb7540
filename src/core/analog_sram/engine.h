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

// Hardware events of a product (DESIGN.md invariant 2: count() equals what matmul() records).
struct Events {
  int64_t macs = 0;              // useful multiply-accumulates, rows * cols * K
  int64_t adc_conversions = 0;   // analog conversions, each vote sample included
  int64_t digital_cycles = 0;    // HCiM products computed digitally
  int64_t voted_cycles = 0;      // cycles decided by a majority vote
  int64_t tile_activations = 0;  // array activations: one per (row, tile, input chunk); all columns in parallel
  int64_t row_drives = 0;        // input rows driven (DAC/wordline events), summed over activations
  int64_t shift_adds = 0;        // partial results accumulated digitally
  Events& operator+=(const Events& other);
  bool operator==(const Events& other) const;
};

// Shape of Y[rows, cols] = X[rows, K] . W[cols, K]^T, K = channels * kernel_area.
struct ProductShape {
  int64_t rows = 0, cols = 0, channels = 0, kernel_area = 1;
  int64_t depth() const { return channels * kernel_area; }
};

// Where each conversion's noise comes from: a counter-based stream keyed by the seed, the layer and
// the (sample, position in sample, output column, tile, cycle, vote) coordinates, so the result does
// not depend on thread count or batch split (kernel.h: analog_uniform).
struct NoiseKey {
  uint64_t layer = 0;
  uint64_t first_sample = 0;    // sample index of row 0
  int64_t rows_per_sample = 1;  // rows of one sample (output pixels of a conv, tokens of a linear)
};

namespace detail {
struct FastPlan;
}

// The events of a product of this shape on a macro of this spec and cycle plan (cycle_plan(spec)),
// without data: what Engine::count returns, for callers that need no engine (the cost model).
Events count_events(const Spec& spec, const std::vector<Cycle>& cycles, const ProductShape& shape);

class Engine {
 public:
  explicit Engine(const Spec& spec);
  const Spec& spec() const { return spec_; }
  const std::vector<Cycle>& cycles() const { return cycles_; }
  // True when every cycle's readout returns its MAC exactly: the product is then the exact integer
  // product, and callers may compute it with an integer GEMM (DESIGN.md invariant 3).
  bool lossless() const { return lossless_; }
  const Readout& readout(const Cycle& cycle) const;

  // x: [rows, K] input codes within the input grid; w: [cols, K] weight codes (signed). out: [rows,
  // cols] reconstructed results in integer units (exact integers when lossless).
  void matmul(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
              Events* events) const;
  // The events of a product of this shape, without data.
  Events count(const ProductShape& shape) const;

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
  // Readouts indexed by [input chunk bits][noisy]; built once.
  std::vector<std::unique_ptr<Readout>> readouts_;
  std::shared_ptr<const detail::FastPlan> fast_;  // null: the reference path runs
  // Per-column transfers by (layer key, tiles, cols), built on first use.
  mutable std::mutex column_mutex_;
  mutable std::map<std::tuple<uint64_t, std::size_t, int64_t>, std::shared_ptr<const ColumnTransfers>> column_cache_;
};

}  // namespace bitline::core::analog_sram
