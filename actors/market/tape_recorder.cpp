#include "actors/market/tape_recorder.hpp"

#include "caf/actor_system.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

// Buffered records reach the file at least this often.
constexpr auto flush_interval = std::chrono::milliseconds{200};

struct recorder_state {
  std::shared_ptr<tape_file_writer> writer;
  std::string path;
  bool flush_armed = false;
  /// Set after a write failed: recording stops, the engine goes on.
  bool failed = false;
  uint64_t records = 0;
  uint64_t write_errors = 0;
  static inline const char* name = "athanor.tape_recorder";
};

using recorder_pointer = tape_recorder_actor::stateful_pointer<recorder_state>;

void note_failure(recorder_pointer self, const std::string& problem) {
  auto& st = self->state;
  ++st.write_errors;
  if (st.failed)
    return;
  st.failed = true;
  log::error("tape_recorder", "recording_stopped",
             {{"file", st.path}, {"error", problem}});
}

tape_recorder_actor::behavior_type
recorder_impl(recorder_pointer self, std::shared_ptr<tape_file_writer> writer,
              std::string path) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.writer = std::move(writer);
  st.path = std::move(path);
  // The writer flushes and closes the file when the state goes, however
  // the actor ends.
  log::info("tape_recorder", "recording", {{"file", st.path}});
  return {
    [self](tape_event& x) {
      auto& st = self->state;
      if (st.failed)
        return;
      auto rotations = st.writer->rotations();
      if (auto err = st.writer->write(x); !err.empty()) {
        note_failure(self, err);
        return;
      }
      ++st.records;
      if (st.writer->rotations() != rotations)
        log::info("tape_recorder", "rotated",
                  {{"file", st.path}, {"rotations", st.writer->rotations()}});
      if (!st.flush_armed) {
        st.flush_armed = true;
        self->delayed_send(self, flush_interval, flush_atom::value);
      }
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_armed = false;
      if (st.failed)
        return;
      if (auto err = st.writer->flush(); !err.empty())
        note_failure(self, err);
    },
    [self](shutdown_atom) {
      auto& st = self->state;
      log::info("tape_recorder", "recording_ended",
                {{"file", st.path},
                 {"records", st.records},
                 {"rotations", st.writer->rotations()}});
      self->quit();
    },
    [self](metrics_atom) {
      auto& st = self->state;
      std::map<std::string, std::string> labels{{"file", st.path}};
      auto counter = [&](const char* name, uint64_t x) {
        return metric_sample{name, metric_kind::counter, labels,
                             static_cast<double>(x)};
      };
      return metric_samples{
        counter("athanor_tape_records_total", st.records),
        counter("athanor_tape_bytes_total", st.writer->bytes_total()),
        counter("athanor_tape_rotations_total", st.writer->rotations()),
        counter("athanor_tape_write_errors_total", st.write_errors),
        {"athanor_tape_file_bytes", metric_kind::gauge, labels,
         static_cast<double>(st.writer->file_bytes())},
        {"athanor_tape_recording", metric_kind::gauge, labels,
         st.failed ? 0.0 : 1.0},
      };
    },
  };
}

// Reports the transport's side of a link (on the I/O thread).
class recorder_tap : public link_tap {
 public:
  explicit recorder_tap(tape_recorder_actor recorder)
    : recorder_(std::move(recorder)) {}

  void opened(uint64_t epoch, timestamp_ns at) override {
    tape_event x;
    x.kind = tape_kind::opened;
    x.time = at;
    x.epoch = epoch;
    caf::anon_send(recorder_, std::move(x));
  }

  void inbound(uint64_t epoch, timestamp_ns at, bool binary,
               const std::string& frame) override {
    tape_event x;
    x.kind = tape_kind::inbound;
    x.time = at;
    x.epoch = epoch;
    x.binary = binary;
    x.data = frame;
    caf::anon_send(recorder_, std::move(x));
  }

  void closed(uint64_t epoch, timestamp_ns at,
              const link_closed& how) override {
    tape_event x;
    x.kind = tape_kind::closed;
    x.time = at;
    x.epoch = epoch;
    x.end = how.reason;
    x.http_status = static_cast<uint16_t>(how.http_status);
    x.close_code = how.close_code;
    x.data = how.detail;
    caf::anon_send(recorder_, std::move(x));
  }

 private:
  tape_recorder_actor recorder_;
};

// Reports the session's side of a link: what it sends, when it closes.
class recording_link : public link {
 public:
  recording_link(std::unique_ptr<link> inner, tape_recorder_actor recorder,
                 uint64_t epoch, bool binary)
    : inner_(std::move(inner)),
      recorder_(std::move(recorder)),
      epoch_(epoch),
      binary_(binary) {}

  void send(std::string frame) override {
    tape_event x;
    x.kind = tape_kind::outbound;
    x.time = link_clock_ns();
    x.epoch = epoch_;
    x.binary = binary_;
    x.data = redact_outbound(frame, binary_);
    caf::anon_send(recorder_, std::move(x));
    inner_->send(std::move(frame));
  }

  void ack(size_t frames) override {
    inner_->ack(frames);
  }

  void close() override {
    tape_event x;
    x.kind = tape_kind::close_requested;
    x.time = link_clock_ns();
    x.epoch = epoch_;
    caf::anon_send(recorder_, std::move(x));
    inner_->close();
  }

 private:
  std::unique_ptr<link> inner_;
  tape_recorder_actor recorder_;
  uint64_t epoch_;
  bool binary_;
};

class recording_link_factory : public link_factory {
 public:
  recording_link_factory(std::shared_ptr<link_factory> inner,
                         tape_recorder_actor recorder)
    : inner_(std::move(inner)),
      recorder_(recorder),
      tap_(std::make_shared<recorder_tap>(std::move(recorder))) {}

  std::unique_ptr<link> open(link_request req) override {
    if (req.trading)
      return inner_->open(std::move(req));
    tape_event x;
    x.kind = tape_kind::connect;
    x.time = link_clock_ns();
    x.epoch = req.epoch;
    x.data = req.url;
    x.msgpack = req.encoding == protocol::codec::msgpack;
    caf::anon_send(recorder_, std::move(x));
    auto epoch = req.epoch;
    auto binary = req.encoding == protocol::codec::msgpack;
    req.tap = tap_;
    return std::make_unique<recording_link>(inner_->open(std::move(req)),
                                            recorder_, epoch, binary);
  }

 private:
  std::shared_ptr<link_factory> inner_;
  tape_recorder_actor recorder_;
  std::shared_ptr<recorder_tap> tap_;
};

} // namespace

caf::expected<tape_recorder_actor>
spawn_tape_recorder(caf::actor_system& sys, tape_file_options opts) {
  auto path = opts.path;
  auto writer = std::make_shared<tape_file_writer>(std::move(opts));
  if (auto err = writer->open(); !err.empty())
    return make_error(engine_errc::invalid_config,
                      "athanor.record.file: " + err);
  return sys.spawn<caf::detached>(recorder_impl, std::move(writer),
                                  std::move(path));
}

std::shared_ptr<link_factory>
make_recording_link_factory(std::shared_ptr<link_factory> inner,
                            tape_recorder_actor recorder) {
  return std::make_shared<recording_link_factory>(std::move(inner),
                                                  std::move(recorder));
}

} // namespace athanor
