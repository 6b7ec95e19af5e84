#!/usr/bin/python3
"""The gateway as alpaca-py's stream clients see it.

Speaks exactly what alpaca-py (alpaca/common/websocket.py and
alpaca/trading/stream.py) sends and checks exactly what it checks, with the
same libraries (websockets, msgpack), so a Python system can point
alpaca-py's url_override at the gateway:

  market data: Content-Type application/msgpack, the "connected" and
    "authenticated" checks, a subscribe sent as one message in 32 KiB
    fragments, every record's "t" a msgpack Timestamp (alpaca-py calls
    .to_datetime() on it), a wrong secret answered with an error message;
    gap markers arrive as {"T": "gap", ...} records, which alpaca-py's
    dispatcher drops unless a subclass handles them (see README).
  trading stream: JSON authenticate -> data.status "authorized", listen,
    then trade_updates with the fields TradeUpdate needs.

  alpaca_py_clients.py GATEWAY_URL KEY SECRET BROKER_URL
"""

import asyncio
import json
import sys
import urllib.request

import msgpack
import websockets

MAX_FRAME_SIZE = 32768  # alpaca-py's _max_frame_size
HEADERS = {"Content-Type": "application/msgpack", "User-Agent": "APCA-PY/0.42.0"}


def fail(what):
    print("FAIL: " + what)
    sys.exit(1)


async def connect_and_auth(url, key, secret):
    ws = await websockets.connect(url, extra_headers=HEADERS, ping_interval=10,
                                  ping_timeout=180, max_queue=1024)
    msg = msgpack.unpackb(await ws.recv())
    if msg[0]["T"] != "success" or msg[0]["msg"] != "connected":
        fail("connected message not received: %r" % msg)
    await ws.send(msgpack.packb({"action": "auth", "key": key, "secret": secret}))
    return ws, msgpack.unpackb(await ws.recv())


async def market_data(url, key, secret):
    ws, msg = await connect_and_auth(url, key, secret)
    if msg[0]["T"] != "success" or msg[0]["msg"] != "authenticated":
        fail("not authenticated: %r" % msg)
    # Enough symbols that the message spans several fragments.
    symbols = ["AAPL", "MSFT"] + ["SYM%d" % i for i in range(6000)]
    sub = {"trades": ["AAPL", "MSFT"], "quotes": symbols, "action": "subscribe"}
    raw = msgpack.packb(sub)
    frames = [raw[i:i + MAX_FRAME_SIZE] for i in range(0, len(raw), MAX_FRAME_SIZE)]
    if len(frames) < 2:
        fail("the subscribe should be fragmented")
    await ws.send(iter(frames))
    acked = False
    trades = quotes = 0
    deadline = asyncio.get_event_loop().time() + 30
    while (not acked or trades < 3 or quotes < 10) \
            and asyncio.get_event_loop().time() < deadline:
        r = await asyncio.wait_for(ws.recv(), 5)
        for m in msgpack.unpackb(r):
            t = m.get("T")
            if t == "subscription" and not acked:
                if len(m.get("quotes", [])) != len(symbols) or \
                        sorted(m.get("trades", [])) != ["AAPL", "MSFT"]:
                    fail("subscription ack: %d quotes, trades %r"
                         % (len(m.get("quotes", [])), m.get("trades")))
                acked = True
                # The quiet symbols go again (as alpaca-py unsubscribes), so
                # the simulator's records go to AAPL and MSFT.
                await ws.send(msgpack.packb({
                    "action": "unsubscribe", "trades": (), "quotes": symbols[2:],
                    "bars": (), "updatedBars": (), "dailyBars": ()}))
            elif t in ("t", "q"):
                stamp = m["t"]
                if not isinstance(stamp, msgpack.Timestamp):
                    fail("'t' is %r, not a msgpack Timestamp" % type(stamp))
                stamp.to_datetime()
                if t == "t":
                    trades += 1
                    for field in ("S", "i", "x", "p", "s"):
                        if field not in m:
                            fail("trade without %r: %r" % (field, m))
                else:
                    quotes += 1
            elif t == "error":
                fail("error: %r" % m)
    await ws.close()
    if not acked or trades < 3 or quotes < 10:
        fail("market data: ack %s, %d trades, %d quotes" % (acked, trades, quotes))
    print("market data: subscription of %d quotes acknowledged in %d fragments, "
          "%d trades and %d quotes with msgpack Timestamps"
          % (len(symbols), len(frames), trades, quotes))

    # A wrong secret: alpaca-py raises ValueError(msg["msg"]) on T == "error".
    ws, msg = await connect_and_auth(url, key, "wrong")
    if msg[0]["T"] != "error" or msg[0].get("code") != 402:
        fail("a wrong secret got %r" % msg)
    await ws.close()
    print("wrong secret: error %d %s" % (msg[0]["code"], msg[0]["msg"]))


async def trading_stream(url, key, secret, broker):
    ws = await websockets.connect(url, extra_headers={"User-Agent": HEADERS["User-Agent"]},
                                  ping_interval=10, ping_timeout=180, max_queue=1024)
    await ws.send(json.dumps({"action": "authenticate",
                              "data": {"key_id": key, "secret_key": secret}}))
    msg = json.loads(await ws.recv())
    if msg.get("data").get("status") != "authorized":
        fail("trading stream not authorized: %r" % msg)
    await ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
    listening = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if listening.get("stream") != "listening":
        fail("no listening answer: %r" % listening)
    # An order at the simulator's broker, as any other client would place it.
    body = json.dumps({"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market",
                       "time_in_force": "day", "client_order_id": "py-sdk-1"}).encode()
    req = urllib.request.Request(broker + "/v2/orders", data=body, method="POST",
                                 headers={"APCA-API-KEY-ID": "SIMKEY",
                                          "APCA-API-SECRET-KEY": "SIMSECRET",
                                          "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    events = []
    while "fill" not in events:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("stream") != "trade_updates":
            continue
        data = msg["data"]
        for field in ("event", "order", "timestamp"):
            if field not in data:
                fail("trade update without %r: %r" % (field, data))
        if data["order"].get("client_order_id") == "py-sdk-1":
            events.append(data["event"])
    await ws.close()
    print("trading stream: %s" % " -> ".join(events))


async def main():
    url, key, secret, broker = sys.argv[1:5]
    await market_data(url + "/v2/iex", key, secret)
    await trading_stream(url + "/stream", key, secret, broker)
    print("ok")


asyncio.run(main())
