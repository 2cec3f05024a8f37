-- wrk script for scripts/bench-dashboards.sh: rotates over the URLs (paths)
-- listed one per line in the file given after "--", and prints latency
-- percentiles (wrk's --latency has no p95) and the non-2xx count.
--   wrk -t2 -c64 -d30s -s scripts/wrk-percentiles.lua http://127.0.0.1:8080 -- urls.txt
local paths = {}
local counter = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if line ~= "" then paths[#paths + 1] = line end
  end
  f:close()
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("peticiones %d en %.1f s: %.0f/s; errores http %d, socket %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("p%d %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max %.2f ms\n", latency.max / 1000))
end
