-- wrk script for bench_whatsapp.py: posts the pre-signed webhook bodies in order and stops
-- once as many answers as bodies came back (connections still in flight then may post a
-- few bodies a second time: redeliveries, which atiende stores once).
-- The bodies file has one "signature<TAB>body" per line; BODIES names it.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  local tab = line:find("\t", 1, true)
  bodies[#bodies + 1] = { sig = line:sub(1, tab - 1), body = line:sub(tab + 1) }
end
local next_index, answered, failed = 0, 0, 0

request = function()
  next_index = next_index + 1
  local item = bodies[((next_index - 1) % #bodies) + 1]
  return wrk.format("POST", "/webhooks/whatsapp", {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = item.sig,
  }, item.body)
end

response = function(status, headers, body)
  answered = answered + 1
  if status ~= 200 then failed = failed + 1 end
  if answered == #bodies then
    -- wrk runs for its whole duration; the bench sees this file and interrupts it (SIGINT),
    -- after which wrk prints its results through done().
    io.open(os.getenv("DONE_FILE"), "w"):close()
  end
end

done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d errors=%d non200=%d p50_us=%d p99_us=%d max_us=%d duration_us=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency.max, summary.duration))
end
