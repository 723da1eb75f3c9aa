"""The ceiling: a bare raw-ASGI hello world under the same uvicorn options as the services.

`python -m bench.hello PORT`. uvloop + httptools, access log off, one worker: the same
`uvicorn.Config` options as `libs.server.serve`, so the ratio to ingress measures the
service's own work, not a difference in server settings.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

BODY = b"Hello, world!"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())],
}
END = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with 200 and a fixed body (ignores lifespan)."""
    if scope["type"] != "http":
        return
    await send(START)
    await send(END)


def main() -> None:
    """Serve on 127.0.0.1:PORT until SIGTERM."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
    )


if __name__ == "__main__":
    main()
