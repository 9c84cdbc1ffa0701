// trim::mpi under `mpirun -np 2` (and -np 1): the reduced summary and the
// merged output are identical, bit for bit, to one process; an error on one
// rank becomes one RankError on every rank naming the rank and the file.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <mpi.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/dataset/mpi.hpp"
#include "trim/io/npy.hpp"

using namespace trim;
using namespace trim::dataset;

namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

/// A directory every rank uses: rank 0 names it, the others learn the name.
std::string shared_dir(test::TempDir& mine) {
  std::string name = mine.path.string();
  uint64_t n = name.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  name.resize(n);
  MPI_Bcast(&name[0], static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return name;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("partition: contiguous, complete, block-aligned slices", "[mpi]") {
  for (int64_t n : {0, 1, 63, 64, 65, 1000}) {
    for (int ranks : {1, 2, 3, 7}) {
      int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const Rows s = mpi::partition(n, ranks, r, 64);
        REQUIRE(s.first == next);
        REQUIRE((s.first % 64 == 0 || s.count == 0));
        next = s.end();
      }
      REQUIRE(next == n);
    }
  }
  REQUIRE(mpi::partition(1000, 2, 0, 64) == Rows{0, 512});
  REQUIRE_THROWS_AS(mpi::partition(10, 2, 2), ValueError);
}

TEST_CASE("mpi: reduced summary and merged output equal one process bit for bit", "[mpi]") {
  const Tensor x = io::read_npy(std::string(TRIM_FIXTURE_DIR) + "/summary/values.npy");  // [300, 2, 3]
  std::vector<int64_t> labels;
  for (double l : io::read_npy_array(std::string(TRIM_FIXTURE_DIR) + "/summary/labels.npy").values)
    labels.push_back(static_cast<int64_t>(l));
  SummaryOptions so;
  so.bootstrap = 100;
  so.seed = 11;
  // One process, in one go.
  Summary whole({2, 3}, so);
  whole.add(0, 300, x.data(), labels.data());
  const SummaryResult want = whole.result();

  test::TempDir tmp("mpi");
  const std::string dir = shared_dir(tmp);
  {
    // Reference output written by this rank alone.
    auto w = create_array(dir + "/ref" + std::to_string(world_rank()) + ".npy", {300, 2, 3});
    w->write(0, x);
    w->commit();
  }
  for (const std::string& out : {dir + "/out.npy", dir + "/out.h5:/results/x"}) {
    if (out.find(".h5") != std::string::npos && !has_hdf5()) continue;
    mpi::Job job(MPI_COMM_WORLD, 300, 17, so.block);
    Summary local({2, 3}, so);
    mpi::DistributedWriter writer(MPI_COMM_WORLD, out, {300, 2, 3}, job.slice());
    int64_t done = 0, everyone = 0;
    for (int64_t step = 0; step < job.steps(); ++step) {
      std::exception_ptr error;
      try {
        const Rows c = job.chunk(step);
        local.add(c.first, c.count, x.data() + c.first * 6, labels.data() + c.first);
        writer.write(c.first, c.count, x.data() + c.first * 6);
        done += c.count;
      } catch (...) {
        error = std::current_exception();
      }
      everyone = job.sync(error, done);
    }
    REQUIRE(everyone == 300);
    writer.commit();
    const Summary merged = mpi::reduce(MPI_COMM_WORLD, local);
    if (job.rank() == 0) {
      const SummaryResult got = merged.result();
      REQUIRE(got.all.count == 300);
      REQUIRE(same_bits(got.all.mean, want.all.mean));
      REQUIRE(same_bits(got.all.stdev, want.all.stdev));
      REQUIRE(same_bits(got.all.ci_low, want.all.ci_low));
      REQUIRE(same_bits(got.all.ci_high, want.all.ci_high));
      REQUIRE(same_bits(got.all.median, want.all.median));
      REQUIRE(got.classes.size() == want.classes.size());
      for (size_t k = 0; k < got.classes.size(); ++k) {
        REQUIRE(same_bits(got.classes[k].second.mean, want.classes[k].second.mean));
        REQUIRE(same_bits(got.classes[k].second.sem, want.classes[k].second.sem));
        REQUIRE(same_bits(got.classes[k].second.q3, want.classes[k].second.q3));
      }
      if (out.find(".h5") == std::string::npos) {
        REQUIRE(file_bytes(out) == file_bytes(dir + "/ref0.npy"));
      } else {
        auto r = open_array(out);
        const Tensor back = r->read(0, 300);
        REQUIRE(std::memcmp(back.data(), x.data(), 300 * 6 * 4) == 0);
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

TEST_CASE("mpi: an error on one rank stops every rank with one message naming the rank and file", "[mpi]") {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int bad = size - 1;  // the last rank reads a file that does not exist
  test::TempDir tmp("mpi");
  const std::string dir = shared_dir(tmp);
  const std::string missing = dir + "/no_such_maps.npy";
  mpi::Job job(MPI_COMM_WORLD, 100, 10, 1);
  std::string message;
  int rank_seen = -1;
  try {
    for (int64_t step = 0; step < job.steps(); ++step) {
      std::exception_ptr error;
      try {
        if (job.rank() == bad && step == 1) open_array(missing);
      } catch (...) {
        error = std::current_exception();
      }
      job.sync(error, 0);
    }
  } catch (const mpi::RankError& e) {
    message = e.what();
    rank_seen = e.rank();
  }
  REQUIRE(rank_seen == bad);
  REQUIRE_THAT(message, Catch::StartsWith("rank " + std::to_string(bad) + ": "));
  REQUIRE_THAT(message, Catch::Contains("no_such_maps.npy"));
  // An agreed error passed to a later check keeps its origin.
  std::string again;
  try {
    mpi::guarded(MPI_COMM_WORLD, [&] {
      if (job.rank() == 0) throw mpi::RankError(bad, "first failure");
    });
  } catch (const mpi::RankError& e) {
    again = e.what();
  }
  REQUIRE(again == "rank " + std::to_string(bad) + ": first failure");
  // No output (and no part file) appears when a rank has not written its rows.
  const std::string out = dir + "/failed.npy";
  {
    mpi::DistributedWriter w(MPI_COMM_WORLD, out, {100, 2}, job.slice());
    std::vector<float> rows(static_cast<size_t>(job.slice().count * 2), 1.0f);
    if (job.rank() != bad) w.write(job.slice().first, job.slice().count, rows.data());
    REQUIRE_THROWS_AS(w.commit(), mpi::RankError);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (job.rank() == 0) {
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
    REQUIRE(left.empty());
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  // Only rank 0 reports passing runs; every rank reports its failures.
  const int result = Catch::Session().run(argc, argv);
  int worst = 0;
  MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
