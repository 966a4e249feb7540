#include "app/macros/registry.h"

namespace bitline::app {

std::vector<MacroTypeInfo> macro_types() {
  std::vector<MacroTypeInfo> types;
  for_each_macro_type([&](auto type, auto) {
    using Type = decltype(type);
    types.push_back({Type::kName, Type::kSummary, Type::kDocs});
  });
  return types;
}

std::vector<std::string> macro_type_names() {
  std::vector<std::string> names;
  for (const auto& type : macro_types()) names.push_back(type.name);
  return names;
}

}  // namespace bitline::app
