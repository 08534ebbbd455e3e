-- wrk's script for every route of the HTTP benchmark (bench/src/bin/http): its arguments choose the request; done()
-- prints the figures on one line, after a line per non-2xx status (wrk's own count leaves out 3xx).
--
--   wrk ... -s bench.lua URL -- get TOKEN | auth USERNAME PASSWORD | register PREFIX PASSWORD
--                               | refresh FILE THREADS | logout FILE THREADS
--                               | change-password FILE THREADS CURRENT NEW | delete FILE THREADS PASSWORD
--
-- get sends GET with `Authorization: JWT TOKEN` (the list, me, a user by id, the JWKS; both APIs). The routes that
-- spend a credential take a fresh one per request from FILE (one token a line, made before the run; thread N of
-- THREADS takes lines N, N + THREADS, ...): logout a refresh token, change-password and delete an access token of an
-- account of their own. refresh starts from FILE's refresh tokens and sends, on each, the refresh token the previous
-- answer on it gave: each request refreshes a live session once, as a client does. A thread whose tokens run out
-- stops and is counted in `spent`: its route's req/s is then too low, and the run says so.
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
-- The functions' 503s (their storage did not answer within its budget): on moto, which serves one request at a time,
-- a burst of slow Queries does that; counted apart so that the table says so.
unavailable = 0
spent = 0
body_bytes = 0
-- The refresh tokens the last answers gave, for the next requests (refresh only).
local next_tokens = nil
function response(status, headers, body)
  if status < 200 or status > 299 then
    if status == 500 and string.find(body or "", "httpstatuses.com", 1, true) then
      emulator_errors = emulator_errors + 1
      return
    end
    if status == 503 then
      unavailable = unavailable + 1
      if first_failure == "" then first_failure = string.format("%d %s", status, string.sub(body or "", 1, 300)) end
      return
    end
    failures[status] = (failures[status] or 0) + 1
    if first_failure == "" then first_failure = string.format("%d %s", status, string.sub(body or "", 1, 300)) end
    return
  end
  if body_bytes == 0 and body then body_bytes = #body end
  if next_tokens then
    local token = string.match(body or "", '"refresh_token":"([^"]+)"')
    if token then table.insert(next_tokens, token) end
  end
end

-- This thread's share of FILE's lines.
local function tokens(file, thread_count)
  local mine, n = {}, 0
  for line in io.lines(file) do
    if n % thread_count == thread_id - 1 then table.insert(mine, line) end
    n = n + 1
  end
  return mine
end

-- A request per token of `list`, built by `build`; the thread stops when none is left.
local function one_per_token(list, build)
  local i = 0
  request = function()
    i = i + 1
    local token = list[i]
    if token == nil then
      if spent == 0 then spent = 1 end
      wrk.thread:stop()
      token = list[#list] or ""
    end
    return build(token)
  end
end

-- wrk.format takes a request's headers whole: JSON's content type, and this token.
local function authorized(token)
  return { ["Content-Type"] = "application/json", ["Authorization"] = "JWT " .. token }
end

function init(args)
  local mode = args[1]
  wrk.headers["Content-Type"] = "application/json"
  if mode == "get" then
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
  elseif mode == "refresh" then
    next_tokens = tokens(args[2], tonumber(args[3]))
    request = function()
      local token = table.remove(next_tokens, 1)
      if token == nil then
        if spent == 0 then spent = 1 end
        wrk.thread:stop()
        token = ""
      end
      return wrk.format("POST", nil, nil, string.format('{"refresh_token":"%s"}', token))
    end
  elseif mode == "logout" then
    one_per_token(tokens(args[2], tonumber(args[3])), function(token)
      return wrk.format("POST", nil, nil, string.format('{"refresh_token":"%s"}', token))
    end)
  elseif mode == "change-password" then
    local body = string.format('{"current_password":"%s","new_password":"%s"}', args[4], args[5])
    one_per_token(tokens(args[2], tonumber(args[3])), function(token)
      return wrk.format("POST", nil, authorized(token), body)
    end)
  elseif mode == "delete" then
    local body = string.format('{"password":"%s"}', args[4])
    one_per_token(tokens(args[2], tonumber(args[3])), function(token)
      return wrk.format("DELETE", nil, authorized(token), body)
    end)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local non2xx, emulator, unavailable_total, spent_threads, bytes = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    emulator = emulator + thread:get("emulator_errors")
    unavailable_total = unavailable_total + thread:get("unavailable")
    spent_threads = spent_threads + thread:get("spent")
    bytes = math.max(bytes, thread:get("body_bytes"))
    for status, count in pairs(thread:get("failures")) do
      non2xx = non2xx + count
      io.write(string.format("FAILED status=%d count=%d\n", status, count))
    end
    local first = thread:get("first_failure")
    if first ~= "" then io.write("FIRST " .. first .. "\n") end
  end
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d emulator_errors=%d unavailable=%d socket_errors=%d spent=%d bytes=%d\n",
    summary.requests, summary.requests / summary.duration * 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    non2xx, emulator, unavailable_total, e.connect + e.read + e.write + e.timeout, spent_threads, bytes))
end
