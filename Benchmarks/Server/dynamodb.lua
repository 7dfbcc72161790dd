-- wrk script of Benchmarks/server.sh: DynamoDB PutItem or GetItem requests on the table Bench, over DynamoDB's
-- JSON protocol with a static, well-formed SigV4 Authorization header (the servers run without credentials, so
-- they check its form, not its signature).
--
--   wrk -t2 -c32 -d10s -s dynamodb.lua http://127.0.0.1:PORT -- OPERATION RUN DELAY_MS PRELOADED
--
-- OPERATION: put (100-byte items, a new key per request: the run number, the wrk thread and a per-thread
--            counter, so that no request of any run overwrites an item), get (a key drawn at random from the
--            PRELOADED items preload-000000 ... written by bench.py), or health (GET /health: the same HTTP
--            round trips with no database work, the floor the machine and wrk set).
-- DELAY_MS:  0 for back-to-back requests on each connection; otherwise each connection waits a random whole
--            number of milliseconds, uniform in [0, 2 * DELAY_MS], before each request (mean DELAY_MS), which
--            paces the load without making the connections fire in step.
--
-- A response other than 200, and a GetItem answer without an Item, is counted. done() prints one line,
-- "RESULT {...}", with the run's figures as JSON (latencies in microseconds, from wrk's histogram; "sent" is
-- the requests built, one more than wrk sends: it builds one in its first thread to check the script).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

-- Per-thread figures, globals so that done() can read them with thread:get().
sent = 0
non200 = 0
missing = 0
first_error = ""

local operation, run, gets

-- The non-key attributes of every item: with the 14-character key, attribute names and values add up to
-- 100 bytes (DynamoDB's item size: the UTF-8 lengths of the names and the string values).
local attributes = '"name":{"S":"Ada Lovelace0001"},"email":{"S":"ada@example.invalid0001"},'
   .. '"city":{"S":"London000001"},"note":{"S":"benchmarkitem000"}'

function init(args)
   operation = args[1]
   run = tonumber(args[2])
   local mean_delay = tonumber(args[3])
   local preloaded = tonumber(args[4])
   math.randomseed(run * 1000 + thread_number)

   wrk.method = "POST"
   wrk.path = "/"
   wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
   wrk.headers["X-Amz-Date"] = "20260101T000000Z"
   wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, "
      .. "SignedHeaders=host;x-amz-date, Signature="
      .. "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

   if operation == "get" then
      wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
      gets = {}
      for i = 1, preloaded do
         gets[i] = wrk.format(nil, nil, nil, string.format(
            '{"TableName":"Bench","Key":{"id":{"S":"%s"}}}', string.format("preload-%06d", i - 1)))
      end
      request = function()
         sent = sent + 1
         return gets[math.random(preloaded)]
      end
   elseif operation == "put" then
      wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
      request = function()
         sent = sent + 1
         return wrk.format(nil, nil, nil, string.format(
            '{"TableName":"Bench","Item":{"id":{"S":"%s"},%s}}', string.format("p%02d-%d-%08d", run, thread_number, sent),
            attributes))
      end
   elseif operation == "health" then
      wrk.method = "GET"
      wrk.path = "/health"
      wrk.body = nil
      wrk.headers = {}
      local health = wrk.format()
      request = function()
         sent = sent + 1
         return health
      end
   else
      error("operation must be put, get or health, not " .. tostring(operation))
   end

   if mean_delay > 0 then
      delay = function()
         return math.random(0, 2 * mean_delay)
      end
   end
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      if first_error == "" then
         first_error = status .. " " .. string.sub(body or "", 1, 300)
      end
   elseif operation == "get" and not string.find(body or "", '"Item"', 1, true) then
      missing = missing + 1
   end
end

function done(summary, latency, requests)
   local totals = { sent = 0, non200 = 0, missing = 0 }
   local first = ""
   for _, thread in ipairs(threads) do
      for name in pairs(totals) do
         totals[name] = totals[name] + thread:get(name)
      end
      if first == "" then
         first = thread:get("first_error")
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "sent": %d, "non200": %d, "missing": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, "first_error": "%s"}\n',
      summary.requests, summary.duration, totals.sent, totals.non200, totals.missing,
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
      (string.gsub(first, '[%c"\\]', "?"))))
end
