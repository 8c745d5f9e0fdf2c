"""Drives headless Chromium over the DevTools protocol for the browser board's test:
board_page.py start URL DIR      launches Chromium on URL (1920x1080), writes DIR/cdp (its socket)
board_page.py ready DIR SECONDS  waits until the page's board runs (the loading note is gone)
board_page.py shot DIR OUT.png   a screenshot of the page as it is now
Chromium's own output goes to DIR/chromium.log; its pid to DIR/chromium.pid."""
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from wsclient import WsClient  # noqa: E402


def session(d, steps):
    """Runs [(method, params, seconds to wait after)] on one DevTools session (an emulation
    lasts as long as its session); returns the last result."""
    host, port, path = open(os.path.join(d, "cdp")).read().split()
    c = WsClient(host, int(port), path=path, timeout=30)
    result = None
    try:
        for n, (method, params, pause) in enumerate(steps, start=1):
            c.send(json.dumps({"id": n, "method": method, "params": params or {}}))
            while True:
                m = c.message()
                if m.get("id") == n:
                    if "error" in m:
                        raise RuntimeError(m["error"])
                    result = m["result"]
                    break
            time.sleep(pause)
    finally:
        c.sock.close()
    return result


def call(d, method, params=None):
    return session(d, [(method, params, 0)])


def start(url, d):
    log = open(os.path.join(d, "chromium.log"), "w")
    p = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--use-angle=swiftshader",
         "--enable-unsafe-swiftshader", "--window-size=1920,1080", "--hide-scrollbars",
         "--remote-debugging-port=0", "--user-data-dir=" + os.path.join(d, "profile"),
         "--no-first-run", "--disable-background-timer-throttling", url],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    open(os.path.join(d, "chromium.pid"), "w").write(str(p.pid))
    deadline = time.time() + 30
    port = None
    while time.time() < deadline and port is None:
        m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/",
                      open(os.path.join(d, "chromium.log")).read())
        port = m and m.group(1)
        time.sleep(0.2)
    if not port:
        sys.exit("chromium did not open its DevTools port")
    for _ in range(100):
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        pages = [x for x in pages if x.get("type") == "page"]
        if pages:
            ws = pages[0]["webSocketDebuggerUrl"]
            path = ws.split(f"127.0.0.1:{port}", 1)[1]
            open(os.path.join(d, "cdp"), "w").write(f"127.0.0.1 {port} {path}")
            return
        time.sleep(0.2)
    sys.exit("chromium opened no page")


def ready(d, seconds):
    deadline = time.time() + float(seconds)
    text = ""
    while time.time() < deadline:
        r = call(d, "Runtime.evaluate", {"expression":
                 "(() => { const s = document.getElementById('status');"
                 " return s && s.style.display === 'none' ? 'running' : (s ? s.textContent : ''); })()",
                 "returnByValue": True})
        text = r["result"].get("value", "")
        if text == "running":
            return
        time.sleep(0.25)
    sys.exit(f"the board did not start: {text!r}")


def shot(d, out):
    # The page itself 1920x1080, as a wall screen is (headless Chromium's window has borders of
    # its own); the board follows the resize within a frame or two.
    r = session(d, [("Emulation.setDeviceMetricsOverride",
                     {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False}, 1.5),
                    ("Page.captureScreenshot", {"format": "png"}, 0)])
    open(out, "wb").write(base64.b64decode(r["data"]))


if __name__ == "__main__":
    {"start": start, "ready": ready, "shot": shot}[sys.argv[1]](*sys.argv[2:])
