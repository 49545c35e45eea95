-- wrk script for benchmarks/serving: POST one fixed JSON body, optionally at a fixed rate,
-- and print the results as one JSON line (the harness parses the last line of stdout).
--
--   BENCH_BODY_FILE  the request body (JSON), sent with Content-Type: application/json
--   BENCH_RATE       requests/s over all connections; unset = as fast as the server answers
--
-- Fixed rate: wrk is closed-loop (a connection sends its next request when the previous
-- answer arrives), so alone it measures latency at whatever rate the server sustains.
-- Here every send claims the next slot of one global schedule (1/RATE apart) and waits for
-- it with wrk's delay(); with more connections than requests in flight the sends follow the
-- schedule, not the server's pace. A send that finds its slot already past (every
-- connection was busy: the server fell behind) is counted as late; a run with late sends
-- measured a closed loop and the harness reports it as not sustaining the rate.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *ts);
]])
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local function read_body(path)
  local file = assert(io.open(path, "rb"), "BENCH_BODY_FILE: cannot open " .. tostring(path))
  local body = file:read("*a")
  file:close()
  return body
end

wrk.method = "POST"
wrk.body = read_body(os.getenv("BENCH_BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"

local rate = tonumber(os.getenv("BENCH_RATE") or "")
-- A slot this much in the past is a late send; below it is timer granularity (wrk's is 1 ms).
local LATE_MS = 2

late = 0
statuses = {}

if rate then
  local period_ms = 1000 / rate
  local next_slot = nil

  function delay()
    local now = now_ms()
    if next_slot == nil then
      next_slot = now
    end
    local slot = next_slot
    next_slot = next_slot + period_ms
    if slot < now - LATE_MS then
      late = late + 1
    end
    return math.max(0, math.floor(slot - now + 0.5))
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local late_total, ok = 0, 0
  for _, thread in ipairs(threads) do
    late_total = late_total + thread:get("late")
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      if status >= 200 and status < 300 then
        ok = ok + count
      end
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "ok": %d, "duration_us": %d, "late": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, ok, summary.duration, late_total,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean
  ))
end
