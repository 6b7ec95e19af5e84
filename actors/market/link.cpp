#include "actors/market/link.hpp"

namespace athanor {

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
