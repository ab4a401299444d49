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
local balancer = require "ngx.balancer"

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
  if n == 1 then
    i = 1
  else
    local ctx = ngx.ctx
    if balancer.get_last_failure() == nil then
      i = (rr[app] or 0) % n + 1
      rr[app] = i
      balancer.set_more_tries(math.min(n, MAX_TRIES) - 1) -- lets proxy_next_upstream retry elsewhere
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
