// Alpaca's official Node SDK trading stream against Athanor's gateway
// (/stream): N clients listen to trade_updates; an order placed on the
// account (straight at the simulator's REST API) must reach each of them,
// new and fill, through the engine's one trading stream; a client with a
// wrong secret must not be authorised. Prints one JSON line; exits 0 on
// success, 1 on failure.
//   node trading_clients.js WS_URL KEY SECRET BROKER_URL CLIENTS
"use strict";
const { Alpaca } = require("@alpacahq/alpaca-trade-api");

const [url, keyId, secret, brokerUrl, clientsArg] = process.argv.slice(2);
const clients = Number(clientsArg || "1");
const orderId = "sdk-gw-" + process.pid;

function stream(withSecret) {
  const alpaca = new Alpaca({ keyId, secret: withSecret });
  return alpaca.trading.stream({ url: url + "/stream", reconnect: false });
}

async function until(done, ms) {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return done();
}

async function main() {
  const events = [];
  const listening = new Array(clients).fill(false);
  const streams = [];
  for (let i = 0; i < clients; ++i) {
    events.push([]);
    const s = stream(secret);
    s.onTradeUpdate((u) => {
      if (u.order && u.order.clientOrderId === orderId) events[i].push(u.event);
    });
    s.on("subscription", (streamsNow) => {
      listening[i] = streamsNow.includes("trade_updates");
    });
    s.subscribeTradeUpdates();
    s.connect();
    streams.push(s);
  }
  const allListening = await until(() => listening.every(Boolean), 20000);
  // Somebody trades on the account; the SDK clients only listen.
  const placed = await fetch(brokerUrl + "/v2/orders", {
    method: "POST",
    headers: { "APCA-API-KEY-ID": "SIMKEY", "APCA-API-SECRET-KEY": "SIMSECRET",
               "Content-Type": "application/json" },
    body: JSON.stringify({ symbol: "AAPL", qty: "2", side: "buy", type: "market",
                           time_in_force: "day", client_order_id: orderId }),
  });
  const filled = () => events.every((xs) => xs.includes("fill"));
  await until(filled, 20000);
  const bad = stream(secret + "-wrong");
  bad.on("error", () => {});
  bad.connect();
  const refusal = await bad.waitForAuthenticationResult(10000);
  for (const s of streams) s.disconnect();
  bad.disconnect();
  const ok = allListening && placed.status === 200 && filled()
             && events.every((xs) => xs[0] === "new") && !refusal.authenticated;
  console.log(JSON.stringify({ ok, allListening, placed: placed.status, events,
                               refusal }));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
