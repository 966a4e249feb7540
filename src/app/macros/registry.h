#pragma once
// The registered macro types (docs/architecture.md, "Adding a macro"). A type is a traits struct in
// app/macros/<type>.h:
//
//   struct XType {
//     using Config = XConfig;                 // its config section, a struct with describe()
//     static constexpr const char* kName;     // macros[].type, and the key of its section
//     static constexpr const char* kSummary;  // one line for `bitline macros`
//     static constexpr const char* kDocs;     // its docs page
//     // Its core::MacroSpec; InputError naming `key` for values it cannot use (e.g. a bad table).
//     static std::shared_ptr<const core::MacroSpec> build(const Config& config, const std::string& key);
//     // Checks against the quantization config (e.g. ASiM parity needs per-tensor scales).
//     static void check(const Config&, const LayerQuantizationConfig&, const std::string& source, const std::string& key);
//     // Configurations the tests of every type run (tests/unit/app/test_macro_types.cpp), at least
//     // one of them lossless.
//     static std::vector<MacroExample<Config>> examples();
//   };
//
// Registering it is adding it to MacroTypes below. Configs, validation, `bitline config
// --defaults`, `bitline macros`, the layer command, the cost model and the tests that cover every
// type (tests/unit/app/test_macro_types.cpp) all follow from this list.
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "app/macros/analog_sram.h"
#include "app/macros/daism.h"
#include "app/macros/ddc_pim.h"
#include "app/macros/digital_sram.h"
#include "app/macros/sot_mram_fp.h"

namespace bitline::app {

using MacroTypes = std::tuple<AnalogSramType, DigitalSramType, DaismType, DdcPimType, SotMramFpType>;

constexpr std::size_t kMacroTypeCount = std::tuple_size_v<MacroTypes>;

// One config section per registered type, in MacroTypes order.
template <class Types>
struct ConfigsOf;
template <class... Types>
struct ConfigsOf<std::tuple<Types...>> {
  using type = std::tuple<typename Types::Config...>;
};
using MacroTypeConfigs = ConfigsOf<MacroTypes>::type;

namespace detail {
template <class Visit, std::size_t... I>
void for_each_macro_type(Visit& visit, std::index_sequence<I...>) {
  (visit(std::tuple_element_t<I, MacroTypes>{}, std::integral_constant<std::size_t, I>{}), ...);
}
}  // namespace detail

// Calls visit(Type{}, std::integral_constant<std::size_t, index>{}) for every registered type.
template <class Visit>
void for_each_macro_type(Visit&& visit) {
  detail::for_each_macro_type(visit, std::make_index_sequence<kMacroTypeCount>{});
}

// The index of type T in MacroTypes.
template <class T, std::size_t I = 0>
constexpr std::size_t macro_type_index() {
  static_assert(I < kMacroTypeCount, "not a registered macro type");
  if constexpr (std::is_same_v<T, std::tuple_element_t<I, MacroTypes>>) {
    return I;
  } else {
    return macro_type_index<T, I + 1>();
  }
}

struct MacroTypeInfo {
  std::string name, summary, docs;
};
std::vector<MacroTypeInfo> macro_types();
std::vector<std::string> macro_type_names();

}  // namespace bitline::app
