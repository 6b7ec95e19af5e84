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

// Ready: every upstream someone leases is streaming.
bool ready(const gathered& g) {
  if (!g.health_known)
    return false;
  for (auto& u : g.upstreams)
    if (u.leases > 0 && u.state != session_state::streaming)
      return false;
  return true;
}

// What the page's headline says: "ready", or which upstream is not.
std::string verdict_of(const gathered& g) {
  if (!g.health_known)
    return "not ready: the connection supervisor did not answer";
  std::string waiting;
  for (auto& u : g.upstreams)
    if (u.leases > 0 && u.state != session_state::streaming) {
      waiting += waiting.empty() ? "" : "; ";
      waiting += u.name + " " + to_string(u.state);
      if (!u.last_error.empty())
        waiting += " (" + u.last_error + ")";
    }
  return waiting.empty() ? "ready" : "not ready: " + waiting;
}

void write_history(json_writer& w, const status_history& h, double now) {
  w.Key("now");
  w.Double(now);
  w.Key("series");
  w.StartArray();
  for (auto& [key, x] : h.series()) {
    w.StartObject();
    w.Key("group");
    write_string(w, x.group);
    w.Key("owner");
    write_string(w, x.owner);
    w.Key("unit");
    write_string(w, x.unit);
    w.Key("points");
    w.StartArray();
    for (auto& p : x.points) {
      w.StartArray();
      w.Double(p.t);
      w.Double(p.value);
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("left_out");
  w.Uint64(h.series_left_out());
  w.Key("events");
  w.StartArray();
  for (auto& e : h.events()) {
    w.StartObject();
    w.Key("t");
    w.Double(e.t);
    w.Key("kind");
    write_string(w, e.kind);
    w.Key("text");
    write_string(w, e.text);
    w.EndObject();
  }
  w.EndArray();
}

/// What the page and a caller of /status.json read besides the gathered
/// figures.
struct page_context {
  const std::string* version = nullptr;
  double uptime_seconds = 0;
  const status_history* history = nullptr;
};

std::string status_json(const gathered& g, const page_context& page) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  w.Key("ready");
  w.Bool(ready(g));
  w.Key("verdict");
  write_string(w, verdict_of(g));
  if (page.version != nullptr) {
    w.Key("version");
    write_string(w, *page.version);
  }
  w.Key("uptime_seconds");
  w.Double(page.uptime_seconds);
  if (page.history != nullptr) {
    w.Key("history");
    w.StartObject();
    write_history(w, *page.history, page.uptime_seconds);
    w.EndObject();
  }
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

struct admin_state {
  admin_config cfg;
  uint64_t requests = 0;
  caf::actor_clock::time_point started{};
  std::unique_ptr<status_history> history;
  static inline const char* name = "athanor.admin";
};

using admin_pointer = admin_actor::stateful_pointer<admin_state>;

double uptime_seconds(admin_pointer self) {
  return std::chrono::duration<double>(self->clock().now()
                                       - self->state.started)
    .count();
}

page_context context_of(admin_pointer self) {
  return {&self->state.cfg.version, uptime_seconds(self),
          self->state.history.get()};
}

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
    // Probes want the verdict, not the charts.
    page_context page{&self->state.cfg.version, uptime_seconds(self), nullptr};
    q.answer->send(ready(g) ? 200 : 503, "application/json",
                   status_json(g, page));
  } else {
    q.answer->send(200, "application/json", status_json(g, context_of(self)));
  }
}

// Asks every source, then calls `then` once all have answered (or failed).
template <class Then>
void gather(admin_pointer self, bool with_metrics, Then then) {
  auto g = std::make_shared<gathered>();
  auto& cfg = self->state.cfg;
  auto done = [g, then] {
    if (--g->pending == 0)
      then(*g);
  };
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

void gather_and_answer(admin_pointer self, admin_query q) {
  auto with_metrics = q.path != "/readyz";
  gather(self, with_metrics,
         [self, q](const gathered& g) { answer(self, q, g); });
}

// One history sample, then the next one after the interval (counted from
// the sample's answer, so a slow engine is not asked faster than it
// answers).
void sample_history(admin_pointer self) {
  gather(self, true, [self](const gathered& g) {
    self->state.history->record(uptime_seconds(self), g.upstreams, g.samples);
    self->delayed_send(self, self->state.cfg.history_interval,
                       timeout_atom::value);
  });
}

admin_actor::behavior_type admin_impl(admin_pointer self, admin_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  self->state.started = self->clock().now();
  if (self->state.cfg.history_interval.count() > 0) {
    self->state.history
      = std::make_unique<status_history>(self->state.cfg.history);
    self->send(self, timeout_atom::value);
  }
  return {
    [self](timeout_atom) { sample_history(self); },
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
h1{font-size:1.3em;margin-bottom:.2em}h2{font-size:1.05em;margin-top:1.5em}
table{border-collapse:collapse}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.streaming,.closed{color:#070}.backing_off,.half_open,.connecting,.authenticating,.subscribing{color:#a60}
.failed,.open,.forced_open{color:#b00;font-weight:bold}#age,#about{color:#888}
#verdict{font-weight:bold;padding:.2em .6em;border-radius:.3em;display:inline-block}
#verdict.ready{background:#e3f4e3;color:#070}#verdict.not{background:#fbe3e3;color:#b00}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{border:1px solid #ddd;padding:.3em .5em}
.chart .t{font-size:.85em;color:#555}svg{display:block}polyline{fill:none;stroke:#2563eb;stroke-width:1.5}
polyline.lag{stroke:#d97706}#timeline li{font-variant-numeric:tabular-nums}
</style></head><body>
<h1>athanor <span id="verdict"></span></h1>
<div id="about"></div><div id="age"></div>
<h2>Over the last minutes</h2>
<div id="charts" class="charts"></div>
<h2>Timeline</h2>
<ul id="timeline"></ul>
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
const SVG="http://www.w3.org/2000/svg";
function esc(s){return String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));}
function key(m){return m.name+JSON.stringify(m.labels);}
function rate(m, now){if(!last)return "";const p=last.get(key(m));if(p===undefined)return "";return ((m.value-p)/((now-lastAt)/1000)).toFixed(0);}
function rows(id, list){const t=document.getElementById(id);while(t.rows.length>1)t.deleteRow(1);for(const r of list){const tr=t.insertRow();for(const [v,cls] of r){const td=tr.insertCell();td.innerHTML=esc(v);if(cls)td.className=cls;}}}
function find(ms,name,pred){return ms.filter(m=>m.name===name&&(!pred||pred(m.labels)));}
function ago(s){s=Math.max(0,Math.round(s));return s<60?s+" s ago":Math.floor(s/60)+" min "+(s%60)+" s ago";}
function span(s){s=Math.round(s);return s<120?s+" s":s<7200?Math.round(s/60)+" min":(s/3600).toFixed(1)+" h";}
function fmt(v,unit){return unit==="lag s"?(v*1000).toFixed(v<0.01?2:0)+" ms":v.toFixed(0);}
function chart(x,now){
  const w=260,h=56,box=document.createElement("div");box.className="chart";
  const pts=x.points,t0=Math.min(pts[0][0],now-60),hi=Math.max(...pts.map(p=>p[1]))||1;
  const svg=document.createElementNS(SVG,"svg");svg.setAttribute("width",w);svg.setAttribute("height",h);
  const line=document.createElementNS(SVG,"polyline");if(x.unit==="lag s")line.setAttribute("class","lag");
  line.setAttribute("points",pts.map(p=>((p[0]-t0)/(now-t0||1)*w).toFixed(1)+","+(h-2-p[1]/hi*(h-4)).toFixed(1)).join(" "));
  svg.appendChild(line);
  const cur=pts[pts.length-1][1];
  box.innerHTML='<div class="t">'+esc(x.group+" "+x.owner)+" &middot; "+esc(x.unit==="lag s"?"lag (max of 10 s)":x.unit)+": <b>"+esc(fmt(cur,x.unit))+"</b> (peak "+esc(fmt(hi,x.unit))+", "+esc(span(now-t0))+")</div>";
  box.appendChild(svg);return box;}
function history(s){
  const h=s.history;if(!h)return;
  const charts=document.getElementById("charts");charts.textContent="";
  const order=x=>(x.group==="upstream"?"0":"1")+x.owner+"\u0000"+(x.unit==="records/s"?"0":"1");
  const series=h.series.slice().sort((a,b)=>order(a)<order(b)?-1:1);
  for(const x of series)if(x.points.length>0)charts.appendChild(chart(x,h.now));
  if(h.left_out>0){const p=document.createElement("div");p.textContent=h.left_out+" more series not charted";charts.appendChild(p);}
  const tl=document.getElementById("timeline");tl.textContent="";
  const evs=h.events.slice().reverse();
  if(evs.length===0){const li=document.createElement("li");li.textContent="nothing changed since the start";tl.appendChild(li);}
  for(const e of evs){const li=document.createElement("li");li.className="ev-"+e.kind;li.textContent=ago(h.now-e.t)+" \u2014 "+e.text;tl.appendChild(li);}
}
async function refresh(){
  try{
    const r=await fetch("/status.json",{cache:"no-store"});const s=await r.json();const now=Date.now();const ms=s.metrics;
    const v=document.getElementById("verdict");v.textContent=s.verdict;v.className=s.ready?"ready":"not";
    document.getElementById("about").textContent="version "+(s.version||"?")+" \u00b7 up "+span(s.uptime_seconds);
    history(s);
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
  }catch(e){const v=document.getElementById("verdict");v.textContent="unreachable: "+e;v.className="not";}
}
refresh();setInterval(refresh,2000);
</script></body></html>
)html";
  return page;
}

} // namespace athanor
