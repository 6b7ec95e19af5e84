#define CAF_SUITE unit.trace
#include "messages/trace.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

CAF_TEST(a root trace starts a flow named by its own id) {
  auto root = trace::root();
  CAF_CHECK_EQUAL(root.id.size(), 16u);
  CAF_CHECK_EQUAL(root.correlation.value, root.id);
  CAF_CHECK(root.causation.value.empty());
}

CAF_TEST(a caused trace keeps the flow and points at its cause) {
  auto root = trace::root("plan-7");
  auto child = root.caused();
  auto grandchild = child.caused();
  CAF_CHECK_EQUAL(child.correlation.value, "plan-7");
  CAF_CHECK_EQUAL(child.causation.value, root.id);
  CAF_CHECK_EQUAL(grandchild.correlation.value, "plan-7");
  CAF_CHECK_EQUAL(grandchild.causation.value, child.id);
  CAF_CHECK_NOT_EQUAL(child.id, root.id);
  CAF_CHECK_NOT_EQUAL(grandchild.id, child.id);
}

CAF_TEST(ids do not repeat) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i)
    CAF_CHECK(ids.insert(new_trace_id()).second);
}
