-- AutoServe bench: reload-free membership for nginx (balancer_by_lua over a shared dict).
--
-- The controller POSTs an app's whole peer list to /_membership?app=NAME (loopback only); the
-- list lands in the lua_shared_dict, which every worker reads on its next pick. No reload, so no
-- worker restarts and no client keep-alive connection is closed. Each worker caches the parsed
-- list and re-parses only when the stored string changes (interned strings: a pointer compare).
-- Round robin is per worker. Requests in flight, including those on upstream keep-alive
-- connections to a removed peer, finish normally: the balancer only affects new picks.
local balancer = require "ngx.balancer"

local dict = ngx.shared.autoserve_peers
local MAX_TRIES = 3 -- same as the rendered proxy_next_upstream_tries

local M = {}
local cache = {} -- app -> { raw = string, peers = { { host, port }, ... } }
local rr = {}    -- app -> last index picked by this worker

local function parse(raw)
  local peers = {}
  for host, port in raw:gmatch("(127%.%d+%.%d+%.%d+):(%d+)") do
    peers[#peers + 1] = { host, tonumber(port) }
  end
  return peers
end

-- balancer_by_lua: pick the next peer of `app`.
function M.balance(app)
  local raw = dict:get(app)
  local c = cache[app]
  if raw == nil then
    c = nil
  elseif c == nil or c.raw ~= raw then
    c = { raw = raw, peers = parse(raw) }
    cache[app] = c
  end
  local peers = c and c.peers
  local n = peers and #peers or 0
  if n == 0 then
    ngx.log(ngx.WARN, "no peers for app ", app)
    return ngx.exit(503)
  end
  local i = (rr[app] or 0) % n + 1
  rr[app] = i
  if balancer.get_last_failure() == nil and n > 1 then
    -- First attempt: allow retries on other peers (proxy_next_upstream error timeout ...).
    balancer.set_more_tries(math.min(n, MAX_TRIES) - 1)
  end
  local peer = peers[i]
  local ok, err = balancer.set_current_peer(peer[1], peer[2])
  if not ok then
    ngx.log(ngx.ERR, "set_current_peer ", peer[1], ":", peer[2], " failed: ", err)
    return ngx.exit(500)
  end
end

-- content_by_lua of /_membership: POST replaces an app's peers ("127.0.0.1:PORT ..." in the body,
-- whitespace separated; an empty body means no ready replica). GET returns what is stored.
function M.membership()
  local app = ngx.var.arg_app
  if app == nil or not app:match("^[%w_.-]+$") then
    ngx.status = 400
    ngx.say("bad app")
    return ngx.exit(400)
  end
  local method = ngx.req.get_method()
  if method == "GET" then
    ngx.say(dict:get(app) or "")
    return
  end
  if method ~= "POST" then
    return ngx.exit(405)
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local seen, list = {}, {}
  for entry in body:gmatch("%S+") do
    local host, port = entry:match("^(127%.%d+%.%d+%.%d+):(%d+)$")
    port = tonumber(port)
    if host == nil or port < 1 or port > 65535 then
      ngx.status = 400
      ngx.say("bad peer ", entry)
      return ngx.exit(400)
    end
    local key = host .. ":" .. port
    if not seen[key] then
      seen[key] = true
      list[#list + 1] = key
    end
  end
  table.sort(list)
  local ok, err = dict:set(app, table.concat(list, " "))
  if not ok then
    ngx.status = 500
    ngx.say("shared dict: ", err)
    return ngx.exit(500)
  end
  return ngx.exit(204)
end

return M
