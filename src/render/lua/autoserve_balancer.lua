-- AutoServe: replica membership without reloads (own nginx master, "lua membership" mode).
--
-- Written by the controller to <prefix>/lua/autoserve_balancer.lua; do not edit there.
--
-- Every app's upstream calls balance(app) from balancer_by_lua. The peers live in the
-- lua_shared_dict autoserve_peers (app -> "172.18.0.2:8080 172.18.0.3:8080", sorted; "" = no peer), which
-- every worker reads on each pick, so a membership change needs no reload: no worker restarts, no
-- keep-alive connection is closed. The controller replaces the whole membership with a loopback
-- POST to /_autoserve/membership (membership()); init() seeds the dict at every (re)start from the
-- file the controller writes before each POST, so a restarted master routes at once.
--
-- Requests in flight (also those on an upstream keep-alive connection to a removed peer) finish:
-- only new picks and retries read the new membership.
--
-- Scale to zero (hold(), done(), activity()): the location of an app that sleeps when idle records
-- every arrival and holds a request while the app has no peer, until peers appear (in arrival
-- order within a worker), the app is stopped or removed, or the wake timeout passes. The
-- controller long-polls the activity over the control socket and wakes the app.
local balancer = require "ngx.balancer"
local semaphore = require "ngx.semaphore"

local dict = ngx.shared.autoserve_peers
local MAX_TRIES = 3 -- same as the rendered proxy_next_upstream_tries
local MEMBERSHIP_FILE = "conf/autoserve-membership.json" -- relative to the nginx prefix

local M = {}
local cache = {} -- per worker: app -> { raw = string, peers = { { host, port }, ... } }
local rr = {}    -- per worker: app -> index of the last first-attempt pick

local function split_peers(raw)
  local peers = {}
  for host, port in raw:gmatch("(%d+%.%d+%.%d+%.%d+):(%d+)") do
    peers[#peers + 1] = { host, tonumber(port) }
  end
  return peers
end

-- balancer_by_lua: round robin over `app`'s peers; a retry takes the peer after the one that failed.
function M.balance(app)
  local raw = dict:get(app)
  local c = cache[app]
  if raw == nil then
    c = nil
  elseif c == nil or c.raw ~= raw then
    c = { raw = raw, peers = split_peers(raw) }
    cache[app] = c
  end
  local peers = c and c.peers
  local n = peers and #peers or 0
  if n == 0 then
    -- The app has no ready replica (scaled to 0, or all replaced at once): the location's
    -- error_page answers 503. Below the error_log level: it is a state, not an event per request.
    ngx.log(ngx.INFO, "autoserve: no peers for app ", app)
    return ngx.exit(ngx.ERROR)
  end
  local i
  local ctx = ngx.ctx
  local first = balancer.get_last_failure() == nil
  -- A request held for a waking app may also retry its one peer: a replica that just started can
  -- drop connections its small accept queue has no room for (nginx retries only what it has not sent).
  if first and ctx.autoserve_held and n < MAX_TRIES then balancer.set_more_tries(MAX_TRIES - 1) end
  if n == 1 then
    i = 1
  else
    if first then
      i = (rr[app] or 0) % n + 1
      rr[app] = i
      if not ctx.autoserve_held then balancer.set_more_tries(math.min(n, MAX_TRIES) - 1) end -- lets proxy_next_upstream retry elsewhere
    else
      i = (ctx.autoserve_pick or 0) % n + 1
    end
    ctx.autoserve_pick = i
  end
  local peer = peers[i]
  local ok, err = balancer.set_current_peer(peer[1], peer[2])
  if not ok then
    ngx.log(ngx.ERR, "autoserve: set_current_peer ", peer[1], ":", peer[2], " failed: ", err)
    return ngx.exit(ngx.ERROR)
  end
end

-- Strict parser of {"apps": {"<app>": ["172.18.0.2:8080", ...], ...}} (no lua-cjson on Debian's
-- nginx). Strings may not contain escapes; every app must be a DNS label and every peer a
-- canonical a.b.c.d:port in a peer range. Returns { app = "sorted peers" } or nil, error.

-- Where replicas are reached: loopback (a published port) or a private range (a Docker network of
-- ours). The same list as PEER_RANGES in src/core/peer-address.ts: { first octet, second octet
-- from, second octet to }.
local PEER_RANGES = { { 127, 0, 255 }, { 10, 0, 255 }, { 172, 16, 31 }, { 192, 168, 168 } }

local function in_peer_range(a, b)
  for _, r in ipairs(PEER_RANGES) do
    if a == r[1] and b >= r[2] and b <= r[3] then return true end
  end
  return false
end

local function canonical_peer(s)
  local octets = { s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+):(%d+)$") }
  if #octets ~= 5 then return nil end
  for i = 1, 4 do
    local v = tonumber(octets[i])
    if v > 255 or tostring(v) ~= octets[i] then return nil end
  end
  if not in_peer_range(tonumber(octets[1]), tonumber(octets[2])) then return nil end
  local port = octets[5]
  local p = tonumber(port)
  if p < 1 or p > 65535 or tostring(p) ~= port then return nil end
  return s
end

local function valid_app(s)
  return #s <= 63 and (s:match("^[a-z0-9]$") ~= nil or s:match("^[a-z0-9][a-z0-9-]*[a-z0-9]$") ~= nil)
end

local function parse_membership(body)
  local pos = 1
  local function skip() pos = body:find("[^ \t\r\n]", pos) or #body + 1 end
  local function fail(what) error(what .. " at byte " .. pos, 0) end
  local function char(ch)
    skip()
    if body:sub(pos, pos) ~= ch then fail("expected " .. ch) end
    pos = pos + 1
  end
  local function peek()
    skip()
    return body:sub(pos, pos)
  end
  local function str()
    skip()
    local s, e = body:find('^"[^"\\%c]*"', pos)
    if not s then fail("expected a string without escapes") end
    pos = e + 1
    return body:sub(s + 1, e - 1)
  end
  -- items(close, item): a comma separated list up to `close`.
  local function items(close, item)
    if peek() == close then
      pos = pos + 1
      return
    end
    while true do
      item()
      local ch = peek()
      pos = pos + 1
      if ch == close then return end
      if ch ~= "," then fail("expected , or " .. close) end
    end
  end

  local apps = {}
  char("{")
  if str() ~= "apps" then fail('expected "apps"') end
  char(":")
  char("{")
  items("}", function()
    local app = str()
    if not valid_app(app) then fail("app is not a DNS label") end
    if apps[app] then fail("duplicate app " .. app) end
    char(":")
    char("[")
    local seen, list = {}, {}
    items("]", function()
      local peer = canonical_peer(str())
      if not peer then fail("peer is not a.b.c.d:port in a loopback or private range") end
      if not seen[peer] then
        seen[peer] = true
        list[#list + 1] = peer
      end
    end)
    table.sort(list)
    apps[app] = table.concat(list, " ")
  end)
  char("}")
  if peek() ~= "" then fail("trailing data") end
  return apps
end

-- Replaces the whole dict by `apps`. safe_set: never evict another app's peers when full.
-- Returns changed (boolean) or nil, error.
local function store(apps)
  local changed = false
  for _, key in ipairs(dict:get_keys(0)) do
    if apps[key] == nil then
      dict:delete(key)
      changed = true
    end
  end
  for app, peers in pairs(apps) do
    if dict:get(app) ~= peers then
      local ok, err = dict:safe_set(app, peers)
      if not ok then return nil, err end
      changed = true
    end
  end
  return changed
end

local function to_json()
  local keys = dict:get_keys(0)
  table.sort(keys)
  local parts = {}
  for _, app in ipairs(keys) do
    local quoted = {}
    for peer in (dict:get(app) or ""):gmatch("%S+") do quoted[#quoted + 1] = '"' .. peer .. '"' end
    parts[#parts + 1] = '"' .. app .. '":[' .. table.concat(quoted, ",") .. "]"
  end
  return '{"apps":{' .. table.concat(parts, ",") .. "}}"
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(body)
  return ngx.exit(status)
end

-- content_by_lua of /_autoserve/membership: GET returns the membership, POST replaces all of it.
function M.membership()
  local method = ngx.req.get_method()
  if method == "GET" then return reply(200, to_json()) end
  if method ~= "POST" then return reply(405, '{"error":"method_not_allowed"}') end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body == nil then return reply(400, '{"error":"body_missing_or_too_large"}') end
  local ok, apps = pcall(parse_membership, body)
  if not ok then return reply(400, '{"error":"bad_membership","detail":"' .. tostring(apps):gsub('[^%w%s:.,-]', "") .. '"}') end
  local changed, err = store(apps)
  if changed == nil then return reply(500, '{"error":"shared_dict","detail":"' .. tostring(err):gsub('[^%w%s:.,-]', "") .. '"}') end
  return reply(200, '{"changed":' .. tostring(changed) .. "}")
end

-- Scale to zero ------------------------------------------------------------------------------
-- Keys of lua_shared_dict autoserve_zero (app names are DNS labels, so a space separates fields):
--   "a <app>"        the last arrival (ngx.now(), seconds)
--   "f <app> <pid>"  requests in flight in worker <pid>: arrived, not logged yet (a worker that
--                    dies mid-request leaves its count; activity() drops the keys of dead workers)
--   "h <app>"        requests held now
--   "w <app>"        a wake is asked for: when the first request found no peer (kept until a held
--                    request sees peers, or the controller clears it when it puts the app to sleep)
--   "n <app>"        held requests, total; "t <app>" of those, answered 503 at the timeout
--   "r <app>"        why the app is not ready (the controller's words, for a timed-out request)
--   "s <app>"        the app is stopped: held and new requests get 503 with this reason at once
--   "seq"            bumped by every request that asks for a wake: ends the controller's long poll
local zero = ngx.shared.autoserve_zero
local HOLD_POLL_SECONDS = 0.01 -- how often a worker holding requests looks for peers
local HOLD_RECHECK_SECONDS = 0.25 -- a held request looks by itself this often (should its poller die)
-- Once peers appear, a worker lets its held requests go this many per poll, in arrival order: a
-- replica that has just started takes a burst of connections only as fast as its accept queue
-- allows (busybox httpd listens with a backlog of 9; 100 at once lose SYNs for a second or three).
local HOLD_RELEASE_BATCH = 8
-- A long poll looks for a new wake this often: each look costs the worker a timer (~50 us), and
-- the controller long-polls only while some app sleeps.
local LONG_POLL_STEP_SECONDS = 0.025
local MAX_LONG_POLL_SECONDS = 30
local MAX_REASON = 300

-- Per worker and app: the held requests in arrival order, and whether a poller runs for them.
-- Each waiter waits on a semaphore of its own, so only the poller decides who goes next.
local waiting = {} -- app -> { queue = { [i] = entry }, head, tail, polling }

-- What ends a hold: "peers", "gone" (no route: removed or renamed), "stopped"; nil: keep waiting.
local function hold_state(app)
  local raw = dict:get(app)
  if raw == nil then return "gone" end
  if raw:find("%d") then return "peers" end
  if zero:get("s " .. app) then return "stopped" end
  return nil
end

-- The next waiter that still waits, taken off the queue (nil when none).
local function next_waiter(w)
  while w.head <= w.tail do
    local entry = w.queue[w.head]
    w.queue[w.head] = nil
    w.head = w.head + 1
    if not entry.left then return entry end
  end
  return nil
end

-- One light thread per worker and app while requests wait: once the hold can end it lets the
-- waiters go in arrival order, HOLD_RELEASE_BATCH per poll when peers appeared, all at once when
-- the app is gone or stopped.
local function poll(premature, app)
  local w = waiting[app]
  local ok, err = pcall(function()
    while w.head <= w.tail do
      local state = hold_state(app)
      local batch = state == "peers" and HOLD_RELEASE_BATCH or (state and math.huge or 0)
      while batch > 0 do
        local entry = next_waiter(w)
        if entry == nil then break end
        entry.released = true
        entry.sema:post(1)
        batch = batch - 1
      end
      -- Waiters that left by themselves (timed out) at the head are dropped without a turn.
      while w.head <= w.tail and w.queue[w.head].left do
        w.queue[w.head] = nil
        w.head = w.head + 1
      end
      if w.head <= w.tail then ngx.sleep(HOLD_POLL_SECONDS) end
    end
  end)
  w.polling = false
  if not ok then ngx.log(ngx.ERR, "autoserve: hold poller for ", app, " failed: ", err) end
end

local function wait_for_peers(app, deadline)
  local w = waiting[app]
  if w == nil then
    w = { queue = {}, head = 1, tail = 0, polling = false }
    waiting[app] = w
  end
  local entry = { sema = semaphore.new(0), released = false, left = false }
  w.tail = w.tail + 1
  w.queue[w.tail] = entry
  while true do
    local state = hold_state(app)
    -- With peers, a waiter goes when the poller lets it (its turn), or by itself without a poller.
    if state and (state ~= "peers" or entry.released or not w.polling) then
      entry.left = true
      return state
    end
    local left = deadline - ngx.now()
    if left <= 0 then
      entry.left = true
      return "timeout"
    end
    if not w.polling then
      local started, err = ngx.timer.at(0, poll, app)
      if started then w.polling = true else ngx.log(ngx.WARN, "autoserve: no hold poller for ", app, ": ", err) end
    end
    entry.sema:wait(math.min(left, HOLD_RECHECK_SECONDS))
    ngx.update_time()
  end
end

-- Printable ASCII without quote, backslash or control characters: safe inside a JSON string.
local function json_safe(text)
  return (tostring(text or ""):gsub('[^ -~]', ""):gsub('["\\]', ""):sub(1, MAX_REASON))
end

local function refuse(status, error_code, app, fields)
  local parts = { '"error":"' .. error_code .. '"', '"app":"' .. app .. '"' }
  for _, f in ipairs(fields) do parts[#parts + 1] = f end
  return reply(status, "{" .. table.concat(parts, ",") .. "}")
end

local function wants_html()
  local accept = ngx.req.get_headers()["accept"]
  if type(accept) == "table" then accept = table.concat(accept, ",") end
  return accept ~= nil and accept:find("text/html", 1, true) ~= nil
end

local function starting_page(app)
  ngx.status = 503
  ngx.header["Content-Type"] = "text/html; charset=utf-8"
  ngx.header["Retry-After"] = "2"
  ngx.header["Cache-Control"] = "no-store"
  ngx.say('<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">',
    "<title>Starting ", app, "</title></head><body style=\"font-family:sans-serif;margin:3em\">",
    "<h1>Starting ", app, "&hellip;</h1><p>This app was asleep. This page reloads itself until it answers.</p>",
    "</body></html>")
  return ngx.exit(503)
end

-- access_by_lua of a sleeping-capable app's location: records the arrival, and with no peer holds
-- the request (or, with the starting page on, answers a browser with it) and asks for a wake.
function M.hold(app, timeout_seconds, page)
  local now = ngx.now()
  zero:set("a " .. app, now)
  zero:incr("f " .. app .. " " .. ngx.worker.pid(), 1, 0)
  ngx.var.autoserve_counted = "1"
  local state = hold_state(app)
  if state == "peers" then
    -- A wake left behind (only starting pages asked for it, or its clear was lost) ends here.
    zero:delete("w " .. app)
    return
  end
  if state == "gone" then return refuse(404, "app_removed", app, { '"reason":"the app is no longer routed"' }) end
  if state == "stopped" then return refuse(503, "app_stopped", app, { '"reason":"' .. json_safe(zero:get("s " .. app)) .. '"' }) end

  zero:add("w " .. app, now)
  zero:incr("seq", 1, 0)
  -- Only a page load gets the page: a form's POST would lose its body to the page's reload.
  local method = ngx.req.get_method()
  if page and (method == "GET" or method == "HEAD") and wants_html() then return starting_page(app) end
  -- Held counts per worker, like requests in flight: a worker that dies while holding leaves no
  -- count behind (its key is dropped once its pid is gone).
  local held_key = "g " .. app .. " " .. ngx.worker.pid()
  zero:incr(held_key, 1, 0)
  zero:incr("n " .. app, 1, 0)
  ngx.ctx.autoserve_held = true
  local ok, outcome = pcall(wait_for_peers, app, now + timeout_seconds)
  zero:incr(held_key, -1, 0)
  if not ok then
    ngx.log(ngx.ERR, "autoserve: holding a request for ", app, " failed: ", outcome)
    return refuse(503, "hold_failed", app, {})
  end
  if outcome == "peers" then
    zero:delete("w " .. app)
    return
  end
  if outcome == "gone" then
    return refuse(404, "app_removed", app, { '"reason":"the app was removed or renamed while this request waited"' })
  end
  if outcome == "stopped" then return refuse(503, "app_stopped", app, { '"reason":"' .. json_safe(zero:get("s " .. app)) .. '"' }) end
  zero:incr("t " .. app, 1, 0)
  local reason = zero:get("r " .. app) or "the controller has not started a replica (is it running?)"
  return refuse(503, "wake_timeout", app, {
    '"waitedSeconds":' .. timeout_seconds,
    '"reason":"no replica became ready within ' .. timeout_seconds .. ' s: ' .. json_safe(reason) .. '"',
  })
end

-- log_by_lua (the location and its no-peer fallback): the request is no longer in flight.
function M.done(app)
  if ngx.var.autoserve_counted ~= "1" then return end
  ngx.var.autoserve_counted = ""
  zero:incr("f " .. app .. " " .. ngx.worker.pid(), -1, 0)
end

local function pid_alive(pid)
  local file = io.open("/proc/" .. pid .. "/stat", "r")
  if file then
    file:close()
    return true
  end
  -- Without a readable /proc (hidepid) every worker counts as alive: never lose a request in flight.
  local self = io.open("/proc/self/stat", "r")
  if self then self:close() end
  return self == nil
end

local function activity_json()
  local apps, order = {}, {}
  local function entry(app)
    local e = apps[app]
    if e == nil then
      e = { inflight = 0 }
      apps[app] = e
      order[#order + 1] = app
    end
    return e
  end
  local fields = { a = "arrival", w = "wake", n = "heldTotal", t = "timeouts" }
  local per_worker = { f = "inflight", g = "held" }
  for _, key in ipairs(zero:get_keys(0)) do
    local kind, app, pid = key:match("^(%a) ([%w-]+) ?(%d*)$")
    if kind and per_worker[kind] and pid ~= "" then
      if pid_alive(pid) then
        local e, name = entry(app), per_worker[kind]
        e[name] = (e[name] or 0) + math.max(0, zero:get(key) or 0)
      else
        zero:delete(key)
      end
    elseif kind and fields[kind] then
      local value = zero:get(key)
      if type(value) == "number" then entry(app)[fields[kind]] = value end
    end
  end
  table.sort(order)
  local parts = {}
  for _, app in ipairs(order) do
    local e, items = apps[app], {}
    for _, name in ipairs({ "arrival", "inflight", "held", "wake", "heldTotal", "timeouts" }) do
      local v = e[name]
      if v ~= nil then items[#items + 1] = string.format('"%s":%.3f', name, v) end
    end
    parts[#parts + 1] = '"' .. app .. '":{' .. table.concat(items, ",") .. "}"
  end
  return string.format('{"seq":%d,"now":%.3f,"apps":{%s}}', zero:get("seq") or 0, ngx.now(), table.concat(parts, ","))
end

-- POST lines: "state <app> hold|stop <reason>" (all of them: apps not named lose theirs) and
-- "clear <app> <seconds>" (forget a wake asked for at or before then).
local function apply_activity_post(body)
  local reasons, stops, clears = {}, {}, {}
  for line in body:gmatch("[^\n]+") do
    local app, what, text = line:match("^state ([%w-]+) (%a+) ?(.*)$")
    if app and valid_app(app) and (what == "hold" or what == "stop") then
      if what == "stop" then stops[app] = json_safe(text) else reasons[app] = json_safe(text) end
    else
      local capp, at = line:match("^clear ([%w-]+) (%d+%.?%d*)$")
      if not (capp and valid_app(capp)) then error("bad line: " .. json_safe(line:sub(1, 80)), 0) end
      clears[capp] = tonumber(at)
    end
  end
  for _, key in ipairs(zero:get_keys(0)) do
    local kind, app = key:match("^([rs]) ([%w-]+)$")
    if kind == "r" and reasons[app] == nil then zero:delete(key) end
    if kind == "s" and stops[app] == nil then zero:delete(key) end
  end
  for app, text in pairs(reasons) do zero:safe_set("r " .. app, text) end
  for app, text in pairs(stops) do zero:safe_set("s " .. app, text) end
  for app, at in pairs(clears) do
    local asked = zero:get("w " .. app)
    if asked ~= nil and asked <= at then zero:delete("w " .. app) end
  end
end

-- content_by_lua of /_autoserve/activity: GET ?after=<seq>&wait=<ms> answers once a wake is asked
-- for after <seq>, or after <ms>; POST sets reasons and stops and clears wakes.
function M.activity()
  local method = ngx.req.get_method()
  if method == "GET" then
    local args = ngx.req.get_uri_args()
    local after = tonumber(args.after)
    if after then
      local deadline = ngx.now() + math.min(math.max(tonumber(args.wait) or 0, 0) / 1000, MAX_LONG_POLL_SECONDS)
      while (zero:get("seq") or 0) <= after and ngx.now() < deadline do
        ngx.sleep(LONG_POLL_STEP_SECONDS)
      end
    end
    return reply(200, activity_json())
  end
  if method ~= "POST" then return reply(405, '{"error":"method_not_allowed"}') end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body == nil then body = "" end
  local ok, err = pcall(apply_activity_post, body)
  if not ok then return reply(400, '{"error":"bad_activity","detail":"' .. json_safe(err) .. '"}') end
  return reply(200, '{"ok":true}')
end

-- init_by_lua (master, every start and reload, and nginx -t): seed the dict from the last
-- membership the controller wrote, so a restarted master does not wait for the next POST.
function M.init()
  local file = io.open(ngx.config.prefix() .. MEMBERSHIP_FILE, "r")
  if file == nil then return end
  local body = file:read("*a")
  file:close()
  local ok, apps = pcall(parse_membership, body or "")
  if not ok then
    ngx.log(ngx.WARN, "autoserve: ignoring ", MEMBERSHIP_FILE, ": ", apps)
    return
  end
  local stored, err = store(apps)
  if stored == nil then ngx.log(ngx.WARN, "autoserve: seeding the membership failed: ", err) end
end

return M
