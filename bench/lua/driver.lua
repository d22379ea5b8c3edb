-- wrk driver for one scenario. Reads a request template (written by the Python runner) and fills its
-- placeholders for every request, so writes can vary digests and deployment names:
--   {{hex}}    64 random hex digits (a fresh sha256 digest)
--   {{name}}   an existing name from a pool of `pool` (an update), or with probability `insert_ratio`
--              a name never used before (an insert)
--   {{value}}  a random line of `values_file` (e.g. digests known to exist, for reads)
--   {{seq}}    a counter unique to this run and thread
--   {{payload}} base64 of `payload_file` with its own placeholders filled (e.g. a DSSE payload
--              whose in-toto statement names a fresh subject digest)
-- At the end it prints one line "WRK_JSON {...}" that the runner parses.

local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

local spec = { headers = {}, insert_ratio = 0, pool = 1 }
local values = {}
local counter = 0
local static_request = nil

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function hex64()
  local parts = {}
  for i = 1, 16 do
    parts[i] = string.format("%04x", math.random(0, 65535))
  end
  return table.concat(parts)
end

local generators = {
  hex = hex64,
  name = function()
    if math.random() < spec.insert_ratio then
      return string.format("new-%s-%d-%d", spec.nonce or "x", tid or 0, counter)
    end
    return string.format("dep-%d", math.random(0, spec.pool - 1))
  end,
  value = function()
    return values[math.random(1, #values)]
  end,
  seq = function()
    return string.format("%s-%d-%d", spec.nonce or "x", tid or 0, counter)
  end,
}

local function fill(template)
  return (template:gsub("{{(%w+)}}", function(key)
    return generators[key]()
  end))
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

generators.payload = function()
  return base64(fill(spec.payload))
end

function init(args)
  for line in io.lines(args[1]) do
    local key, rest = line:match("^(%S+)\t(.*)$")
    if key == "header" then
      local name, value = rest:match("^([^\t]+)\t(.*)$")
      spec.headers[name] = value
    elseif key == "insert_ratio" or key == "pool" then
      spec[key] = tonumber(rest)
    elseif key == "body_file" then
      spec.body = read_all(rest)
    elseif key == "payload_file" then
      spec.payload = read_all(rest)
    elseif key == "values_file" then
      for v in io.lines(rest) do
        values[#values + 1] = v
      end
    elseif key then
      spec[key] = rest
    end
  end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  local dynamic = spec.path:find("{{", 1, true) or (spec.body and spec.body:find("{{", 1, true))
  if not dynamic then
    static_request = wrk.format(spec.method, spec.path, spec.headers, spec.body)
  end
end

function request()
  counter = counter + 1
  if static_request then
    return static_request
  end
  local body = nil
  if spec.body then
    body = fill(spec.body)
  end
  return wrk.format(spec.method, fill(spec.path), spec.headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
