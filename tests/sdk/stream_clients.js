// Alpaca's official Node SDK against Athanor's gateway: N clients subscribe
// to AAPL quotes and trades and must each receive quotes; a client with a
// wrong secret must be refused with 402. Prints one JSON line; exits 0 on
// success, 1 on failure.
//   node stream_clients.js WS_URL KEY SECRET CLIENTS
"use strict";
const { Alpaca } = require("@alpacahq/alpaca-trade-api");

const [url, keyId, secret, clientsArg] = process.argv.slice(2);
const clients = Number(clientsArg || "1");
const wanted = 3;

function stream(withSecret) {
  const alpaca = new Alpaca({ keyId, secret: withSecret });
  return alpaca.marketData.stockStream({ url: url + "/v2/iex", reconnect: false });
}

async function main() {
  const quotes = new Array(clients).fill(0);
  const streams = [];
  for (let i = 0; i < clients; ++i) {
    const s = stream(secret);
    s.onQuote((q) => { if (q.symbol === "AAPL" || q.S === "AAPL") quotes[i]++; });
    s.connect();
    s.subscribeForQuotes(["AAPL"]);
    s.subscribeForTrades(["AAPL"]);
    streams.push(s);
  }
  const deadline = Date.now() + 20000;
  while (quotes.some((n) => n < wanted) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  // A wrong secret: Alpaca's 402.
  const bad = stream(secret + "-wrong");
  bad.on("error", () => {});
  bad.connect();
  const refusal = await bad.waitForAuthenticationResult(10000);
  for (const s of streams) s.disconnect();
  bad.disconnect();
  const ok = quotes.every((n) => n >= wanted) && !refusal.authenticated
             && refusal.code === 402;
  console.log(JSON.stringify({ ok, quotes, refusal }));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
