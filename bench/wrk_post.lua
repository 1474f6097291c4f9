-- wrk script for the benches: POSTs the prepared requests in order and signals when as many
-- answers as requests came back (wrk itself runs until interrupted; the bench sends SIGINT
-- on that signal and wrk reports through done()). Connections still in flight at the end
-- may post a few requests a second time.
-- REQUESTS names a file with one request per line: TAB-separated "Header: value" fields,
-- the body last. WRK_PATH is the path, DONE_FILE the file to create, EXPECT the status.
local requests = {}
for line in io.lines(os.getenv("REQUESTS")) do
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
  local headers = {}
  for i = 1, #fields - 1 do
    local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  requests[#requests + 1] = { headers = headers, body = fields[#fields] }
end
local path, expect = os.getenv("WRK_PATH"), tonumber(os.getenv("EXPECT"))
local sent, answered, unexpected = 0, 0, 0

request = function()
  sent = sent + 1
  local r = requests[((sent - 1) % #requests) + 1]
  return wrk.format("POST", path, r.headers, r.body)
end

response = function(status, headers, body)
  answered = answered + 1
  if status ~= expect then unexpected = unexpected + 1 end
  if answered == #requests then io.open(os.getenv("DONE_FILE"), "w"):close() end
end

done = function(summary, latency, requests_)
  io.write(string.format(
    "RESULT requests=%d errors=%d unexpected=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, unexpected,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
