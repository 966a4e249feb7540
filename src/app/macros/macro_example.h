#pragma once
// A configuration of a macro type that the tests covering every registered type run
// (app/macros/registry.h, tests/unit/app/test_macro_types.cpp).
#include <string>

namespace bitline::app {

template <class Config>
struct MacroExample {
  std::string name;
  Config config;
  bool lossless = false;  // the macro must then equal the integer reference bit for bit
};

}  // namespace bitline::app
