"""A tiny Chrome DevTools Protocol client for the dashboard's browser test (stdlib only).

Debian's `chromium` is started headless with `--remote-debugging-pipe`: the protocol runs over
two pipes (the browser reads commands on fd 3 and writes replies on fd 4, each message a JSON
text ended by a NUL byte), so no websocket library, no port and no downloaded browser are needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Browser", "BrowserError", "chromium_path"]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]


class BrowserError(RuntimeError):
    """The browser did not answer, or answered with a protocol error."""


def chromium_path() -> str | None:
    """The Chromium binary (Debian's package installs /usr/bin/chromium)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe.

    Events (console messages, exceptions, network requests) are kept in `events`, in order.
    """

    def __init__(self, width: int = 1400, height: int = 1000, timeout_s: float = 120.0) -> None:
        binary = chromium_path()
        if binary is None:
            msg = (
                "chromium is not installed; install Debian's package with "
                "`apt-get install -y chromium` (.ci/run does it on CI)."
            )
            raise BrowserError(msg)
        self.timeout_s = timeout_s
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._profile = tempfile.mkdtemp(prefix="tsf-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # runs in the child, before exec
            # copies above 9 first, so that neither dup2 below can clobber the other's source
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [
            binary,
            *FLAGS,
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes,
            pass_fds=(3, 4),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            page = next(
                t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"
            )
            self.session = self.call(
                "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
            )["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable", session=True)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=True,
            )
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ protocol
    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = False) -> Any:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    msg = f"{method} failed: {reply['error']}"
                    raise BrowserError(msg)
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                msg = f"chromium did not answer within {self.timeout_s} s"
                raise BrowserError(msg)
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                msg = "chromium closed the DevTools pipe (it crashed or exited)"
                raise BrowserError(msg)
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method: str, timeout_s: float | None = None) -> dict[str, Any]:
        """Wait for the next event `method` (one already received counts)."""
        for event in self.events:
            if event["method"] == method and not event.get("_seen"):
                event["_seen"] = True
                return event
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            message = self._read(deadline)
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    message["_seen"] = True
                    return message

    # ------------------------------------------------------------------ page helpers
    def open(self, path: Path) -> None:
        """Navigate to a local file and wait for its load event."""
        self.call("Page.navigate", {"url": path.resolve().as_uri()}, session=True)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises are awaited) and return its JSON value."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=True,
        )
        if "exceptionDetails" in result:
            msg = f"JavaScript error: {result['exceptionDetails']}"
            raise BrowserError(msg)
        return result["result"].get("value")

    def wait_until(self, condition: str, timeout_s: float = 60.0) -> None:
        """Poll the JavaScript expression `condition` until it is true (a page's `ready` flag)."""
        self.evaluate(
            "new Promise((resolve, reject) => { const t0 = Date.now(); const wait = () => "
            f"({condition}) ? resolve(true) : Date.now() - t0 > {timeout_s * 1000:.0f} ? "
            f"reject(new Error('not true in time: ' + {json.dumps(condition)})) : "
            "setTimeout(wait, 50); wait(); })"
        )

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the whole page."""
        import base64

        data = self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=True,
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params.get("exceptionDetails", {}))[:2000])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(json.dumps(params.get("args", []))[:2000])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(json.dumps(params["entry"])[:2000])
        return found

    def requested_urls(self) -> list[str]:
        """Every URL the page asked the network stack for."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
