"""Files named by URL, fetched as untrusted: what a job's input URI or a listing's package URI names.

Everything fetched is checked by its caller against an on-chain commitment before it is used (an input against
the job's input commitment, a package against the listing's cipher root), so a gateway or host is trusted with
nothing but availability. The fetch itself is bounded so that a URI published on chain by anyone cannot turn an
agent against its own machine or network:

* schemes: `https://`, `http://`, `ipfs://CID[/path]` (through a gateway: `APIARY_IPFS_GATEWAY`, default
  `https://ipfs.io/ipfs/`), and `file://` or a plain path only where `allow_file` (a dev chain);
* the host's addresses are resolved once and each must be public: no loopback, private, link-local, shared,
  multicast or reserved address unless `allow_private` (a dev chain, or `APIARY_ALLOW_PRIVATE_URLS=1`); the
  connection goes to the address that was checked (no second resolution to rebind), TLS still checks the name;
* at most `max_redirects` redirects, each checked like the first; only `200` is content;
* at most `max_bytes` (an announced larger `Content-Length` is refused before reading), within `timeout` seconds
  for the whole transfer.

Failures are one line: `FetchError("cannot fetch <url>: <why>")`.

    policy = FetchPolicy.for_chain(chain_id, max_bytes=64 * 1024)
    path = fetch_to("https://example.org/x.csv", Path("build/inputs/x.csv"), policy)
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .errors import ApiaryCliError

DEV_CHAIN_IDS = frozenset({1337, 31337})  # anvil/hardhat and ape's embedded chain: local files and hosts are fine
DEFAULT_GATEWAY = "https://ipfs.io/ipfs/"
CHUNK = 64 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "apiary-fetch/1"


class FetchError(ApiaryCliError):
    """A URL that could not be fetched within the policy: one line naming it and why."""


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout: float = 60.0
    max_redirects: int = 3
    allow_private: bool = False
    allow_file: bool = False
    gateway: str = DEFAULT_GATEWAY

    @classmethod
    def for_chain(cls, chain_id: int, max_bytes: int, **overrides) -> FetchPolicy:
        """Local files and hosts on a dev chain only; `APIARY_ALLOW_PRIVATE_URLS=1` allows private hosts anywhere
        (a test network on one LAN); `APIARY_IPFS_GATEWAY` names the gateway."""
        dev = int(chain_id) in DEV_CHAIN_IDS
        policy = cls(max_bytes=int(max_bytes), allow_file=dev,
                     allow_private=dev or os.environ.get("APIARY_ALLOW_PRIVATE_URLS") == "1",
                     gateway=os.environ.get("APIARY_IPFS_GATEWAY") or DEFAULT_GATEWAY)
        return replace(policy, **overrides)


def is_local(uri: str) -> bool:
    """A `file://` URI or a plain path: only readable on the machine that wrote it."""
    scheme = urlsplit(uri).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and uri[1:3] in (":\\", ":/"))  # C:\… is a path


def local_path(uri: str, base: Path | None = None) -> Path:
    path = Path(unquote(urlsplit(uri).path) if uri.lower().startswith("file://") else uri)
    return path if path.is_absolute() or base is None else base / path


def http_url(uri: str, policy: FetchPolicy) -> str:
    """`uri` as the http(s) URL to request (an `ipfs://` one through the gateway)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return uri
    if scheme == "ipfs":
        rest = (parts.netloc + parts.path).lstrip("/")
        if not rest:
            raise FetchError(f"cannot fetch {uri}: no content id after ipfs://")
        return policy.gateway.rstrip("/") + "/" + rest
    raise FetchError(f"cannot fetch {uri}: use an https://, http:// or ipfs:// URL")


def check_host(host: str, port: int, policy: FetchPolicy, url: str) -> str:
    """The address to connect to: `host` resolved once, every address it has checked (a name with one private
    address among public ones is refused: which one a connection would use is not ours to pick)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot fetch {url}: {host} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(f"cannot fetch {url}: {host} has no address")
    if not policy.allow_private:
        for address in addresses:
            if not _public(address):
                raise FetchError(f"cannot fetch {url}: {host} is {address}, a private, loopback or reserved address "
                                 "(allowed on a dev chain, or with APIARY_ALLOW_PRIVATE_URLS=1)")
    return addresses[0]


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to the checked address; the Host header keeps the name."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address; the certificate is checked against the name."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _open(url: str, policy: FetchPolicy, deadline: float):
    """Follow redirects to a 200 response; returns (final URL, connection, response)."""
    current = url
    for _hop in range(policy.max_redirects + 1):
        parts = urlsplit(current)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"cannot fetch {url}: {current} is not an http(s) URL")
        port = parts.port or (443 if scheme == "https" else 80)
        address = check_host(parts.hostname, port, policy, url)
        remaining = max(deadline - time.monotonic(), 0.1)
        cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = cls(parts.hostname, address, port, min(policy.timeout, remaining))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
            response = conn.getresponse()
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            conn.close()
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {str(exc)[:160] or 'no answer'}") from None
        if response.status in REDIRECTS and response.getheader("Location"):
            current = urljoin(current, response.getheader("Location"))
            conn.close()
            continue
        if response.status != 200:
            conn.close()
            raise FetchError(f"cannot fetch {url}: the server answered {response.status} {response.reason}")
        return current, conn, response
    raise FetchError(f"cannot fetch {url}: more than {policy.max_redirects} redirects")


def _stream(uri: str, policy: FetchPolicy, sink: Callable[[bytes], None]) -> int:
    url = http_url(uri, policy)
    deadline = time.monotonic() + policy.timeout
    _final, conn, response = _open(url, policy, deadline)
    try:
        announced = response.getheader("Content-Length")
        if announced is not None and announced.strip().isdigit() and int(announced) > policy.max_bytes:
            raise FetchError(f"cannot fetch {uri}: it is {int(announced):,} bytes, more than the {policy.max_bytes:,} "
                             "allowed")
        total = 0
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"cannot fetch {uri}: not done within {policy.timeout:g} s")
            try:
                chunk = response.read1(CHUNK)  # what arrived: a dribbling server meets the deadline
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(f"cannot fetch {uri}: {type(exc).__name__}: {str(exc)[:160] or 'cut off'}") from None
            if not chunk:
                return total
            total += len(chunk)
            if total > policy.max_bytes:
                raise FetchError(f"cannot fetch {uri}: more than the {policy.max_bytes:,} bytes allowed")
            sink(chunk)
    finally:
        conn.close()


def fetch_bytes(uri: str, policy: FetchPolicy, base: Path | None = None) -> bytes:
    """The content `uri` names, within `policy` (a local path only where the policy allows files)."""
    if is_local(uri):
        path = local_file(uri, policy, base)
        with path.open("rb") as f:
            data = f.read(policy.max_bytes + 1)
        if len(data) > policy.max_bytes:
            raise FetchError(f"cannot read {path}: more than the {policy.max_bytes:,} bytes allowed")
        return data
    parts: list[bytes] = []
    _stream(uri, policy, parts.append)
    return b"".join(parts)


def fetch_to(uri: str, dest: Path, policy: FetchPolicy, base: Path | None = None) -> Path:
    """Write the content `uri` names to `dest` (whole or not at all); a local path is returned as it is."""
    if is_local(uri):
        return local_file(uri, policy, base)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    try:
        with partial.open("wb") as f:
            _stream(uri, policy, f.write)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def local_file(uri: str, policy: FetchPolicy, base: Path | None = None) -> Path:
    """The regular file a local URI names, where the policy allows local files (a dev chain)."""
    if not policy.allow_file:
        raise FetchError(f"cannot use {uri}: a local file is only readable on the machine that wrote it; on this "
                         "network files are named by https://, http:// or ipfs:// URLs (serve one with "
                         "`apiary serve --files DIR`)")
    path = local_path(uri, base)
    if not path.is_file():
        raise FetchError(f"cannot read {uri}: {path} is not a file")
    if path.stat().st_size > policy.max_bytes:
        raise FetchError(f"cannot read {path}: more than the {policy.max_bytes:,} bytes allowed")
    return path
