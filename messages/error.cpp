#include "messages/error.hpp"

#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/deep_to_string.hpp"
#include "caf/make_message.hpp"
#include "caf/message.hpp"
#include "caf/sec.hpp"

namespace athanor {

caf::atom_value error_category() {
  return caf::atom("athanor");
}

caf::error make_error(engine_errc x) {
  return caf::error{static_cast<uint8_t>(x), error_category()};
}

caf::error make_error(engine_errc x, std::string detail) {
  return caf::error{static_cast<uint8_t>(x), error_category(),
                    caf::make_message(std::move(detail))};
}

caf::error make_retry_error(engine_errc x,
                            std::chrono::nanoseconds retry_after) {
  return caf::error{static_cast<uint8_t>(x), error_category(),
                    caf::make_message(caf::timespan{retry_after})};
}

std::optional<engine_errc> errc_of(const caf::error& err) {
  if (!err || err.category() != error_category())
    return std::nullopt;
  return static_cast<engine_errc>(err.code());
}

std::optional<std::chrono::nanoseconds> retry_after(const caf::error& err) {
  if (!errc_of(err))
    return std::nullopt;
  auto& ctx = err.context();
  if (ctx.match_elements<caf::timespan>())
    return ctx.get_as<caf::timespan>(0);
  return std::nullopt;
}

std::string detail_of(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  if (ctx.empty())
    return {};
  return caf::deep_to_string(ctx);
}

error_class classify(const caf::error& err) {
  if (auto x = errc_of(err))
    return classify(*x);
  return error_class::retryable;
}

namespace {

std::string render_athanor(uint8_t code, const caf::message& ctx) {
  std::string result = "athanor.";
  result += to_string(static_cast<engine_errc>(code));
  if (ctx.match_elements<std::string>()) {
    result += ": ";
    result += ctx.get_as<std::string>(0);
  } else if (ctx.match_elements<caf::timespan>()) {
    result += ": retry after ";
    result += caf::deep_to_string(ctx.get_as<caf::timespan>(0));
  } else if (!ctx.empty()) {
    result += ": ";
    result += caf::deep_to_string(ctx);
  }
  return result;
}

} // namespace

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == error_category())
    return render_athanor(err.code(), err.context());
  return caf::to_string(err);
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category(), [](uint8_t code, caf::atom_value,
                                              const caf::message& ctx) {
    return render_athanor(code, ctx);
  });
}

} // namespace athanor
