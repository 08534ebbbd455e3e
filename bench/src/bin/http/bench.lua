-- wrk's script for every route of the HTTP benchmark (bench/src/bin/http): its arguments choose the request; done()
-- prints the figures on one line, after a line per non-2xx status (wrk's own count leaves out 3xx).
--
--   wrk ... -s bench.lua URL -- list TOKEN | auth USERNAME PASSWORD | register PREFIX PASSWORD
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- Non-2xx answers by status, with the first one's body, so that a failure says what it was. The emulator's own
-- 500s (it drops an invocation now and then under load) are counted apart: their body is its problem document.
failures = {}
first_failure = ""
emulator_errors = 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    if status == 500 and string.find(body or "", "httpstatuses.com", 1, true) then
      emulator_errors = emulator_errors + 1
      return
    end
    failures[status] = (failures[status] or 0) + 1
    if first_failure == "" then first_failure = string.format("%d %s", status, string.sub(body or "", 1, 300)) end
  end
end

function init(args)
  local mode = args[1]
  wrk.headers["Content-Type"] = "application/json"
  if mode == "list" then
    wrk.headers["Authorization"] = "JWT " .. args[2]
  elseif mode == "auth" then
    wrk.method = "POST"
    wrk.body = string.format('{"username":"%s","password":"%s"}', args[2], args[3])
  elseif mode == "register" then
    -- A new user per request: a per-run prefix, this thread's number and a counter.
    local prefix = string.format("%st%d-", args[2], thread_id)
    local password = args[3]
    local counter = 0
    request = function()
      counter = counter + 1
      local name = prefix .. counter
      local body = string.format('{"username":"%s","email":"%s@example.com","password":"%s"}', name, name, password)
      return wrk.format("POST", nil, nil, body)
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local non2xx, emulator = 0, 0
  for _, thread in ipairs(threads) do
    emulator = emulator + thread:get("emulator_errors")
    for status, count in pairs(thread:get("failures")) do
      non2xx = non2xx + count
      io.write(string.format("FAILED status=%d count=%d\n", status, count))
    end
    local first = thread:get("first_failure")
    if first ~= "" then io.write("FIRST " .. first .. "\n") end
  end
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d emulator_errors=%d socket_errors=%d\n",
    summary.requests, summary.requests / summary.duration * 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    non2xx, emulator, e.connect + e.read + e.write + e.timeout))
end
