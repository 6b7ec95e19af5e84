#pragma once

// The executor's rules that need no actor: when news about an order is
// stale, whether an order found under an item's client_order_id is the
// item's, what a final order means for its item, when a request is a
// replay and when a plan may run again. Pure functions, tested directly
// (tests/unit/execution_rules.cpp); the executor actor applies them.

#include <string>
#include <vector>

#include "journal/journal.hpp"
#include "messages/execution.hpp"
#include "messages/orders.hpp"

namespace athanor {

/// The item has an outcome (it is no longer pending).
bool is_done(const item_result& x);

/// Some of the item's quantity filled.
bool has_fills(const item_result& x);

/// How far along an order is (0 open, 1 partly filled or pending a cancel
/// or replace, 2 final).
int progress_of(order_status x);

/// News about `o` that would move `item` backwards (a lookup answered
/// before a fill that arrived after it): less filled, or less far along.
/// A final order is never stale.
bool is_stale(const item_result& item, const order& o);

/// The fields in which an order found under an item's client_order_id
/// differs from the item, e.g. "qty 2 (plan: 3)"; empty when it is the
/// item's order. Only fields the order carries are compared.
std::vector<std::string> differences(const plan_item& item, const order& o);

/// "a, b, c".
std::string joined(const std::vector<std::string>& xs);

/// The journal proves that no order of the plan can exist (every item
/// ended without an order and none may have been placed): it may run
/// again instead of being replayed.
bool placed_nothing(const plan_result& r);

/// A request is a replay unless it is the one that accepted the plan (the
/// executor's own re-asks carry the accepting request's id).
bool is_replay(const std::string& caller, const acceptance& accepted);

/// The item's outcome once its order is final.
item_outcome outcome_of_final(const order& o, bool deadline_passed);

/// The identity of a plan's content: what it trades, not who asked or how
/// long it may take.
std::string content_hash(plan spec);

} // namespace athanor
