// trim::mpi (dataset/mpi.hpp): deterministic slices, agreed errors,
// summaries gathered and merged on the root, part files merged on commit.
#include "trim/dataset/mpi.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

namespace trim::mpi {

namespace {

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}
int size_of(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

/// Messages and summaries can exceed MPI's int counts: send in pieces.
constexpr size_t kPiece = size_t{1} << 30;

void send_bytes(MPI_Comm comm, const std::string& s, int to) {
  const uint64_t n = s.size();
  MPI_Send(&n, 1, MPI_UINT64_T, to, 0, comm);
  for (size_t at = 0; at < s.size(); at += kPiece)
    MPI_Send(s.data() + at, static_cast<int>(std::min(kPiece, s.size() - at)), MPI_CHAR, to, 0, comm);
}

std::string recv_bytes(MPI_Comm comm, int from) {
  uint64_t n = 0;
  MPI_Recv(&n, 1, MPI_UINT64_T, from, 0, comm, MPI_STATUS_IGNORE);
  std::string s(static_cast<size_t>(n), '\0');
  for (size_t at = 0; at < s.size(); at += kPiece)
    MPI_Recv(&s[at], static_cast<int>(std::min(kPiece, s.size() - at)), MPI_CHAR, from, 0, comm, MPI_STATUS_IGNORE);
  return s;
}

/// Where rank `rank`'s part of `spec` goes: next to the output file.
std::string part_name(const std::string& spec, int rank) {
  const dataset::ArraySpec a = dataset::parse_array_spec(spec);
  std::string inner;
  for (char c : a.inner) inner += c == '/' ? '_' : c;
  return a.file + inner + ".part" + std::to_string(rank) + ".npy";
}

}  // namespace

dataset::Rows partition(int64_t n, int ranks, int rank, int64_t align) {
  if (n < 0 || ranks < 1 || rank < 0 || rank >= ranks || align < 1)
    throw ValueError("mpi::partition: bad arguments (n " + std::to_string(n) + ", rank " + std::to_string(rank) +
                     " of " + std::to_string(ranks) + ", align " + std::to_string(align) + ")");
  const int64_t blocks = (n + align - 1) / align;
  const int64_t per = blocks / ranks, extra = blocks % ranks;
  const int64_t b0 = rank * per + std::min<int64_t>(rank, extra);
  const int64_t b1 = b0 + per + (rank < extra ? 1 : 0);
  const int64_t first = std::min(n, b0 * align), end = std::min(n, b1 * align);
  return {first, end - first};
}

void check(MPI_Comm comm, std::exception_ptr error) {
  const int me = rank_of(comm);
  int failing = error ? me : INT_MAX;
  int first = INT_MAX;
  MPI_Allreduce(&failing, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == INT_MAX) return;
  // The lowest failing rank's message goes to everyone; an error that is
  // already a RankError (agreed at an earlier check) keeps its origin.
  int origin = first;
  std::string text;
  if (first == me) {
    try {
      std::rethrow_exception(error);
    } catch (const RankError& e) {
      origin = e.rank();
      text = e.message();
    } catch (const std::exception& e) {
      text = e.what();
    } catch (...) {
      text = "unknown exception";
    }
  }
  MPI_Bcast(&origin, 1, MPI_INT, first, comm);
  uint64_t n = text.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, first, comm);
  text.resize(static_cast<size_t>(std::min<uint64_t>(n, 1 << 20)));
  MPI_Bcast(&text[0], static_cast<int>(text.size()), MPI_CHAR, first, comm);
  throw RankError(origin, text);
}

int64_t total(MPI_Comm comm, int64_t local) {
  int64_t sum = 0;
  MPI_Allreduce(&local, &sum, 1, MPI_INT64_T, MPI_SUM, comm);
  return sum;
}

dataset::Summary reduce(MPI_Comm comm, const dataset::Summary& local, int root) {
  const int me = rank_of(comm), n = size_of(comm);
  if (me != root) {
    send_bytes(comm, local.serialize(), root);
    return local;
  }
  dataset::Summary merged = local;
  for (int r = 0; r < n; ++r)
    if (r != root) merged.merge(dataset::Summary::deserialize(recv_bytes(comm, r)));
  return merged;
}

Job::Job(MPI_Comm comm, int64_t examples, int64_t chunk, int64_t align)
    : comm_(comm), rank_(rank_of(comm)), size_(size_of(comm)), examples_(examples), chunk_(chunk) {
  if (chunk < 1) throw ValueError("mpi::Job: chunk must be positive");
  slice_ = partition(examples, size_, rank_, align);
  int64_t largest = 0;
  for (int r = 0; r < size_; ++r) largest = std::max(largest, partition(examples, size_, r, align).count);
  steps_ = (largest + chunk - 1) / chunk;
}

dataset::Rows Job::chunk(int64_t step) const {
  const int64_t first = slice_.first + step * chunk_;
  if (step < 0 || first >= slice_.end()) return {slice_.end(), 0};
  return {first, std::min(chunk_, slice_.end() - first)};
}

int64_t Job::sync(std::exception_ptr error, int64_t done_here) {
  check(comm_, error);
  return total(comm_, done_here);
}

DistributedWriter::DistributedWriter(MPI_Comm comm, const std::string& spec, const std::vector<int64_t>& shape,
                                     dataset::Rows slice, const dataset::WriterOptions& options)
    : comm_(comm), rank_(rank_of(comm)), size_(size_of(comm)), spec_(spec), shape_(shape), slice_(slice),
      options_(options) {
  guarded(comm_, [&] {
    part_ = part_name(spec, rank_);
    if (shape_.empty() || slice_.first < 0 || slice_.count < 0 || slice_.end() > shape_[0])
      throw ValueError("mpi::DistributedWriter '" + spec + "': slice outside the array");
    std::vector<int64_t> part_shape = shape_;
    part_shape[0] = slice_.count;
    part_writer_ = dataset::create_array(part_, part_shape, options_);
  });
}

DistributedWriter::~DistributedWriter() = default;

void DistributedWriter::write(int64_t first, int64_t count, const float* data) {
  if (first < slice_.first || count < 0 || first + count > slice_.end())
    throw ValueError("mpi::DistributedWriter '" + spec_ + "': rows [" + std::to_string(first) + ", " +
                     std::to_string(first + count) + ") are outside rank " + std::to_string(rank_) + "'s slice [" +
                     std::to_string(slice_.first) + ", " + std::to_string(slice_.end()) + ")");
  part_writer_->write(first - slice_.first, count, data);
}

bool DistributedWriter::is_finished(dataset::Rows r) const {
  return part_writer_->is_finished({r.first - slice_.first, r.count});
}

void DistributedWriter::read_back(int64_t first, int64_t count, float* out) {
  part_writer_->read_back(first - slice_.first, count, out);
}

void DistributedWriter::commit() {
  try {
    guarded(comm_, [&] { part_writer_->commit(); });
  } catch (...) {
    // Another rank's part is incomplete: no output, and no finished part left behind.
    if (part_writer_ && part_writer_->committed() && !options_.keep_partial) std::remove(part_.c_str());
    throw;
  }
  std::vector<int64_t> mine = {slice_.first, slice_.count}, all(2 * static_cast<size_t>(size_));
  MPI_Allgather(mine.data(), 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm_);
  guarded(comm_, [&] {
    if (rank_ != 0) return;
    dataset::WriterOptions o = options_;
    o.resume = false;
    o.keep_partial = false;
    auto out = dataset::create_array(spec_, shape_, o);
    for (int r = 0; r < size_; ++r) {
      auto in = dataset::open_array(part_name(spec_, r));
      const int64_t first = all[2 * static_cast<size_t>(r)];
      if (in->rows() != all[2 * static_cast<size_t>(r) + 1])
        throw IoError("mpi::DistributedWriter '" + spec_ + "': part '" + in->spec() + "' has " +
                      std::to_string(in->rows()) + " rows, expected " + std::to_string(all[2 * static_cast<size_t>(r) + 1]));
      const int64_t step = std::max<int64_t>(1, (int64_t{64} << 20) / std::max<int64_t>(1, in->row_size() * 4));
      std::vector<float> buf;
      for (int64_t i = 0; i < in->rows(); i += step) {
        const int64_t n = std::min(step, in->rows() - i);
        buf.resize(static_cast<size_t>(n * in->row_size()));
        in->read_into(i, n, buf.data());
        out->write(first + i, n, buf.data());
      }
    }
    out->commit();
    for (int r = 0; r < size_; ++r) std::remove(part_name(spec_, r).c_str());
  });
}

}  // namespace trim::mpi
