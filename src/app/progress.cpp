#include "app/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace bitline::app {

std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(seconds + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total / 60) % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      enabled_(enabled),
      interactive_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::line(int64_t done, const std::string& status, bool finished) const {
  constexpr int kWidth = 24;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const std::string timing = finished ? fmt::format("{} elapsed", format_duration(elapsed))
                                      : fmt::format("{} elapsed, ETA {}", format_duration(elapsed),
                                                    format_duration(done > 0 ? elapsed / fraction - elapsed : 0));
  return fmt::format("{:<24} [{}] {:>5}/{:<5} {}  {}", label_, bar, done, total_, timing, status);
}

void ProgressBar::update(int64_t done, const std::string& status) {
  if (!enabled_ || !interactive_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  fmt::print(stderr, "\r{}\033[K", line(done, status, false));
  std::fflush(stderr);
}

void ProgressBar::finish(const std::string& status) {
  if (!enabled_ || finished_) return;
  finished_ = true;
  fmt::print(stderr, "{}{}\n", interactive_ ? "\r\033[K" : "", line(total_, status, true));
}

}  // namespace bitline::app
