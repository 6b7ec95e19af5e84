#include "tape/tape_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace athanor {

namespace {

constexpr size_t flush_threshold = size_t{1} << 20;

std::string errno_text() {
  return std::strerror(errno);
}

std::string numbered(const std::string& path, uint32_t n) {
  return n == 0 ? path : path + "." + std::to_string(n);
}

} // namespace

tape_file_writer::tape_file_writer(tape_file_options opts)
  : opts_(std::move(opts)) {}

tape_file_writer::~tape_file_writer() {
  close();
}

std::string tape_file_writer::open() {
  close();
  file_ = std::fopen(opts_.path.c_str(), "wb");
  if (file_ == nullptr)
    return "cannot create '" + opts_.path + "': " + errno_text();
  buffer_ = tape_header();
  file_bytes_ = buffer_.size();
  bytes_total_ += buffer_.size();
  return flush();
}

std::string tape_file_writer::write(const tape_event& x) {
  if (file_ == nullptr)
    return "the tape file is not open";
  record_.clear();
  append_record(x, record_);
  if (file_bytes_ + record_.size() > opts_.max_file_bytes
      && file_bytes_ > tape_header_size)
    if (auto err = rotate(); !err.empty())
      return err;
  buffer_ += record_;
  file_bytes_ += record_.size();
  bytes_total_ += record_.size();
  if (buffer_.size() >= flush_threshold)
    return flush();
  return {};
}

std::string tape_file_writer::flush() {
  if (file_ == nullptr || buffer_.empty())
    return {};
  auto n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  auto ok = n == buffer_.size() && std::fflush(file_) == 0;
  buffer_.clear();
  if (!ok)
    return "cannot write '" + opts_.path + "': " + errno_text();
  return {};
}

void tape_file_writer::close() {
  if (file_ == nullptr)
    return;
  flush();
  std::fclose(file_);
  file_ = nullptr;
}

std::string tape_file_writer::rotate() {
  if (auto err = flush(); !err.empty())
    return err;
  std::fclose(file_);
  file_ = nullptr;
  auto keep = opts_.max_files > 0 ? opts_.max_files : 1;
  std::remove(numbered(opts_.path, keep - 1).c_str());
  for (auto n = keep - 1; n > 0; --n)
    std::rename(numbered(opts_.path, n - 1).c_str(),
                numbered(opts_.path, n).c_str());
  ++rotations_;
  return open();
}

loaded_tape load_tape_files(const std::vector<std::string>& paths) {
  loaded_tape result;
  for (auto& path : paths) {
    std::ifstream in{path, std::ios::binary};
    if (!in) {
      result.problem = path + ": cannot read: " + errno_text();
      return result;
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    auto contents = read_tape(bytes.str());
    for (auto& x : contents.events)
      result.events.push_back(std::move(x));
    if (contents.problem) {
      result.problem = path + ": " + to_string(*contents.problem);
      return result;
    }
  }
  return result;
}

} // namespace athanor
