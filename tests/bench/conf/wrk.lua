-- wrk script for tests/bench/run.sh: with BODY_BYTES set, every request is a POST with a body of that many bytes;
-- at the end one machine-readable line (latencies in microseconds), as ../shared/bench/conf/wrk-report.lua prints.
local bytes = tonumber(os.getenv("BODY_BYTES") or "0") or 0
if bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx3xx=%d sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
