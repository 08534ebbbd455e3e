"""schemathesis hooks for infra/contract-test.

`cargo lambda watch` answers a JSON request whose body is not UTF-8 with a 500 of its own, before any function
runs (API Gateway passes such bodies on). schemathesis's syntax fuzzing sends random bytes as JSON bodies, so those
bytes are made UTF-8 here, lossily: the body stays random non-JSON, and reaches the function. The functions' answer
to bodies that are not UTF-8 at all is tested in-process (tests/api/robustness.rs) and by `make fuzz`.
"""

import schemathesis


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", errors="replace").encode("utf-8")
    return body
