// athanor-bench e2e's comparison: Alpaca's official Node SDK
// (@alpacahq/alpaca-trade-api 4.x) reading the same fast source the engine
// reads, counting the quotes and trades its callbacks get.
//   node js_sdk_client.js WS_URL KEY SECRET SECONDS
// Prints one line: {"records": N, "seconds": S}.
"use strict";
const { Alpaca } = require("@alpacahq/alpaca-trade-api");

const [url, keyId, secret, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || "3");

async function main() {
  const alpaca = new Alpaca({ keyId, secret });
  const s = alpaca.marketData.stockStream({ url, reconnect: false });
  let records = 0;
  let measuring = false;
  s.onQuote(() => { if (measuring) records++; });
  s.onTrade(() => { if (measuring) records++; });
  s.onConnect(() => {
    s.subscribeForQuotes(["*"]);
    s.subscribeForTrades(["*"]);
  });
  s.connect();
  // As the engine's figures do: warm up, then count for `seconds`.
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const start = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const took = Number(process.hrtime.bigint() - start) / 1e9;
  s.disconnect();
  console.log(JSON.stringify({ records, seconds: took }));
  process.exit(0);
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e) }));
  process.exit(1);
});
