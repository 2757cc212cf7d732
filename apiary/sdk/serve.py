"""`apiary serve --files DIR`: the files of one folder over HTTP, for whoever has no host of their own — a seller's
encrypted packages, a requester's job inputs. What is served is public (packages are encrypted; inputs are what a
provider must read anyway) and checked by every reader against its on-chain commitment, so plain HTTP is enough.

Only regular files directly in the folder or below it are served (no listing of folders, no symlink or `..`
leading out of it), by GET and HEAD; every request is logged in one line.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _FolderHandler(SimpleHTTPRequestHandler):
    log_line: Callable[[str], None] = print

    def send_head(self):  # noqa: ANN201 - http.server's signature
        # Regular files inside the folder only: a folder (no listing), a symlink or `..` out of it is "not found".
        root = Path(self.directory).resolve()
        try:
            real = Path(self.translate_path(self.path)).resolve()
        except (OSError, RuntimeError):
            real = root
        if not real.is_file() or (root not in real.parents):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        self.log_line(f"{self.address_string()} {format % args}")


def make_server(folder: Path, host: str = "0.0.0.0", port: int = 8000,
                log: Callable[[str], None] = print) -> ThreadingHTTPServer:
    """A server for `folder` bound to host:port (port 0: any free port); `serve_forever()` runs it."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    handler = type("FolderHandler", (_FolderHandler,), {"log_line": staticmethod(log)})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    return server


def reachable_address(host: str) -> str:
    """The address others would use for a server bound to `host`: the interface that routes outward for 0.0.0.0
    (found without sending anything), else `host` itself."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect picks the route and sends nothing
        return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()
    finally:
        probe.close()


def file_urls(folder: Path, base_url: str, limit: int = 5) -> list[str]:
    """URLs of the first `limit` files in `folder` (sorted), as a reader would request them."""
    from urllib.parse import quote

    folder = Path(folder)
    found = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return [base_url + quote(os.fspath(p.relative_to(folder)).replace(os.sep, "/")) for p in found[:limit]]
