-- wrk script: POSTs one pre-serialised body again and again. The body file, its content type
-- and content encoding come from the environment (set by benches/http/ingest.sh).
local file = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
local encoding = os.getenv("CONTENT_ENCODING")
if encoding ~= nil and encoding ~= "" then
  wrk.headers["Content-Encoding"] = encoding
end

