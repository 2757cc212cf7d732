"""Files named by URL (apiary/sdk/fetch.py) and the folder server (apiary/sdk/serve.py), against a real HTTP server
on this machine: content within the policy, and one line for every refusal (a private address, too many bytes,
too many redirects, a slow server, a local file off a dev chain)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apiary.sdk.fetch import FetchError, FetchPolicy, _public, fetch_bytes, fetch_to, http_url, is_local
from apiary.sdk.serve import file_urls, make_server


def _run(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def folder_server(tmp_path):
    files = tmp_path / "public"
    files.mkdir()
    (files / "x.csv").write_text("5.1,3.5,1.4,0.2\n")
    (files / "sub").mkdir()
    (files / "sub" / "p.apkg").write_bytes(b"\x01" * 5000)
    (tmp_path / "secret.txt").write_text("not yours")
    (files / "leak.txt").symlink_to(tmp_path / "secret.txt")
    lines: list[str] = []
    server = make_server(files, "127.0.0.1", 0, log=lines.append)
    yield _run(server), files, lines
    server.shutdown()
    server.server_close()


class _Tricks(BaseHTTPRequestHandler):
    """Redirect loops, lying or missing lengths, a stalling body."""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/loop"):
            n = int(self.path.removeprefix("/loop") or 0)
            self.send_response(302)
            self.send_header("Location", f"/loop{n + 1}")
            self.end_headers()
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/big-announced":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024**3))  # "10 GB"
            self.end_headers()
        elif self.path == "/big-unannounced":
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"\0" * 4096)
        elif self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"1")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def tricks():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tricks)
    server.daemon_threads = True
    yield _run(server)
    server.shutdown()
    server.server_close()


LAN = FetchPolicy(max_bytes=10_000, timeout=5, allow_private=True)


def test_fetch__served_file__within_the_policy(folder_server, tmp_path):
    base, files, lines = folder_server
    assert fetch_bytes(f"{base}/x.csv", LAN) == b"5.1,3.5,1.4,0.2\n"
    out = fetch_to(f"{base}/sub/p.apkg", tmp_path / "dl" / "p.apkg", LAN)
    assert out.read_bytes() == b"\x01" * 5000 and not (tmp_path / "dl" / "p.apkg.part").exists()
    assert any("GET /x.csv" in line for line in lines)


def test_fetch__a_private_or_loopback_host__refused_unless_allowed(folder_server):
    base, _, lines = folder_server
    with pytest.raises(FetchError, match=r"127\.0\.0\.1, a private, loopback or reserved address"):
        fetch_bytes(f"{base}/x.csv", FetchPolicy(max_bytes=10_000))
    assert not lines, "nothing may be requested from a refused address"


@pytest.mark.parametrize("address, public", [
    ("10.1.2.3", False), ("192.168.1.1", False), ("172.16.0.1", False), ("127.0.0.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1", False),
    ("fc00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
])
def test_public__only_global_unicast_addresses(address, public):
    assert _public(address) is public


def test_fetch__too_many_bytes__refused_announced_or_not(tricks, tmp_path):
    with pytest.raises(FetchError, match=r"it is 10,737,418,240 bytes, more than the 10,000 allowed"):
        fetch_bytes(f"{tricks}/big-announced", LAN)
    with pytest.raises(FetchError, match=r"more than the 10,000 bytes allowed"):
        fetch_to(f"{tricks}/big-unannounced", tmp_path / "big", LAN)
    assert not (tmp_path / "big").exists() and not (tmp_path / "big.part").exists()


def test_fetch__redirects__bounded_and_only_to_http(tricks):
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch_bytes(f"{tricks}/loop", LAN)
    with pytest.raises(FetchError, match="is not an http"):
        fetch_bytes(f"{tricks}/to-file", LAN)


def test_fetch__a_slow_server__cut_at_the_timeout(tricks):
    with pytest.raises(FetchError, match="not done within 1 s"):  # it sends a byte every 0.1 s for 4 s
        fetch_bytes(f"{tricks}/slow", FetchPolicy(max_bytes=10_000, timeout=1, allow_private=True))


def test_fetch__not_found_or_unresolvable__one_line(tricks):
    with pytest.raises(FetchError, match="the server answered 404"):
        fetch_bytes(f"{tricks}/nothing", LAN)
    with pytest.raises(FetchError, match="does not resolve"):
        fetch_bytes("https://no-such-host.invalid/x.csv", LAN)
    with pytest.raises(FetchError, match="use an https://, http:// or ipfs:// URL"):
        fetch_bytes("ftp://example.org/x.csv", LAN)


def test_fetch__ipfs_through_the_configured_gateway(folder_server):
    base, _, _ = folder_server
    policy = FetchPolicy(max_bytes=10_000, allow_private=True, gateway=f"{base}/")
    assert http_url("ipfs://x.csv", policy) == f"{base}/x.csv"
    assert fetch_bytes("ipfs://sub/p.apkg", policy) == b"\x01" * 5000


def test_fetch__local_files__only_where_the_policy_allows_them(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("1,2\n")
    assert is_local(str(f)) and is_local(f"file://{f}") and not is_local("https://a.example/x.csv")
    with pytest.raises(FetchError, match="a local file is only readable on the machine that wrote it"):
        fetch_bytes(f"file://{f}", FetchPolicy(max_bytes=100))
    assert fetch_bytes(f"file://{f}", FetchPolicy(max_bytes=100, allow_file=True)) == b"1,2\n"
    with pytest.raises(FetchError, match="more than the 2 bytes allowed"):
        fetch_bytes(str(f), FetchPolicy(max_bytes=2, allow_file=True))


def test_for_chain__dev_chains_allow_local_files_and_hosts_others_do_not(monkeypatch):
    monkeypatch.delenv("APIARY_ALLOW_PRIVATE_URLS", raising=False)
    dev, testnet = FetchPolicy.for_chain(1337, 10), FetchPolicy.for_chain(11155111, 10)
    assert dev.allow_file and dev.allow_private and not testnet.allow_file and not testnet.allow_private
    monkeypatch.setenv("APIARY_ALLOW_PRIVATE_URLS", "1")
    assert FetchPolicy.for_chain(11155111, 10).allow_private and not FetchPolicy.for_chain(11155111, 10).allow_file


def test_serve__no_listing_no_way_out_of_the_folder(folder_server):
    base, files, _ = folder_server
    for path in ("/", "/sub/", "/leak.txt", "/../secret.txt", "/%2e%2e/secret.txt"):
        with pytest.raises(FetchError, match="404"):
            fetch_bytes(base + path, LAN)
    assert file_urls(files, "http://h:1/") == ["http://h:1/sub/p.apkg", "http://h:1/x.csv"]


def test_apiary_serve__prints_the_urls_to_list_and_serves_them(tmp_path):
    """`apiary serve --files DIR` (the command the README shows): the URLs it prints serve the folder's files."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    (tmp_path / "x.csv").write_text("1,2,3\n")
    apiary = Path(sys.executable).parent / "apiary"
    process = subprocess.Popen([str(apiary), "serve", "--files", str(tmp_path), "--host", "127.0.0.1", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        head = process.stdout.readline()
        assert re.match(rf"serving {re.escape(str(tmp_path))} at http://127\.0\.0\.1:\d+/ ", head), head
        url = process.stdout.readline().strip()
        assert url.endswith("/x.csv")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"1,2,3\n"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
