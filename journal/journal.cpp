#include "journal/journal.hpp"

#include <sqlite3.h>

#include "protocol/plan.hpp"

namespace athanor {

namespace {

const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS plans (
  plan_id        TEXT PRIMARY KEY,
  correlation_id TEXT NOT NULL,
  content_hash   TEXT NOT NULL,
  plan_json      TEXT NOT NULL,
  state          TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  origin         TEXT NOT NULL DEFAULT '',
  accepted_at    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
  plan_id          TEXT NOT NULL REFERENCES plans(plan_id),
  idx              INTEGER NOT NULL,
  symbol           TEXT NOT NULL,
  side             TEXT NOT NULL,
  client_order_id  TEXT NOT NULL UNIQUE,
  order_id         TEXT NOT NULL,
  outcome          TEXT NOT NULL,
  status           TEXT NOT NULL,
  filled_qty       TEXT NOT NULL,
  filled_avg_price TEXT NOT NULL,
  reason           TEXT NOT NULL,
  may_exist        INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (plan_id, idx)
);
)sql";

// Version 1 lacked who accepted a plan, when, and whether an item's order
// may exist. Its plans keep a deadline counted from their resumption, and
// their items count as possibly placed (so none is ever run again).
const char* from_version_1 = R"sql(
ALTER TABLE plans ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE plans ADD COLUMN accepted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN may_exist INTEGER NOT NULL DEFAULT 1;
)sql";

constexpr int64_t schema_version = 2;

item_outcome parse_outcome(const std::string& x) {
  for (auto o : {item_outcome::pending, item_outcome::filled,
                 item_outcome::partially_filled, item_outcome::rejected,
                 item_outcome::canceled, item_outcome::expired,
                 item_outcome::timed_out, item_outcome::not_placed,
                 item_outcome::mismatch})
    if (to_string(o) == x)
      return o;
  return item_outcome::pending;
}

std::string text_or_empty(const decimal& x) {
  return x.is_null() ? std::string{} : to_string(x);
}

decimal decimal_or_null(const std::string& x) {
  if (x.empty())
    return decimal{};
  return decimal::parse(x).value_or(decimal{});
}

// A prepared statement, finalized on scope exit.
class statement {
 public:
  statement(sqlite3* db, const char* sql) {
    sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }

  ~statement() {
    sqlite3_finalize(stmt_);
  }

  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  bool ok() const {
    return stmt_ != nullptr;
  }

  statement& bind(int i, const std::string& x) {
    sqlite3_bind_text(stmt_, i, x.data(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }

  statement& bind(int i, int64_t x) {
    sqlite3_bind_int64(stmt_, i, x);
    return *this;
  }

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() {
    return sqlite3_step(stmt_);
  }

  std::string text(int column) {
    auto p = sqlite3_column_text(stmt_, column);
    return p == nullptr ? std::string{} : reinterpret_cast<const char*>(p);
  }

  int64_t integer(int column) {
    return sqlite3_column_int64(stmt_, column);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string error_of(sqlite3* db, const char* what) {
  return std::string{what} + ": " + sqlite3_errmsg(db);
}

} // namespace

journal::journal(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)) {}

journal::~journal() {
  sqlite3_finalize(update_);
  sqlite3_close(db_);
}

bool journal::begin(std::string& error) {
  if (in_transaction_)
    return true;
  if (!exec("BEGIN IMMEDIATE", error))
    return false;
  in_transaction_ = true;
  return true;
}

bool journal::commit(std::string& error) {
  if (!in_transaction_)
    return true;
  in_transaction_ = false;
  if (exec("COMMIT", error))
    return true;
  std::string ignored;
  exec("ROLLBACK", ignored);
  return false;
}

std::unique_ptr<journal> journal::open(const journal_options& opts,
                                       std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(opts.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_FULLMUTEX,
                      nullptr)
      != SQLITE_OK) {
    error = "cannot open journal '" + opts.path
            + "': " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  // Another process (a second engine on the same file) waits briefly
  // instead of failing at once.
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<journal> result{new journal(db, opts.path)};
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                        "PRAGMA synchronous=";
  pragmas += opts.full_sync ? "FULL;" : "NORMAL;";
  if (!result->exec(pragmas.c_str(), error) || !result->migrate(error)) {
    error = "journal '" + opts.path + "': " + error;
    return nullptr;
  }
  return result;
}

bool journal::migrate(std::string& error) {
  int64_t version = 0;
  {
    statement get{db_, "PRAGMA user_version"};
    if (!get.ok() || get.step() != SQLITE_ROW) {
      error = error_of(db_, "read schema version");
      return false;
    }
    version = get.integer(0);
  }
  if (version > schema_version) {
    error = "written by a newer athanor (schema version "
            + std::to_string(version) + ", this one knows "
            + std::to_string(schema_version) + ")";
    return false;
  }
  if (version == schema_version)
    return true;
  if (!exec("BEGIN IMMEDIATE", error))
    return false;
  auto step = version == 1 ? from_version_1 : schema;
  auto set = "PRAGMA user_version = " + std::to_string(schema_version);
  if (!exec(step, error) || !exec(set.c_str(), error)) {
    std::string ignored;
    exec("ROLLBACK", ignored);
    return false;
  }
  return exec("COMMIT", error);
}

bool journal::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    error = message ? message : "unknown SQLite error";
    sqlite3_free(message);
    return false;
  }
  return true;
}

bool journal::record_plan(const plan& spec, const std::string& content_hash,
                          const plan_result& initial, const acceptance& by,
                          std::string& error) {
  return write_plan(spec, content_hash, initial, by, false, error);
}

bool journal::restart_plan(const plan& spec, const plan_result& initial,
                           const acceptance& by, std::string& error) {
  return write_plan(spec, "", initial, by, true, error);
}

bool journal::write_plan(const plan& spec, const std::string& content_hash,
                         const plan_result& initial, const acceptance& by,
                         bool again, std::string& error) {
  if (!commit(error) || !exec("BEGIN IMMEDIATE", error))
    return false;
  auto rollback = [&](std::string why) {
    std::string ignored;
    exec("ROLLBACK", ignored);
    error = std::move(why);
    return false;
  };
  if (again) {
    statement update{db_, "UPDATE plans SET correlation_id = ?, plan_json = ?, "
                          "state = 'running', origin = ?, accepted_at = ? "
                          "WHERE plan_id = ? AND state = 'done'"};
    statement drop{db_, "DELETE FROM items WHERE plan_id = ?"};
    if (!update.ok() || !drop.ok())
      return rollback(error_of(db_, "prepare"));
    update.bind(1, spec.correlation_id)
      .bind(2, protocol::encode_plan(spec))
      .bind(3, by.origin)
      .bind(4, by.at_ms)
      .bind(5, spec.plan_id);
    if (update.step() != SQLITE_DONE || sqlite3_changes(db_) != 1)
      return rollback("plan '" + spec.plan_id + "' is not a finished plan");
    drop.bind(1, spec.plan_id);
    if (drop.step() != SQLITE_DONE)
      return rollback(error_of(db_, "restart plan"));
  } else {
    statement insert{db_, "INSERT INTO plans (plan_id, correlation_id, "
                          "content_hash, plan_json, state, seq, origin, "
                          "accepted_at) VALUES (?, ?, ?, ?, 'running', "
                          "(SELECT COALESCE(MAX(seq), 0) + 1 FROM plans), ?, "
                          "?)"};
    if (!insert.ok())
      return rollback(error_of(db_, "prepare"));
    insert.bind(1, spec.plan_id)
      .bind(2, spec.correlation_id)
      .bind(3, content_hash)
      .bind(4, protocol::encode_plan(spec))
      .bind(5, by.origin)
      .bind(6, by.at_ms);
    if (insert.step() != SQLITE_DONE)
      return rollback(error_of(db_, "record plan"));
  }
  for (auto& item : initial.items) {
    statement insert{db_, "INSERT INTO items (plan_id, idx, symbol, side, "
                          "client_order_id, order_id, outcome, status, "
                          "filled_qty, filled_avg_price, reason, may_exist) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
    if (!insert.ok())
      return rollback(error_of(db_, "prepare"));
    insert.bind(1, spec.plan_id)
      .bind(2, int64_t{item.index})
      .bind(3, item.symbol)
      .bind(4, to_string(item.side))
      .bind(5, item.client_order_id)
      .bind(6, item.order_id)
      .bind(7, to_string(item.outcome))
      .bind(8, to_string(item.status))
      .bind(9, text_or_empty(item.filled_qty))
      .bind(10, text_or_empty(item.filled_avg_price))
      .bind(11, item.reason)
      .bind(12, int64_t{item.order_may_exist ? 1 : 0});
    if (insert.step() != SQLITE_DONE)
      return rollback(error_of(db_, "record item"));
  }
  return exec("COMMIT", error) || rollback(error);
}

std::optional<journaled_plan> journal::load(const std::string& plan_id,
                                            std::string& error) {
  statement get{db_, "SELECT plan_json, content_hash, state, origin, "
                     "accepted_at FROM plans WHERE plan_id = ?"};
  if (!get.ok()) {
    error = error_of(db_, "prepare");
    return std::nullopt;
  }
  get.bind(1, plan_id);
  auto rc = get.step();
  if (rc == SQLITE_DONE)
    return std::nullopt;
  if (rc != SQLITE_ROW) {
    error = error_of(db_, "read plan");
    return std::nullopt;
  }
  journaled_plan result;
  std::vector<config_problem> problems;
  if (!protocol::decode_plan(get.text(0), result.spec, problems)) {
    error = "journaled plan '" + plan_id + "' does not decode: "
            + to_string(problems);
    return std::nullopt;
  }
  result.content_hash = get.text(1);
  result.state = get.text(2) == "done" ? plan_state::done : plan_state::running;
  result.accepted.origin = get.text(3);
  result.accepted.at_ms = get.integer(4);
  result.result.plan_id = result.spec.plan_id;
  result.result.correlation_id = result.spec.correlation_id;
  statement items{db_, "SELECT idx, symbol, side, client_order_id, order_id, "
                       "outcome, status, filled_qty, filled_avg_price, reason, "
                       "may_exist FROM items WHERE plan_id = ? ORDER BY idx"};
  items.bind(1, plan_id);
  while ((rc = items.step()) == SQLITE_ROW) {
    item_result x;
    x.index = static_cast<uint32_t>(items.integer(0));
    x.symbol = items.text(1);
    x.side = parse_order_side(items.text(2)).value_or(order_side::buy);
    x.client_order_id = items.text(3);
    x.order_id = items.text(4);
    x.outcome = parse_outcome(items.text(5));
    x.status = parse_order_status(items.text(6));
    x.filled_qty = decimal_or_null(items.text(7));
    x.filled_avg_price = decimal_or_null(items.text(8));
    x.reason = items.text(9);
    x.order_may_exist = items.integer(10) != 0;
    result.result.items.push_back(std::move(x));
  }
  if (rc != SQLITE_DONE) {
    error = error_of(db_, "read items");
    return std::nullopt;
  }
  return result;
}

std::optional<journaled_plan> journal::find_plan(const std::string& plan_id,
                                                 std::string& error) {
  return load(plan_id, error);
}

std::vector<journaled_plan> journal::running_plans(std::string& error) {
  std::vector<std::string> ids;
  {
    statement list{db_, "SELECT plan_id FROM plans WHERE state = 'running' "
                        "ORDER BY seq"};
    int rc;
    while ((rc = list.step()) == SQLITE_ROW)
      ids.push_back(list.text(0));
    if (rc != SQLITE_DONE) {
      error = error_of(db_, "list running plans");
      return {};
    }
  }
  std::vector<journaled_plan> result;
  for (auto& id : ids)
    if (auto x = load(id, error))
      result.push_back(std::move(*x));
  return result;
}

bool journal::update_item(const std::string& plan_id, const item_result& item,
                          std::string& error) {
  if (update_ == nullptr
      && sqlite3_prepare_v2(db_,
                            "UPDATE items SET order_id = ?, outcome = ?, "
                            "status = ?, filled_qty = ?, filled_avg_price = ?, "
                            "reason = ?, may_exist = ? WHERE plan_id = ? AND "
                            "idx = ?",
                            -1, &update_, nullptr)
           != SQLITE_OK) {
    error = error_of(db_, "prepare update");
    return false;
  }
  auto text = [this](int i, const std::string& x) {
    sqlite3_bind_text(update_, i, x.data(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
  };
  text(1, item.order_id);
  text(2, to_string(item.outcome));
  text(3, to_string(item.status));
  text(4, text_or_empty(item.filled_qty));
  text(5, text_or_empty(item.filled_avg_price));
  text(6, item.reason);
  sqlite3_bind_int64(update_, 7, item.order_may_exist ? 1 : 0);
  text(8, plan_id);
  sqlite3_bind_int64(update_, 9, item.index);
  auto rc = sqlite3_step(update_);
  sqlite3_reset(update_);
  if (rc != SQLITE_DONE) {
    error = error_of(db_, "update item");
    return false;
  }
  return true;
}

bool journal::finish_plan(const std::string& plan_id, std::string& error) {
  if (!commit(error))
    return false;
  statement update{db_, "UPDATE plans SET state = 'done' WHERE plan_id = ?"};
  update.bind(1, plan_id);
  if (update.step() != SQLITE_DONE) {
    error = error_of(db_, "finish plan");
    return false;
  }
  return true;
}

} // namespace athanor
