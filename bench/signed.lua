-- wrk script: POST pre-signed Twilio webhooks, each once, from the file given after `--`.
-- Lines are "signature<TAB>form body" (bench/webhooks.py). Formatting every request in init
-- keeps the Lua per request to one table lookup, so wrk measures the server, not the script.
local requests = {}
local count = 0
local i = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    count = count + 1
    requests[count] = wrk.format("POST", wrk.path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = sig,
    }, body)
  end
  file:close()
end

function request()
  i = i + 1
  if i > count then i = 1 end -- past the end: duplicates, which ingress answers 200 too
  return requests[i]
end
