-- wrk script for the inquiry benchmark.
--
-- BENCH_MODE=replay (default): replays the pre-signed requests in $BENCH_REQUESTS (one per line,
--   tab-separated: Client-Id, Request-Id, Request-Timestamp, Signature, body) as
--   POST $BENCH_PATH. Thread k of $BENCH_THREADS takes lines k, k+n, k+2n, ...: the threads'
--   slices are disjoint and each line is sent at most once, so no Request-Id is sent twice.
--   When a thread runs out it sends GET /__bench_exhausted instead (counted, never a replay).
-- BENCH_MODE=static: POSTs one fixed inquiry-sized JSON body to $BENCH_PATH (the hello app).
--
-- response() counts status codes per thread; done() adds them up and prints one line
-- "BENCH_JSON {...}" with the figures run.sh keeps.

local mode = os.getenv("BENCH_MODE") or "replay"
local path = os.getenv("BENCH_PATH") or "/doku/inquiry"
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")

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
   .. '{"date":"2026-01-01T00:00:00Z","identifier":[{"name":"AGENT_ID","value":"ALFAMART"}]}}'

function init(args)
   statuses = {}
   sent = 0
   exhausted = 0
   reqs = {}
   if mode == "static" then
      static_request = wrk.format("POST", path, {["Content-Type"] = "application/json"}, static_body)
      return
   end
   local file = os.getenv("BENCH_REQUESTS")
   local i = 0
   for line in io.lines(file) do
      if i % nthreads == tid then
         local cid, rid, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", path, {
            ["Content-Type"] = "application/json",
            ["Client-Id"] = cid,
            ["Request-Id"] = rid,
            ["Request-Timestamp"] = ts,
            ["Signature"] = sig,
         }, body)
      end
      i = i + 1
   end
   loaded = #reqs
   exhausted_request = wrk.format("GET", "/__bench_exhausted")
end

function request()
   if mode == "static" then
      sent = sent + 1
      return static_request
   end
   local r = reqs[sent + 1]
   if r == nil then
      exhausted = exhausted + 1
      return exhausted_request
   end
   sent = sent + 1
   return r
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   local sent_total, exhausted_total, loaded_total = 0, 0, 0
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do
         total[k] = (total[k] or 0) + v
      end
      sent_total = sent_total + (t:get("sent") or 0)
      exhausted_total = exhausted_total + (t:get("exhausted") or 0)
      loaded_total = loaded_total + (t:get("loaded") or 0)
   end
   local parts = {}
   for k, v in pairs(total) do
      parts[#parts + 1] = string.format('"%s":%d', k, v)
   end
   local non2xx = 0
   for k, v in pairs(total) do
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
      .. '"statuses":{%s},"non2xx":%d,"sent":%d,"loaded":%d,"exhausted":%d}\n',
      summary.requests, secs, summary.requests / secs, summary.bytes,
      latency.mean / 1000, latency.stdev / 1000, latency:percentile(50) / 1000,
      latency:percentile(75) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(parts, ","), non2xx, sent_total, loaded_total, exhausted_total))
end
