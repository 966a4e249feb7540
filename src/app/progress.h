#pragma once
// A one-line progress bar with rate and ETA on stderr. On a terminal it redraws in place (at most
// ten times a second); elsewhere (CI logs, pipes) it prints only the finished line.
#include <chrono>
#include <cstdint>
#include <string>

namespace bitline::app {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled);
  void update(int64_t done, const std::string& status);
  void finish(const std::string& status);

 private:
  std::string line(int64_t done, const std::string& status, bool finished) const;
  std::string label_;
  int64_t total_;
  bool enabled_, interactive_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);

}  // namespace bitline::app
