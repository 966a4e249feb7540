// Prints a libFuzzer dictionary of the YAML configs: every key ("name:") and every choice of the
// experiment, layer, ADC and sweep config schemas, walked with the same describe() lists the loader uses.
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/sweep_config.h"

namespace {

using bitline::app::Doc;

struct KeyCollector {
  std::set<std::string> words;

  template <class T>
  void field(const std::string& key, T&, const Doc& doc) {
    words.insert(key + ":");
    for (const auto& choice : doc.choice_list()) words.insert(choice);
  }
  template <class T>
  void section(const std::string& key, T& value, const Doc&) {
    words.insert(key + ":");
    describe(*this, value);
  }
  template <class T>
  void section_list(const std::string& key, std::vector<T>&, const Doc&) {
    words.insert(key + ":");
    T item{};
    describe(*this, item);
  }
};

}  // namespace

int main() {
  KeyCollector collector;
  bitline::app::Config experiment;
  bitline::app::LayerCommandConfig layer;
  bitline::app::AdcCommandConfig adc;
  bitline::app::SweepConfig sweep;
  describe(collector, experiment);
  describe(collector, layer);
  describe(collector, adc);
  describe(collector, sweep);
  collector.words.insert("sweep:");
  for (const char* yaml : {"base:", "null", "true", "false", "~", "- ", "{", "}", "[", "]", "---", "&a ", "*a", "<<: "}) {
    collector.words.insert(yaml);
  }
  for (const auto& word : collector.words) {
    std::string escaped;
    for (char c : word) escaped += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    std::cout << '"' << escaped << "\"\n";
  }
}
