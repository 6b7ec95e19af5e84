// athanor-bench decode: market-data decode throughput per core.
//
// Frames of 1, 10 and 100 records (80 % quotes, 20 % trades, 100 symbols),
// encoded by our own encoder in both codecs, are decoded repeatedly on one
// thread. Beside each figure stands a raw byte scan over the same bytes in
// the same run, so the ratio holds however noisy the machine is. JSON rows
// also show simdjson's On-Demand parser filling the same records (when
// built with libsimdjson-dev): the JSON ceiling, as a ratio to ours.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/market_data.hpp"

#include "bench.hpp"
#ifdef ATHANOR_HAVE_SIMDJSON
#include "bench/simdjson_decode.hpp"
#endif

namespace athanor::bench {

namespace {

using protocol::codec;

batch make_batch(size_t records, uint64_t& seed) {
  batch result;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  for (size_t i = 0; i < records; ++i) {
    auto symbol = "SYM" + std::to_string(next() % 100);
    auto time = 1714573800'000000000LL
                + static_cast<int64_t>(next() % 1'000'000'000);
    auto price = 100.0 + static_cast<double>(next() % 10000) / 100.0;
    if (next() % 5 == 0)
      result.trades.push_back({symbol, static_cast<int64_t>(next()), 'V', price,
                               static_cast<double>(next() % 500 + 1), time, "@",
                               'C', 0});
    else
      result.quotes.push_back(
        {symbol, 'V', price, static_cast<double>(next() % 9 + 1), 'Q',
         price + 0.01, static_cast<double>(next() % 9 + 1), time, "R", 'C'});
  }
  return result;
}

// Sums the bytes: the cheapest pass over the data a decoder could make.
uint64_t byte_scan(const std::string& frame) {
  uint64_t sum = 0;
  for (auto c : frame)
    sum += static_cast<unsigned char>(c);
  return sum;
}

} // namespace

int run_decode(const options& opts) {
  std::printf("decode: msgs/s on one core, %.1f s per figure\n", opts.seconds);
  std::printf("%-8s %8s %14s %14s %8s %12s %14s %9s\n", "codec", "records",
              "decode msg/s", "scan msg/s", "ratio", "bytes/frame",
              "simdjson msg/s", "ours/simd");
  uint64_t seed = 42;
  int failures = 0;
  for (auto c : {codec::json, codec::msgpack}) {
    for (size_t records : {1, 10, 100}) {
      // A pool of distinct frames, so branch predictors cannot learn one.
      std::vector<std::string> frames;
      size_t total_bytes = 0;
      for (int i = 0; i < 64; ++i) {
        frames.push_back(protocol::encode_batch(c, make_batch(records, seed)));
        total_bytes += frames.back().size();
      }
      protocol::market_frame out;
      protocol::decode_problem problem;
      std::string scratch;
      size_t decoded = 0;
      auto decode_rate = measure(opts.seconds, [&](size_t i) {
        auto& frame = frames[i % frames.size()];
        bool ok;
        if (c == codec::json) {
          scratch.assign(frame); // in-situ parsing needs its own copy
          ok = protocol::decode_json(scratch, out, problem);
        } else {
          ok = protocol::decode_msgpack(frame.data(), frame.size(), out,
                                        problem);
        }
        if (!ok)
          ++failures;
        decoded += out.data.size();
        return records;
      });
      uint64_t sink = 0;
      auto scan_rate = measure(opts.seconds, [&](size_t i) {
        sink += byte_scan(frames[i % frames.size()]);
        return records;
      });
      // simdjson fills the same records (JSON only).
      char simd[2][16] = {"-", "-"};
#ifdef ATHANOR_HAVE_SIMDJSON
      if (c == codec::json) {
        simdjson_decoder reference;
        batch into;
        auto simd_rate = measure(opts.seconds, [&](size_t i) {
          if (!reference.decode(frames[i % frames.size()], into))
            ++failures;
          return records;
        });
        if (into.size() != records)
          ++failures;
        std::snprintf(simd[0], 16, "%.0f", simd_rate);
        std::snprintf(simd[1], 16, "%.3f", decode_rate / simd_rate);
      }
#endif
      std::printf("%-8s %8zu %14.0f %14.0f %8.3f %12zu %14s %9s%s\n",
                  protocol::to_string(c).c_str(), records, decode_rate,
                  scan_rate, decode_rate / scan_rate,
                  total_bytes / frames.size(), simd[0], simd[1],
                  sink == 1 ? " " : "");
      if (decoded == 0)
        ++failures;
    }
  }
  if (failures > 0)
    std::printf("decode: %d frames failed to decode\n", failures);
  return failures == 0 ? 0 : 1;
}

} // namespace athanor::bench
