#define CAF_SUITE unit.tape
#include "tape/tape.hpp"

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "actors/market/tape_link.hpp"
#include "protocol/market_data.hpp"
#include "tape/tape_file.hpp"

using namespace athanor;

namespace {

tape_event event(tape_kind kind, timestamp_ns time, uint64_t epoch,
                 std::string data = {}) {
  tape_event x;
  x.kind = kind;
  x.time = time;
  x.epoch = epoch;
  x.data = std::move(data);
  return x;
}

// One of every kind, with every field set somewhere.
std::vector<tape_event> every_kind() {
  auto connect = event(tape_kind::connect, 1, 7, "ws://127.0.0.1:1/v2/iex");
  connect.msgpack = true;
  auto frame = event(tape_kind::inbound, 3, 7, std::string("\x91\x81\xa1T", 4));
  frame.binary = true;
  auto closed = event(tape_kind::closed, 6, 7, "reset by peer");
  closed.end = link_end::connection_lost;
  closed.http_status = 406;
  closed.close_code = 1006;
  auto trading = event(tape_kind::connect, 7, 8, "ws://127.0.0.1:1/stream");
  trading.trading = true;
  return {connect,
          event(tape_kind::opened, 2, 7),
          frame,
          event(tape_kind::outbound, 4, 7, R"({"action":"subscribe"})"),
          event(tape_kind::close_requested, 5, 7),
          closed,
          trading};
}

std::string encode(const std::vector<tape_event>& xs) {
  auto out = tape_header();
  for (auto& x : xs)
    append_record(x, out);
  return out;
}

// The offsets at which each record starts.
std::vector<size_t> record_starts(const std::vector<tape_event>& xs) {
  std::vector<size_t> result;
  auto out = tape_header();
  for (auto& x : xs) {
    result.push_back(out.size());
    append_record(x, out);
  }
  return result;
}

std::string temp_path(const char* name) {
  return "/tmp/athanor-unit-tape-" + std::to_string(getpid()) + "-" + name;
}

bool exists(const std::string& path) {
  return std::ifstream{path}.good();
}

} // namespace

CAF_TEST(every kind of event reads back as written) {
  auto xs = every_kind();
  auto read = read_tape(encode(xs));
  CAF_REQUIRE(!read.problem);
  CAF_REQUIRE_EQUAL(read.events.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    CAF_CHECK(read.events[i] == xs[i]);
}

CAF_TEST(a tape cut anywhere keeps every whole record and names the cut) {
  auto xs = every_kind();
  auto bytes = encode(xs);
  auto starts = record_starts(xs);
  for (size_t cut = tape_header_size; cut < bytes.size(); ++cut) {
    auto read = read_tape(std::string_view{bytes}.substr(0, cut));
    auto whole = static_cast<size_t>(
      std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin()) - 1;
    if (cut == starts[whole]) {
      // Cut between records: a shorter but whole tape.
      CAF_CHECK(!read.problem);
      CAF_CHECK_EQUAL(read.events.size(), whole);
      continue;
    }
    CAF_REQUIRE(read.problem);
    CAF_CHECK_EQUAL(read.problem->offset, starts[whole]);
    CAF_CHECK_NOT_EQUAL(read.problem->message.find("truncated"),
                        std::string::npos);
    CAF_CHECK_EQUAL(read.events.size(), whole);
  }
}

CAF_TEST(a flipped byte is a checksum mismatch at its record) {
  auto xs = every_kind();
  auto bytes = encode(xs);
  auto starts = record_starts(xs);
  // A byte inside the third record's frame.
  auto at = starts[2] + 4 + 17 + 2;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
  auto read = read_tape(bytes);
  CAF_REQUIRE(read.problem);
  CAF_CHECK_EQUAL(read.problem->offset, starts[2]);
  CAF_CHECK_EQUAL(to_string(*read.problem),
                  "byte " + std::to_string(starts[2]) + ": checksum mismatch");
  CAF_CHECK_EQUAL(read.events.size(), 2u);
}

CAF_TEST(a wrong header or a huge size is refused naming the byte) {
  auto read = read_tape("{\"T\":\"q\"}  not a tape at all");
  CAF_REQUIRE(read.problem);
  CAF_CHECK_EQUAL(read.problem->offset, 0u);
  auto bytes = encode(every_kind());
  auto newer = bytes;
  newer[8] = 2;
  read = read_tape(newer);
  CAF_REQUIRE(read.problem);
  CAF_CHECK_EQUAL(read.problem->offset, 8u);
  CAF_CHECK_NOT_EQUAL(read.problem->message.find("version 2"),
                      std::string::npos);
  auto huge = bytes;
  huge[tape_header_size + 3] = '\x7f';
  read = read_tape(huge);
  CAF_REQUIRE(read.problem);
  CAF_CHECK_EQUAL(read.problem->offset, tape_header_size);
  CAF_CHECK_NOT_EQUAL(read.problem->message.find("record size"),
                      std::string::npos);
  CAF_CHECK(read.events.empty());
}

CAF_TEST(the crc is the ieee one) {
  CAF_CHECK_EQUAL(crc32("123456789"), 0xCBF43926u);
  CAF_CHECK_EQUAL(crc32(""), 0u);
}

CAF_TEST(an auth message reaches the tape as a fingerprint only) {
  credentials creds{secret{"CANARYKEY"}, secret{"CANARYSECRET"}};
  auto json = std::string{R"({"action":"auth","key":"CANARYKEY","secret":"CANARYSECRET"})"};
  auto stored = redact_outbound(json, false);
  CAF_CHECK_EQUAL(stored.find("CANARY"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(stored.find(creds.fingerprint()), std::string::npos);
  auto packed = protocol::json_to_msgpack(json);
  auto stored_packed = redact_outbound(packed, true);
  CAF_CHECK_EQUAL(stored_packed.find("CANARY"), std::string::npos);
  // Something that mentions auth and does not decode is not kept either.
  CAF_CHECK_EQUAL(redact_outbound(R"({"action":"auth","secret":"CANARY)", false)
                    .find("CANARY"),
                  std::string::npos);
  // Subscriptions are kept byte for byte, even one naming AUTH.
  auto sub = std::string{R"({"action":"subscribe","quotes":["AUTH"]})"};
  CAF_CHECK_EQUAL(redact_outbound(sub, false), sub);
}

CAF_TEST(files rotate at their size and keep the newest) {
  auto path = temp_path("rotate");
  tape_file_options opts{path, 4096, 3};
  auto frame = event(tape_kind::inbound, 0, 1, std::string(1000, 'x'));
  {
    tape_file_writer w{opts};
    CAF_REQUIRE_EQUAL(w.open(), "");
    for (int i = 0; i < 20; ++i) {
      frame.time = i;
      CAF_REQUIRE_EQUAL(w.write(frame), "");
      CAF_CHECK_LESS_OR_EQUAL(w.file_bytes(), 4096u);
    }
    CAF_CHECK_GREATER_OR_EQUAL(w.rotations(), 4u);
  }
  CAF_CHECK(exists(path));
  CAF_CHECK(exists(path + ".1"));
  CAF_CHECK(exists(path + ".2"));
  CAF_CHECK(!exists(path + ".3"));
  // Oldest first, the files are one tape whose times count up to the last.
  auto tape = load_tape_files({path + ".2", path + ".1", path});
  CAF_REQUIRE(!tape.problem);
  CAF_REQUIRE(!tape.events.empty());
  CAF_CHECK_EQUAL(tape.events.back().time, 19);
  for (size_t i = 1; i < tape.events.size(); ++i)
    CAF_CHECK_EQUAL(tape.events[i].time, tape.events[i - 1].time + 1);
  for (auto suffix : {"", ".1", ".2"})
    std::remove((path + suffix).c_str());
}

CAF_TEST(a missing file is named) {
  auto tape = load_tape_files({"/nonexistent/athanor.tape"});
  CAF_REQUIRE(tape.problem);
  CAF_CHECK_NOT_EQUAL(tape.problem->find("/nonexistent/athanor.tape"),
                      std::string::npos);
}

// -- playback -------------------------------------------------------------

namespace {

using step_kind = tape_playback::step_kind;

// welcome, auth out, authenticated, subscribe out, ack, three data frames.
tape_connection handshake_then_data(uint64_t epoch, bool ends_by_request) {
  tape_connection c;
  c.events.push_back(event(tape_kind::connect, 0, epoch, "ws://x/v2/iex"));
  c.events.push_back(event(tape_kind::opened, 1, epoch));
  c.events.push_back(event(tape_kind::inbound, 2, epoch, "welcome"));
  c.events.push_back(event(tape_kind::outbound, 3, epoch, "auth"));
  c.events.push_back(event(tape_kind::inbound, 4, epoch, "authenticated"));
  c.events.push_back(event(tape_kind::outbound, 5, epoch, "subscribe"));
  for (int i = 0; i < 4; ++i)
    c.events.push_back(event(tape_kind::inbound, 6 + i, epoch, "data"));
  if (ends_by_request)
    c.events.push_back(event(tape_kind::close_requested, 20, epoch));
  c.events.push_back(event(tape_kind::closed, 21, epoch));
  return c;
}

std::string take(tape_playback& p) {
  auto s = p.next();
  std::string result;
  switch (s.kind) {
    case step_kind::open: result = "open"; break;
    case step_kind::frame: result = s.event->data; break;
    case step_kind::close: result = "close"; break;
    case step_kind::wait: return "wait";
    case step_kind::end: return "end";
  }
  p.done();
  return result;
}

} // namespace

CAF_TEST(a reply waits for what the session sends and frames for credit) {
  tape_playback p{handshake_then_data(1, false), false, 2};
  CAF_CHECK_EQUAL(take(p), "open");
  CAF_CHECK_EQUAL(take(p), "welcome");
  // "authenticated" came after the auth message: not before ours.
  CAF_CHECK_EQUAL(take(p), "wait");
  CAF_CHECK_EQUAL(take(p), "wait");
  p.on_sent();
  CAF_CHECK_EQUAL(take(p), "authenticated");
  // Two frames out, none acknowledged: the credit is used up.
  CAF_CHECK_EQUAL(take(p), "wait");
  p.on_ack(2);
  p.on_sent();
  CAF_CHECK_EQUAL(take(p), "data");
  CAF_CHECK_EQUAL(take(p), "data");
  CAF_CHECK_EQUAL(take(p), "wait");
  p.on_ack(1);
  CAF_CHECK_EQUAL(take(p), "data");
  p.on_ack(1);
  CAF_CHECK_EQUAL(take(p), "data");
  // A connection the server ended: played as it ended.
  CAF_CHECK_EQUAL(take(p), "close");
}

CAF_TEST(the runs own end is where the last connection ends) {
  tape_playback p{handshake_then_data(1, true), true, 64};
  p.on_sent();
  p.on_sent();
  for (int i = 0; i < 8; ++i)
    take(p);
  // The close the run asked for is not played: the replay ends there, once
  // every frame is acknowledged.
  CAF_CHECK_EQUAL(take(p), "wait");
  p.on_ack(7);
  CAF_CHECK_EQUAL(take(p), "end");
  CAF_CHECK_EQUAL(take(p), "end");
}

CAF_TEST(a close the engine made mid tape is played as it ended) {
  tape_playback p{handshake_then_data(1, true), false, 64};
  p.on_sent();
  p.on_sent();
  for (int i = 0; i < 8; ++i)
    take(p);
  CAF_CHECK_EQUAL(take(p), "close");
}

CAF_TEST(a tape that stops within a connection closes it) {
  auto c = handshake_then_data(1, false);
  c.events.pop_back();
  tape_playback p{c, false, 64};
  p.on_sent();
  p.on_sent();
  for (int i = 0; i < 8; ++i)
    take(p);
  auto s = p.next();
  CAF_CHECK(s.kind == step_kind::close);
  CAF_CHECK(s.event == nullptr);
}

CAF_TEST(connections are told apart by epoch and trading ones left out) {
  std::vector<tape_event> xs;
  auto a = handshake_then_data(1, false).events;
  auto b = handshake_then_data(2, false).events;
  auto trading = event(tape_kind::connect, 0, 3, "ws://x/stream");
  trading.trading = true;
  // Interleaved as two sessions' events would be.
  xs.push_back(a[0]);
  xs.push_back(trading);
  xs.push_back(event(tape_kind::inbound, 1, 3, "order update"));
  for (size_t i = 1; i < a.size(); ++i) {
    xs.push_back(a[i]);
    if (i == 3)
      xs.push_back(b[0]);
    if (i > 3 && i - 3 < b.size())
      xs.push_back(b[i - 3]);
  }
  // Events of an unknown connection (a rotated file's start) are skipped.
  xs.insert(xs.begin(), event(tape_kind::inbound, 0, 99, "stray"));
  auto cs = connections_of(xs);
  CAF_REQUIRE_EQUAL(cs.size(), 2u);
  CAF_CHECK_EQUAL(cs[0].events.size(), a.size());
  CAF_CHECK_EQUAL(cs[1].events.front().epoch, 2u);
  for (auto& c : cs)
    for (auto& x : c.events)
      CAF_CHECK_NOT_EQUAL(x.data, "order update");
}
