// What a run or sweep directory holds, read back (app/json_shape.h, app/sweep_files.h): a file of the
// wrong shape is bad input naming the file, the key and what was expected (issue 25).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "app/json_shape.h"
#include "app/pairing_file.h"
#include "app/sweep_files.h"
#include "core/error.h"

namespace bitline::app {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string shape_error(const std::string& text, const JsonShape& shape) {
  try {
    parse_json_document(text, "f.json", shape);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(JsonShape, NamesTheFileThePathAndWhatWasExpected) {
  const JsonShape shape = JsonShape::object({
      required_key("name", JsonShape::string()),
      optional_key("count", JsonShape::integer(0, 10)),
      optional_key("ratio", JsonShape::number(0).or_null()),
      optional_key("items", JsonShape::array(JsonShape::object({required_key("id", JsonShape::string(&kPointId))}))),
      optional_key("parts", JsonShape::map(JsonShape::number())),
      optional_key("flag", JsonShape::boolean()),
  });
  EXPECT_EQ(
      shape_error(R"({"name": "a", "count": 3, "ratio": null, "items": [{"id": "p001"}], "parts": {"x": 1.5}})", shape),
      "");
  EXPECT_EQ(shape_error(R"({})", shape), "f.json: key 'name': expected a string, found no such key");
  EXPECT_EQ(shape_error(R"({"name": 7})", shape), "f.json: key 'name': expected a string, found the number 7");
  EXPECT_EQ(shape_error(R"({"name": "a", "count": 11})", shape),
            "f.json: key 'count': expected an integer in [0, 10], found the number 11");
  EXPECT_EQ(shape_error(R"({"name": "a", "count": 2.5})", shape),
            "f.json: key 'count': expected an integer in [0, 10], found the number 2.5");
  EXPECT_EQ(shape_error(R"({"name": "a", "count": 18446744073709551615})", shape),
            "f.json: key 'count': expected an integer in [0, 10], found the number 18446744073709551615");
  EXPECT_EQ(shape_error(R"({"name": "a", "ratio": -1})", shape),
            "f.json: key 'ratio': expected a finite number >= 0 or null, found the number -1");
  EXPECT_EQ(shape_error(R"({"name": "a", "items": [{"id": "p001"}, {"id": "../x"}]})", shape),
            "f.json: key 'items[1].id': expected a string: a point id: p and 3 to 5 digits, e.g. p007, found the "
            "string \"../x\"");
  EXPECT_EQ(shape_error(R"({"name": "a", "parts": {"x": "1"}})", shape),
            "f.json: key 'parts.x': expected a finite number, found the string \"1\"");
  EXPECT_EQ(shape_error(R"({"name": "a", "flag": "yes"})", shape),
            "f.json: key 'flag': expected true or false, found the string \"yes\"");
  EXPECT_EQ(shape_error(R"([1])", shape), "f.json: key '(the document)': expected an object, found a list of 1");
  EXPECT_THAT(shape_error(R"({"name": )", shape),
              HasSubstr("f.json: expected JSON written by bitline, found a parse error"));
  EXPECT_EQ(shape_error("{\"name\": \"a\\nb\", \"count\": \"x\\ny\"}", shape),
            "f.json: key 'count': expected an integer in [0, 10], found the string \"x\\ny\"");
}

TEST(SlurmJobs, RefusesJobIdsThatAreNotSlurmIdsAndReadsBackWhatItWrites) {
  const auto error_of = [](const std::string& text) {
    try {
      parse_slurm_jobs(text, "slurm/jobs.json");
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  for (const char* id : {"1; touch X #", "$(touch X)", "1 2", "", "123_4", "-1", "12345678901", "0x10", "1\n"}) {
    EXPECT_THAT(error_of(json::array({{{"job_id", id}, {"points", json::array()}}}).dump()),
                HasSubstr("slurm/jobs.json: key '[0].job_id': expected a string: a Slurm job id"))
        << id;
  }
  EXPECT_THAT(error_of(R"([{"job_id": "12", "points": [{"point": 0, "id": "p0/.."}]}])"),
              HasSubstr("key '[0].points[0].id'"));
  const std::vector<SlurmJob> jobs = {{"4242", "2026-12-07T10:00:00Z", "0-2%1", {{0, "p000"}, {2, "p002"}}},
                                      {"4250", "", "1", {{1, "p001"}}}};
  const auto again = parse_slurm_jobs(slurm_jobs_json(jobs), "jobs.json");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].job_id, "4242");
  EXPECT_EQ(again[0].array, "0-2%1");
  EXPECT_EQ(again[0].points, jobs[0].points);
  EXPECT_EQ(again[1].points, jobs[1].points);
}

TEST(PointStatus, ReadsWhatTheDriversAndTasksWrite) {
  auto status = parse_point_status("running 2026-12-07T10:00:00Z slurm 4242_1 node01\n");
  EXPECT_EQ(status.state, PointStatus::State::Running);
  EXPECT_EQ(status.slurm_task, "4242_1");
  status = parse_point_status("running 2026-12-07T10:00:00Z\n");
  EXPECT_EQ(status.state, PointStatus::State::Running);
  EXPECT_EQ(status.slurm_task, "");
  status = parse_point_status("finished 2 2026-12-07T10:00:00Z\n");
  EXPECT_EQ(status.state, PointStatus::State::Finished);
  EXPECT_EQ(status.exit_code, 2);
  // Garbled, empty or hostile: not a state (the point is not done and runs again).
  for (const char* text : {"", "finished", "finished -1 x", "finished 99999999999 x", "done", "finished x"}) {
    EXPECT_EQ(parse_point_status(text).state, PointStatus::State::None) << text;
  }
  EXPECT_EQ(parse_point_status("running t slurm 1;touch_X n").slurm_task, "");
  EXPECT_EQ(parse_point_status("running t slurm 123 n").slurm_task, "");  // a job, not a task
}

TEST(RunResults, ResultsOfTheWrongShapeAreRefusedBeforeUse) {
  EXPECT_THAT(shape_error(R"({"evaluations": [{"name": "a", "accuracy": 1.5}]})", run_results_shape()),
              HasSubstr("key 'evaluations[0].accuracy': expected a finite number in [0, 1], found the number 1.5"));
  EXPECT_THAT(
      shape_error(R"({"evaluations": [{"name": "a", "cost": {"energy_per_inference_pj": 1}}]})", run_results_shape()),
      HasSubstr(
          "key 'evaluations[0].cost.latency_layer_by_layer_ns': expected a finite number >= 0, found no such key"));
  EXPECT_THAT(shape_error(R"({"training": [{"stage": "float", "history": [{"epoch": "1"}]}], "evaluations": []})",
                          run_results_shape()),
              HasSubstr("key 'training[0].history[0].epoch': expected an integer >= 0, found the string \"1\""));
  // What bitline writes for an exact layer and a loss that was not finite: null.
  const json results = parse_json_document(
      R"({"evaluations": [{"name": "a", "mode": "simulate", "macro": "m", "accuracy": 0.25, "loss": null,
          "layers": [{"layer": "l", "csnr_db": null}]}]})",
      "results.json", run_results_shape());
  const json rows = result_rows(results);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0]["accuracy_percent"].get<double>(), 25.0);
  EXPECT_TRUE(rows[0]["min_csnr_db"].is_null());
}

TEST(SweepManifest, PointsAndRowsOfTheWrongShapeAreRefused) {
  const std::string good = R"({"name": "s", "axes": [{"name": "bits", "key": "k", "numeric": true, "values": [4]}],
    "points": [{"point": 0, "id": "p000", "label": "bits=4", "values": {"bits": 4}}],
    "rows": [{"point": 0, "label": "bits=4", "evaluation": "e", "accuracy_percent": 50}]})";
  const json manifest = parse_json_document(good, "sweep.json", sweep_manifest_shape());
  EXPECT_EQ(table_csv(manifest).substr(0, 20), "point,label,bits,eva");
  json bad = json::parse(good);
  bad["points"][0]["point"] = 10000;
  EXPECT_THAT(shape_error(bad.dump(), sweep_manifest_shape()),
              HasSubstr("key 'points[0].point': expected an integer in [0, 9999]"));
  bad = json::parse(good);
  bad["axes"][0].erase("numeric");
  EXPECT_THAT(shape_error(bad.dump(), sweep_manifest_shape()),
              HasSubstr("key 'axes[0].numeric': expected true or false, found no such key"));
  bad = json::parse(good);
  bad["rows"][0]["energy_nj_per_image"] = -3;
  EXPECT_THAT(shape_error(bad.dump(), sweep_manifest_shape()),
              HasSubstr("key 'rows[0].energy_nj_per_image': expected a finite number >= 0"));
}

TEST(PairingFile, EveryWrongKeyIsNamed) {
  const std::string good = R"({"pairing_hash": "abc", "encoding": "twos_complement", "layers": [
    {"layer": "conv1", "kind": "pointwise", "filters": 3, "depth": 4, "pairs": [[0, 2]], "unpaired": 1, "cost": 5, "seconds": 0.1}]})";
  EXPECT_EQ(parse_pairing(good, "p.json").layers.at(0).pairs.size(), 1u);
  const auto error_of = [&](const std::string& key, const json& value) {
    json file = json::parse(good);
    if (key == "pairing_hash") {
      file[key] = value;
    } else {
      file["layers"][0][key] = value;
    }
    try {
      parse_pairing(file.dump(), "p.json");
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_THAT(
      error_of("pairing_hash", 12),
      HasSubstr("p.json: not a valid pairing file: key 'pairing_hash': expected a string, found the number 12"));
  EXPECT_THAT(error_of("seconds", "fast"), HasSubstr("p.json: not a valid pairing file: key 'layers[0].seconds': "
                                                     "expected a finite number >= 0, found the string"));
  EXPECT_THAT(error_of("unpaired", -2), HasSubstr("p.json: not a valid pairing file: key 'layers[0].unpaired': "
                                                  "expected an integer >= -1, found the number -2"));
  EXPECT_THAT(error_of("filters", 9.2e19), HasSubstr("key 'layers[0].filters': expected an integer >= 1"));
  EXPECT_THAT(error_of("pairs", json::parse("[[0, 9]]")),
              HasSubstr("key 'layers[0]' (layer 'conv1').pairs: filter 9 is out of range [0, 3)"));
  EXPECT_THAT(error_of("unpaired", 0),
              HasSubstr("key 'layers[0]' (layer 'conv1').unpaired: filter 0 is out of range [0, 3) or used twice"));
  EXPECT_THAT(error_of("kind", "grouped"),
              HasSubstr(".kind: expected pointwise, depthwise, conv or linear, found \"grouped\""));
  EXPECT_THAT(error_of("pairing_hash", 12), HasSubstr("delete it to pair again"));
}

}  // namespace
}  // namespace bitline::app
