#pragma once

// The executor's memory across restarts: one SQLite file (WAL) holding every
// plan ever accepted and the state of each of its items. A plan and all its
// items are written in one transaction before any order request leaves, so
// a plan_id seen once is never executed again, and an interrupted plan
// resumes from here. Plain class; the executor (a detached actor) owns it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/execution.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace athanor {

/// A journal that lives in memory only (SQLite's name for it): nothing
/// survives the process. For engines on the built-in simulator.
inline constexpr const char* memory_journal = ":memory:";

struct journal_options {
  /// The database file, created with its directory's permissions, or
  /// `memory_journal`.
  std::string path = "athanor-journal.db";
  /// fsync on every commit (survives power loss, not only a crash).
  bool full_sync = true;
};

enum class plan_state : uint8_t {
  /// Accepted; orders may be in flight.
  running,
  /// Every item reached a final outcome.
  done,
};

/// Who accepted a plan and when: the request that executes it is not a
/// replay of it, and its deadline counts from `at_ms` across restarts.
struct acceptance {
  /// The accepting request's id (its trace id).
  std::string origin;
  /// Wall clock, milliseconds since the epoch; 0 when unknown (a plan of an
  /// older journal).
  int64_t at_ms = 0;
};

struct journaled_plan {
  plan spec;
  /// SHA-256 of the plan's canonical JSON.
  std::string content_hash;
  plan_state state = plan_state::running;
  acceptance accepted;
  /// One per item, in item order.
  plan_result result;
};

class journal {
 public:
  /// Opens (or creates) the journal; nullopt with `error` set on failure.
  static std::unique_ptr<journal> open(const journal_options& opts,
                                       std::string& error);

  ~journal();

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Records a new plan and its items (pending, with their
  /// client_order_ids) atomically. False with `error` if it could not, e.g.
  /// because the plan_id exists.
  bool record_plan(const plan& spec, const std::string& content_hash,
                   const plan_result& initial, const acceptance& by,
                   std::string& error);

  /// Runs a finished plan again from `initial` (its content is unchanged;
  /// correlation and deadline may differ), atomically. For a plan that
  /// placed nothing; false with `error` if the plan is not finished.
  bool restart_plan(const plan& spec, const plan_result& initial,
                    const acceptance& by, std::string& error);

  /// The plan with this id, if any; `error` is set when reading failed.
  std::optional<journaled_plan> find_plan(const std::string& plan_id,
                                          std::string& error);

  /// Every plan still running, oldest first.
  std::vector<journaled_plan> running_plans(std::string& error);

  /// Stores one item's current state.
  bool update_item(const std::string& plan_id, const item_result& item,
                   std::string& error);

  /// Groups the following updates into one transaction until commit();
  /// record_plan and finish_plan commit such a transaction first.
  bool begin(std::string& error);
  bool commit(std::string& error);
  bool in_transaction() const {
    return in_transaction_;
  }

  /// Marks a plan done (its items must already be stored).
  bool finish_plan(const std::string& plan_id, std::string& error);

  const std::string& path() const {
    return path_;
  }

 private:
  journal(sqlite3* db, std::string path);

  bool exec(const char* sql, std::string& error);
  bool migrate(std::string& error);
  bool write_plan(const plan& spec, const std::string& content_hash,
                  const plan_result& initial, const acceptance& by, bool again,
                  std::string& error);
  std::optional<journaled_plan> load(const std::string& plan_id,
                                     std::string& error);

  sqlite3* db_;
  std::string path_;
  bool in_transaction_ = false;
  /// update_item's statement, prepared once.
  sqlite3_stmt* update_ = nullptr;
};

} // namespace athanor
