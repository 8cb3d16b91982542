"""A real headless Chromium for the tests, driven over the DevTools protocol on a pipe (no driver, no
websocket library: `--remote-debugging-pipe` reads NUL-terminated JSON on fd 3 and writes on fd 4).

`Browser().load(path)` opens a local file and returns what the page did: console messages and errors,
the value of a JavaScript expression evaluated in it, and a PNG screenshot. Install the browser with
`apt-get install -y chromium` (Debian's package); `find_chromium()` is None where it is missing.
"""

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, executable=None, width=1000, height=1400):
        self.profile = tempfile.mkdtemp(prefix="optimkit-chromium-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # Moved above 4 first: dup2 onto the fd itself would be a no-op that leaves it close-on-exec.
        to_browser, from_browser = (_above(fd, 10) for fd in (to_browser, from_browser))

        def wire_fds():  # in the child: the pipe ends on the fds the protocol names
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [
                executable or find_chromium(),
                *FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            preexec_fn=wire_fds,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._next_id = 0
        self.platform_fonts = {}
        self._replies, self._events = {}, queue.Queue()
        self._lock = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buffer = b""
        with os.fdopen(self._read, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            self._replies[message["id"]] = message
                            self._lock.notify_all()
                    else:
                        self._events.put(message)

    def send(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise BrowserError(f"no reply to {method}")
                self._lock.wait(min(left, 0.5))
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def load(self, path, expression, timeout=30, fonts_of=()):
        """Open the file at `path` in a new tab; return (console problems, expression's value, PNG bytes).

        Console problems: console.error/warn calls, uncaught exceptions, and the browser's own log
        entries of level error or warning (a blocked resource, a CSP violation, a broken image).
        `fonts_of`: CSS selectors whose rendered text is asked of the browser which fonts drew it, glyph by
        glyph (CSS.getPlatformFontsForNode: [{familyName, glyphCount, ...}], or None where nothing matches),
        left in `self.platform_fonts` after the expression has run.
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        while not self._events.empty():
            self._events.get_nowait()
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
        problems, loaded, deadline = [], False, time.monotonic() + timeout
        while not loaded:
            try:
                event = self._events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise BrowserError(f"{path} did not finish loading in {timeout} s") from None
            problems += _problem(event, session)
            loaded = event.get("sessionId") == session and event.get("method") == "Page.loadEventFired"
        time.sleep(0.3)  # late console messages (image decoding errors) arrive just after the load event
        while not self._events.empty():
            problems += _problem(self._events.get_nowait(), session)
        value = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=session
        )
        if "exceptionDetails" in value:
            raise BrowserError(f"evaluating the checks failed: {value['exceptionDetails']}")
        self.platform_fonts = {}
        if fonts_of:
            for domain in ("DOM", "CSS"):
                self.send(f"{domain}.enable", session=session)
            root = self.send("DOM.getDocument", {"depth": -1}, session=session)["root"]["nodeId"]
            for selector in fonts_of:
                node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector}, session=session)["nodeId"]
                self.platform_fonts[selector] = (
                    self.send("CSS.getPlatformFontsForNode", {"nodeId": node}, session=session)["fonts"]
                    if node
                    else None
                )
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, session=session)
        self.send("Target.closeTarget", {"targetId": target})
        return problems, value["result"].get("value"), base64.b64decode(shot["data"])

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        shutil.rmtree(self.profile, ignore_errors=True)


def _above(fd, lowest):
    """`fd` moved to a number >= `lowest` (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return moved


def _problem(event, session):
    if event.get("sessionId") != session:
        return []
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
        return [f"console.{params['type']}: {params.get('args')}"]
    if method == "Runtime.exceptionThrown":
        return [f"exception: {params.get('exceptionDetails')}"]
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
        return [f"log {params['entry'].get('level')}: {params['entry'].get('text')} {params['entry'].get('url', '')}"]
    return []
