#include "sim/simulator.hpp"

#include <cstdlib>

namespace athanor::sim {

namespace {

std::string stats_json(const market_stats& x) {
  auto field = [](const char* name, uint64_t value) {
    return std::string{"\""} + name + "\":" + std::to_string(value);
  };
  return "{" + field("connections_opened", x.connections_opened) + ","
         + field("connections_open", x.connections_open) + ","
         + field("authenticated", x.authenticated) + ","
         + field("frames_sent", x.frames_sent) + ","
         + field("records_sent", x.records_sent) + ","
         + field("errors_sent", x.errors_sent) + ","
         + field("slow_client_drops", x.slow_client_drops) + ","
         + field("upgrades_refused", x.upgrades_refused) + "}";
}

} // namespace

simulator::simulator(simulator_options opts) {
  if (opts.accounts.empty())
    opts.accounts.push_back({default_key, default_secret, {}, 0, true});
  hub_ = std::make_unique<market_hub>(opts.accounts, std::move(opts.market));
  broker_ = std::make_unique<broker>(
    opts.accounts, std::move(opts.broker),
    [hub = hub_.get()](const std::string& symbol) {
      return hub->price_of(symbol);
    });
  // The market-data API's history, served as the REST API is (its keys,
  // rate limit and faults), from what the tape generated.
  broker_->serve_history([hub = hub_.get()](const history_request& req) {
    return hub->history(req);
  });
  transport::server_callbacks callbacks;
  callbacks.on_upgrade = [this](const transport::http_request& req) {
    if (auto decision = hub_->on_upgrade(req))
      return *decision;
    if (auto decision = broker_->on_upgrade(req)) {
      if (hub_->storming_429()) {
        transport::upgrade_decision refused;
        refused.rejection = transport::json_response(
          429, R"({"message":"too many requests"})");
        return refused;
      }
      return *decision;
    }
    transport::upgrade_decision none;
    none.rejection = transport::json_response(404,
                                              R"({"message":"not found"})");
    return none;
  };
  callbacks.on_http = [this](const transport::http_request& req) {
    return on_http(req);
  };
  opts.listen.server_name = "athanor-sim";
  server_ = std::make_unique<transport::server>(opts.listen,
                                                std::move(callbacks));
  hub_->start(*server_);
  broker_->start(*server_);
}

simulator::~simulator() {
  // The server thread goes first: nothing may run on the hub after this.
  server_.reset();
}

uint16_t simulator::port() const {
  return server_->port();
}

void simulator::refuse_tls_for(std::chrono::nanoseconds duration) {
  server_->refuse_tls(true);
  server_->schedule(duration, [this] { server_->refuse_tls(false); });
}

bool simulator::apply_fault(const std::string& kind,
                            std::chrono::nanoseconds duration,
                            const std::map<std::string, std::string>& args) {
  auto arg = [&args](const char* name) {
    auto i = args.find(name);
    return i == args.end() ? std::string{} : i->second;
  };
  if (kind == "close")
    hub_->close_all();
  else if (kind == "reset")
    hub_->reset_all();
  else if (kind == "stall")
    hub_->stall_all();
  else if (kind == "malformed")
    hub_->send_malformed();
  else if (kind == "storm406")
    hub_->storm_406(duration);
  else if (kind == "storm429")
    hub_->storm_429(duration);
  else if (kind == "delay")
    hub_->delay(duration);
  else if (kind == "rest500")
    broker_->fail_requests(
      static_cast<uint32_t>(std::max(1, std::atoi(arg("count").c_str()))),
      arg("after") == "1" ? rest_fault::fail_after : rest_fault::fail_before);
  else if (kind == "rest_slow")
    broker_->slow_requests(
      static_cast<uint32_t>(std::max(1, std::atoi(arg("count").c_str()))),
      duration);
  else if (kind == "stream_reset")
    broker_->reset_streams();
  else if (kind == "tls_refuse")
    refuse_tls_for(duration);
  else
    return false;
  return true;
}

void simulator::run_scenario(std::vector<scenario_step> steps) {
  for (auto& step : steps)
    server_->schedule(step.at, [this, step] {
      apply_fault(step.fault, step.duration, step.args);
    });
}

transport::http_response
simulator::on_http(const transport::http_request& req) {
  auto path = req.path();
  if (req.method == "GET" && path == "/sim/stats")
    return transport::json_response(200, stats_json(hub_->stats()));
  const std::string faults = "/sim/faults/";
  if (req.method == "POST" && path.rfind(faults, 0) == 0) {
    auto kind = path.substr(faults.size());
    std::map<std::string, std::string> args{{"count", req.query("count")},
                                            {"after", req.query("after")}};
    auto ms = std::chrono::milliseconds{
      std::strtoll(req.query("ms").c_str(), nullptr, 10)};
    if (!apply_fault(kind, ms, args))
      return transport::json_response(404, R"({"message":"unknown fault"})");
    return transport::json_response(200, R"({"fault":")" + kind + "\"}");
  }
  if (auto res = broker_->on_http(req))
    return *res;
  return transport::json_response(404,
                                  R"({"code":40410000,"message":"not found"})");
}

} // namespace athanor::sim
