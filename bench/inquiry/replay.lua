-- wrk script for the inquiry benchmark.
--
-- BENCH_MODE=replay (default): replays the pre-signed raw requests in $BENCH_REQUESTS (written by
--   gen_requests.py: a header line "BENCHREQ <slices> <offset> <length> ...", then one slice per
--   wrk thread of records "<8-digit length><raw HTTP request>"). Thread k reads slice k only:
--   the slices are disjoint and each record is sent at most once, so no Request-Id is sent twice.
--   (bench/notification/gen_notifications.py writes the same layout; there, duplicates are
--   records of their own, by design.)
--   When a thread runs out it sends GET /__bench_exhausted instead (counted, never a replay).
-- BENCH_MODE=static: POSTs one fixed inquiry-sized JSON body to $BENCH_PATH (the hello app).
--
-- response() counts status codes per thread; done() adds them up and prints one line
-- "BENCH_JSON {...}" with the figures run.sh keeps.

local mode = os.getenv("BENCH_MODE") or "replay"
local path = os.getenv("BENCH_PATH") or "/hello"

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local static_body = '{"service":{"id":"ONLINE_TO_OFFLINE"},"acquirer":{"id":"ALFA"},'
   .. '"channel":{"id":"ONLINE_TO_OFFLINE_ALFA"},"online_to_offline_info":'
   .. '{"payment_code":"8896075916241211"},"online_to_offline_inquiry":'
   .. '{"date":"2026-01-01T00:00:00Z","identifier":[{"name":"AGENT_ID","value":"ALFAMART"},'
   .. '{"name":"AGENT_STORE_ID","value":"TZ001"},{"name":"AGENT_TRX_ID","value":"1"}]}}'

function init(args)
   statuses = {}
   sent = 0
   exhausted = 0
   loaded = 0
   if mode == "static" then
      static_request = wrk.format("POST", path, {["Content-Type"] = "application/json"}, static_body)
      return
   end
   local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
   local header = f:read("*l")
   local fields = {}
   for word in header:gmatch("%S+") do fields[#fields + 1] = word end
   assert(fields[1] == "BENCHREQ", "not a gen_requests.py file")
   local slices = tonumber(fields[2])
   assert(tid < slices, "more wrk threads than slices in the requests file")
   local offset = tonumber(fields[3 + 2 * tid])
   local length = tonumber(fields[4 + 2 * tid])
   f:seek("set", offset)
   data = f:read(length)
   f:close()
   pos = 1
   exhausted_request = wrk.format("GET", "/__bench_exhausted")
end

function request()
   if mode == "static" then
      sent = sent + 1
      return static_request
   end
   if pos > #data then
      exhausted = exhausted + 1
      return exhausted_request
   end
   local n = tonumber(data:sub(pos, pos + 7))
   local r = data:sub(pos + 8, pos + 7 + n)
   pos = pos + 8 + n
   sent = sent + 1
   return r
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   local sent_total, exhausted_total = 0, 0
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do
         total[k] = (total[k] or 0) + v
      end
      sent_total = sent_total + (t:get("sent") or 0)
      exhausted_total = exhausted_total + (t:get("exhausted") or 0)
   end
   local parts = {}
   local non2xx = 0
   for k, v in pairs(total) do
      parts[#parts + 1] = string.format('"%s":%d', k, v)
      local code = tonumber(k)
      if code < 200 or code > 299 then non2xx = non2xx + v end
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,'
      .. '"latency_ms":{"mean":%.3f,"stdev":%.3f,"p50":%.3f,"p75":%.3f,"p90":%.3f,"p99":%.3f,'
      .. '"p999":%.3f,"max":%.3f},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"statuses":{%s},"non2xx":%d,"sent":%d,"exhausted":%d}\n',
      summary.requests, secs, summary.requests / secs, summary.bytes,
      latency.mean / 1000, latency.stdev / 1000, latency:percentile(50) / 1000,
      latency:percentile(75) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(parts, ","), non2xx, sent_total, exhausted_total))
end
