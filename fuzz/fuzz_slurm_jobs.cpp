// A sweep's slurm/jobs.json (app/sweep_files.h), whose job ids `bitline sweep --status` hands to
// squeue: the reader must refuse any id that is not a Slurm job id, and what it accepts must read
// back the same once written.
#include <stdexcept>

#include "app/sweep_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  return bitline::fuzz::accept_input_errors([&] {
    using namespace bitline::app;
    const auto jobs = parse_slurm_jobs(bitline::fuzz::as_text(data, size), "jobs.json");
    for (const auto& job : jobs) {
      if (!kSlurmJobId.accepts(job.job_id)) throw std::logic_error("accepted a job id that is not one: " + job.job_id);
    }
    const auto again = parse_slurm_jobs(slurm_jobs_json(jobs), "jobs.json (written back)");
    if (again.size() != jobs.size()) throw std::logic_error("jobs.json does not read back the same");
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      if (again[j].job_id != jobs[j].job_id || again[j].points != jobs[j].points) {
        throw std::logic_error("jobs.json does not read back the same");
      }
    }
  });
}
