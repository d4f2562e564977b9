-- wrk script for bench/run: POSTs the GraphQL requests in the file named by BENCH_BODY
-- (one JSON body a line; with several, each request takes one at random), with
-- `Authorization: Bearer $CLAIMTRACK_BENCH_KEY` when that is set, and prints one
-- machine-readable summary line (latencies in microseconds).
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODY")) do
  if line ~= "" then
    bodies[#bodies + 1] = line
  end
end
assert(#bodies > 0, "no request body")
wrk.method = "POST"
wrk.body = bodies[1]
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("CLAIMTRACK_BENCH_KEY")
if key ~= nil and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

if #bodies > 1 then
  function init(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  end

  function request()
    return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
