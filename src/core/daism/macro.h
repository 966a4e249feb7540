#pragma once
// The DAISM macro (docs/macros/daism.md): products on the approximate in-SRAM multiplier of
// core/daism/multiplier.h. The stored operand of each product sits in the array, one row group per
// element (its shifted copies and precomputed multiples, core::daism::rows_per_operand), with the
// elements of one K index side by side along the rows; each element of the driving operand raises
// the wordlines its digits select, and one read returns its products with every stored element of
// that K index (scalar × vector). Peripheral logic adds exponents, normalises, rounds and
// accumulates the products in K order.
//
// Floating-point formats take float operands (OperandKind::FloatingPoint) and train: the forward
// product and both gradient products can run on the multiplier. int8 takes the integer quantizer's
// codes in sign-magnitude [A] (OperandKind::IntegerCodes), forward only.
#include <memory>
#include <string>
#include <vector>

#include "core/daism/kernel.h"
#include "core/daism/number_format.h"
#include "core/macro.h"

namespace bitline::core::daism {

// Which operand of the forward product is stored in the array [A]: the paper's scalar × vector
// read suggests the reused one; weights by default.
enum class StoredOperand { Weights, Inputs };

struct Spec {
  OperandFormat format = parse_operand_format("bf16");
  MultiplierConfig multiplier;       // operand_bits follows the format (the layer's bits for int8)
  NumberFormat accumulation{8, 23};  // fp32
  StoredOperand stored_operand = StoredOperand::Weights;
  TrainingProducts training;  // which products of a training step run on the multiplier
};
// Throws std::invalid_argument naming the field.
void validate(const Spec& spec);

// out [m, n] = Σ_d product(stored [n, d], driving [m, d]), each product on the datapath, summed in
// d order from +0 by the accumulator. The SIMD kernel: one driving element broadcast against the
// stored elements of its d, lane-parallel; equal bit for bit to the scalar reference below. The
// stored operand is [n, d] (ByElement) or [d, n] (ByDepth: a gradient product's w or x as they are).
void approximate_gemm(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n, int64_t d,
                      const float* driving, const float* stored, float* out,
                      StoredLayout layout = StoredLayout::ByElement);
void approximate_gemm_reference(const Datapath& datapath, const Accumulator& accumulator, int64_t m, int64_t n,
                                int64_t d, const float* driving, const float* stored, float* out,
                                StoredLayout layout = StoredLayout::ByElement);

class DaismMacro : public core::Macro {
 public:
  // operand_bits: the multiplier width (the format's, or the integer codes' magnitude bits).
  DaismMacro(const Spec& spec, int operand_bits);
  const Spec& spec() const { return spec_; }
  const Datapath& datapath() const { return datapath_; }

  // int8: codes in sign-magnitude, exact integer accumulation.
  void forward(const ProductShape& shape, const int32_t* x, const int32_t* w, const NoiseKey& key, float* out,
               Events* events) const override;
  void forward(const ProductShape& shape, const float* x, const float* w, const NoiseKey& key, float* out,
               Events* events) const override;
  TrainingProducts training_products() const override;
  // dx = dy · w with w stored (transposed); dw = dyᵀ · x with x stored, dy driving [A].
  void input_gradient(const ProductShape& shape, const float* dy, const float* w, const NoiseKey& key, float* dx,
                      Events* events) const override;
  void weight_gradient(const ProductShape& shape, const float* dy, const float* x, const NoiseKey& key, float* dw,
                       Events* events) const override;

  // Per forward product: macs; one read per driving element (tile activations); the wordline
  // drivers of its digit groups (row drives); the cells of the raised rows on every stored
  // element's columns (cell reads); one sense per column and read; one exponent addition and one
  // normalisation per product (floating formats); one accumulator addition per product.
  Events count(const ProductShape& shape) const override;
  // One peripheral addition of (n + k) bits per precomputed multiple of each stored element.
  Events store_events(const ProductShape& shape) const override;
  bool lossless() const override;
  ArrayFootprint footprint(const ProductShape& shape) const override;
  // One read, sense and peripheral step per clock cycle, pipelined [A].
  double cycles_per_activation(const cost::Hardware&, const cost::ComponentLibrary&) const override { return 1.0; }

  // Physical columns of one stored element: its sensed product columns, plus exponent and sign.
  int columns_per_element() const;

 private:
  // The events of a product: reads by `driving_elements`, each against `stored_per_driving` stored
  // elements, `products` products in all.
  Events events_of(int64_t driving_elements, int64_t stored_per_driving, int64_t products) const;
  Spec spec_;
  Datapath datapath_;
  Accumulator accumulator_;
};

class DaismSpec : public core::MacroSpec {
 public:
  explicit DaismSpec(Spec spec);  // validates
  const Spec& spec() const { return spec_; }
  std::string type() const override { return "daism"; }
  core::OperandKind operand_kind() const override;
  std::unique_ptr<core::Macro> for_operands(const core::IntegerOperands& operands) const override;
  std::unique_ptr<core::Macro> for_format(const NumberFormat& format) const override;
  std::string operand_format() const override { return spec_.format.name; }
  std::string readout() const override;
  std::vector<core::EventKind> emitted_kinds() const override;
  cost::MacroInventory macro_inventory(const std::vector<const core::Macro*>& layers, const cost::Hardware& hardware,
                                       const cost::ComponentLibrary& library) const override;

 private:
  Spec spec_;
};

}  // namespace bitline::core::daism
