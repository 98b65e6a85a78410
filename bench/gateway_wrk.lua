-- wrk script for the gateway benchmarks: POSTs one JSON body and writes the results as JSON.
--
-- Driven by bench/_load.py through the environment, so one static script serves every run:
--   BENCH_BODY  the request body (a chat completion request); empty: a GET without body
--   BENCH_AUTH  the Authorization header value, empty for none (direct to the engine)
--   BENCH_OUT   where done() writes {"requests", "duration_us", "errors", "p50_us", ...}
--   BENCH_CONNECTIONS  wrk's -c, for the stagger below
--   BENCH_STAGGER_MS  spread the first request of each connection over this many ms (0: all at once),
--               so that long streams run out of step, as real clients' do, instead of in one wave

math.randomseed(42)
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

local stagger = tonumber(os.getenv("BENCH_STAGGER_MS") or "0")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "0")
local started = 0
-- wrk's latency clock starts when a request is sent, so a delay is not counted as latency.
function delay()
  if stagger <= 0 then
    return 0
  end
  started = started + 1
  if started > connections then
    return 0
  end
  return math.random(0, stagger)
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  out:close()
end
