#include "actors/market/link.hpp"

#include <algorithm>
#include <chrono>

namespace athanor {

void link_slot::open(std::unique_ptr<link> x, uint64_t epoch) {
  close_current();
  current_ = std::move(x);
  epoch_ = epoch;
}

void link_slot::close_current() {
  if (!current_)
    return;
  current_->close();
  closing_.emplace_back(epoch_, std::move(current_));
}

void link_slot::drop_current() {
  current_.reset();
}

bool link_slot::closed(uint64_t epoch) {
  auto i = std::find_if(closing_.begin(), closing_.end(),
                        [epoch](auto& x) { return x.first == epoch; });
  if (i == closing_.end())
    return false;
  closing_.erase(i);
  return true;
}

timestamp_ns link_clock_ns() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
}

link_frame decode_link_frame(uint64_t epoch, protocol::codec encoding,
                             std::string& frame, timestamp_ns received_at) {
  // One decoder state per I/O thread. The data vectors leave with the
  // message (one allocation each per frame is the price of handing the batch
  // on); the controls and problems vectors keep their capacity.
  thread_local protocol::market_frame decoded;
  decoded.clear();
  protocol::decode_problem problem;
  auto ok = encoding == protocol::codec::json
              ? protocol::decode_json(frame, decoded, problem)
              : protocol::decode_msgpack(frame.data(), frame.size(), decoded,
                                         problem);
  link_frame result;
  result.epoch = epoch;
  if (!ok) {
    result.malformed = to_string(problem);
    return result;
  }
  result.data = std::move(decoded.data);
  result.data.received_at = received_at;
  result.data.epoch = epoch;
  result.controls = std::move(decoded.controls);
  for (auto& x : decoded.rejected)
    result.rejected.push_back(to_string(x));
  result.unknown_types = decoded.unknown_types;
  result.unknown_fields = decoded.unknown_fields;
  return result;
}

} // namespace athanor
