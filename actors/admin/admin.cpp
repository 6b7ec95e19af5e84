#include "actors/admin/admin.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/process_metrics.hpp"
#include "observability/prometheus.hpp"

namespace athanor {

namespace {

// What one request gathers from the engine's actors.
struct gathered {
  std::vector<upstream_health> upstreams;
  metric_samples samples;
  /// Answers still outstanding.
  size_t pending = 0;
  bool health_known = false;
};

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, const std::string& x) {
  w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
}

std::string status_json(const gathered& g) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  w.Key("upstreams");
  w.StartArray();
  for (auto& u : g.upstreams) {
    w.StartObject();
    w.Key("name");
    write_string(w, u.name);
    w.Key("endpoint");
    write_string(w, u.endpoint);
    w.Key("key");
    write_string(w, u.fingerprint);
    w.Key("state");
    write_string(w, to_string(u.state));
    w.Key("epoch");
    w.Uint64(u.epoch);
    w.Key("leases");
    w.Uint(u.leases);
    w.Key("restarts");
    w.Uint(u.restarts);
    w.Key("last_error");
    write_string(w, u.last_error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("metrics");
  w.StartArray();
  for (auto& x : g.samples) {
    w.StartObject();
    w.Key("name");
    write_string(w, x.name);
    w.Key("kind");
    write_string(w, to_string(x.kind));
    w.Key("labels");
    w.StartObject();
    for (auto& [key, value] : x.labels) {
      write_string(w, key);
      write_string(w, value);
    }
    w.EndObject();
    w.Key("value");
    w.Double(x.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// Ready: every upstream someone leases is streaming.
bool ready(const gathered& g) {
  if (!g.health_known)
    return false;
  for (auto& u : g.upstreams)
    if (u.leases > 0 && u.state != session_state::streaming)
      return false;
  return true;
}

struct admin_state {
  admin_config cfg;
  uint64_t requests = 0;
  static inline const char* name = "athanor.admin";
};

using admin_pointer = admin_actor::stateful_pointer<admin_state>;

void answer(admin_pointer self, const admin_query& q, const gathered& g) {
  auto& path = q.path;
  if (path == "/metrics") {
    auto samples = g.samples;
    samples.push_back({"athanor_admin_requests_total",
                       metric_kind::counter,
                       {},
                       static_cast<double>(self->state.requests)});
    auto process = process_metrics();
    samples.insert(samples.end(), process.begin(), process.end());
    q.answer->send(200, "text/plain; version=0.0.4; charset=utf-8",
                   to_prometheus(samples));
  } else if (path == "/readyz") {
    auto ok = ready(g);
    q.answer->send(ok ? 200 : 503, "application/json", status_json(g));
  } else {
    q.answer->send(200, "application/json", status_json(g));
  }
}

// Asks every source, then answers once all have answered (or failed).
void gather_and_answer(admin_pointer self, admin_query q) {
  auto g = std::make_shared<gathered>();
  auto& cfg = self->state.cfg;
  auto done = [self, q, g] {
    if (--g->pending == 0)
      answer(self, q, *g);
  };
  auto with_metrics = q.path != "/readyz";
  g->pending = 1; // released below, after every request is out
  if (cfg.connections) {
    ++g->pending;
    self->request(cfg.connections, cfg.query_timeout, caf::get_atom::value)
      .then(
        [g, done](std::vector<upstream_health>& xs) {
          // Before the trading stream's entry, whenever that came.
          g->upstreams.insert(g->upstreams.begin(), xs.begin(), xs.end());
          g->health_known = true;
          done();
        },
        [done](caf::error&) { done(); });
  } else {
    g->health_known = true;
  }
  if (cfg.trading_desk) {
    ++g->pending;
    auto timeout = cfg.query_timeout;
    auto unknown = [g, done](const std::string& why) {
      upstream_health x;
      x.name = "trading";
      x.state = session_state::stopped;
      x.leases = 1;
      x.last_error = why;
      g->upstreams.push_back(std::move(x));
      done();
    };
    self->request(cfg.trading_desk, timeout, which_atom::value,
                  std::string{"trading"})
      .then(
        [self, g, done, unknown, timeout](caf::actor& exec) {
          self->request(exec, timeout, caf::get_atom::value)
            .then(
              [g, done](session_status& s) {
                upstream_health x;
                x.name = "trading";
                x.endpoint = s.endpoint;
                x.fingerprint = s.fingerprint;
                x.state = s.state;
                x.epoch = s.epoch;
                x.leases = 1;
                x.last_error = s.last_error;
                x.last_errc = s.last_errc;
                g->upstreams.push_back(std::move(x));
                done();
              },
              [unknown](caf::error& err) { unknown(render(err)); });
        },
        [unknown](caf::error& err) { unknown(render(err)); });
  }
  if (with_metrics) {
    std::vector<caf::actor> sources = cfg.metric_sources;
    if (cfg.connections)
      sources.push_back(caf::actor_cast<caf::actor>(cfg.connections));
    for (auto& source : sources) {
      ++g->pending;
      self->request(source, cfg.query_timeout, metrics_atom::value)
        .then(
          [g, done](metric_samples& xs) {
            g->samples.insert(g->samples.end(), xs.begin(), xs.end());
            done();
          },
          [done](caf::error&) { done(); });
    }
  }
  done();
}

admin_actor::behavior_type admin_impl(admin_pointer self, admin_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  return {
    [self](admin_query& q) {
      ++self->state.requests;
      if (!q.answer)
        return;
      if (q.path == "/healthz") {
        q.answer->send(200, "text/plain; charset=utf-8", "ok\n");
      } else if (q.path == "/status" || q.path == "/") {
        q.answer->send(200, "text/html; charset=utf-8", status_page());
      } else if (q.path == "/readyz" || q.path == "/metrics"
                 || q.path == "/status.json") {
        gather_and_answer(self, std::move(q));
      } else {
        q.answer->send(404, "text/plain; charset=utf-8",
                       "not found; try /healthz /readyz /metrics /status\n");
      }
    },
  };
}

} // namespace

caf::expected<admin_actor> spawn_admin(caf::actor_system& sys,
                                       admin_config cfg) {
  if (cfg.query_timeout.count() <= 0)
    return make_error(engine_errc::invalid_config,
                      "athanor.admin.query-timeout: must be positive");
  return sys.spawn(admin_impl, std::move(cfg));
}

const std::string& status_page() {
  static const std::string page = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>athanor status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.5em}
table{border-collapse:collapse}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.streaming,.closed{color:#070}.backing_off,.half_open,.connecting,.authenticating,.subscribing{color:#a60}
.failed,.open,.forced_open{color:#b00;font-weight:bold}#age{color:#888}
</style></head><body>
<h1>athanor <span id="age"></span></h1>
<h2>Upstream sessions</h2>
<table id="upstreams"><tr><th>name</th><th>endpoint</th><th>key</th><th>state</th><th>epoch</th><th>leases</th><th>restarts</th><th>records/s</th><th>last error</th></tr></table>
<h2>Breakers</h2>
<table id="breakers"><tr><th>endpoint</th><th>state</th><th>trips</th></tr></table>
<h2>Subscribers</h2>
<table id="subscribers"><tr><th>subscriber</th><th>delivered/s</th><th>in flight</th><th>queued</th><th>dropped</th><th>gaps</th></tr></table>
<h2>Orders</h2>
<table id="orders"><tr><th>orders</th><th>count</th></tr></table>
<script>
"use strict";
let last = null, lastAt = 0;
function esc(s){return String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));}
function key(m){return m.name+JSON.stringify(m.labels);}
function rate(m, now){if(!last)return "";const p=last.get(key(m));if(p===undefined)return "";return ((m.value-p)/((now-lastAt)/1000)).toFixed(0);}
function rows(id, list){const t=document.getElementById(id);while(t.rows.length>1)t.deleteRow(1);for(const r of list){const tr=t.insertRow();for(const [v,cls] of r){const td=tr.insertCell();td.innerHTML=esc(v);if(cls)td.className=cls;}}}
function find(ms,name,pred){return ms.filter(m=>m.name===name&&(!pred||pred(m.labels)));}
async function refresh(){
  try{
    const r=await fetch("/status.json",{cache:"no-store"});const s=await r.json();const now=Date.now();const ms=s.metrics;
    rows("upstreams",s.upstreams.map(u=>{const rps=find(ms,"athanor_session_records_per_second",l=>l.endpoint===u.endpoint&&l.key===u.key)[0];
      return [[u.name],[u.endpoint],[u.key],[u.state,u.state],[u.epoch,"n"],[u.leases,"n"],[u.restarts,"n"],[rps?rps.value.toFixed(0):"","n rate"],[u.last_error]];}));
    const states=find(ms,"athanor_breaker_state").filter(m=>m.value===1);
    rows("breakers",states.map(b=>{const trips=find(ms,"athanor_breaker_trips_total",l=>l.endpoint===b.labels.endpoint)[0];
      return [[b.labels.endpoint],[b.labels.state,b.labels.state],[trips?trips.value:"","n"]];}));
    const delivered=find(ms,"athanor_subscriber_delivered_records_total");
    rows("subscribers",delivered.map(d=>{const l=d.labels,same=x=>x.subscriber===l.subscriber;
      const v=n=>{const m=find(ms,n,same)[0];return m?m.value:"";};
      const rps=v("athanor_subscriber_records_per_second");
      return [[l.subscriber],[rps===""?"":rps.toFixed(0),"n rate"],[v("athanor_subscriber_in_flight"),"n"],[v("athanor_subscriber_queued_records"),"n"],[v("athanor_subscriber_dropped_records_total"),"n"],[v("athanor_subscriber_gaps_total"),"n"]];}));
    const open=find(ms,"athanor_executor_orders").map(m=>[["open: "+m.labels.status],[m.value,"n"]]);
    const ended=find(ms,"athanor_executor_items_ended_total").map(m=>[["ended: "+m.labels.outcome],[m.value,"n"]]);
    const rest=find(ms,"athanor_rest_requests_total").map(m=>[["REST requests/s"],[rate(m,now),"n"]]);
    const limited=find(ms,"athanor_rest_rate_limited_total").map(m=>[["REST 429s"],[m.value,"n"]]);
    rows("orders",open.concat(ended,rest,limited));
    last=new Map(ms.map(m=>[key(m),m.value]));lastAt=now;
    document.getElementById("age").textContent="updated "+new Date(now).toLocaleTimeString();
  }catch(e){document.getElementById("age").textContent="unreachable: "+e;}
}
refresh();setInterval(refresh,2000);
</script></body></html>
)html";
  return page;
}

} // namespace athanor
