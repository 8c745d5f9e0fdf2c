"""What the PBX labs (asterisk/astlab.py, freeswitch/fslab.py) share: ports, the hand-shake files
with a test that watches the story, the timeline of story steps."""
import json
import os
import socket
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load_story(path):
    with open(path) as f:
        return json.load(f)


def add_handshake_args(ap):
    ap.add_argument("--ready-file", help="written once the PBX is up and the recorder listens")
    ap.add_argument("--go-file", help="wait for this file to exist before playing (after ready)")
    ap.add_argument("--done-file", help="written when the story and its settle time are over")
    ap.add_argument("--linger", type=float, default=0,
                    help="seconds the PBX stays up after the done file (for a last look)")


def write_ready(path, *lines):
    if not path:
        return
    with open(path + ".tmp", "w") as f:
        f.write("".join(f"{line}\n" for line in lines))
    os.rename(path + ".tmp", path)


def wait_go(path, timeout=120):
    if not path:
        return
    until = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > until:
            raise RuntimeError(f"no {path} within {timeout} s")
        time.sleep(0.05)


def finish(story, args):
    """After the last step: the settle time, the done file, the linger."""
    time.sleep(story.get("settle", 2))
    if args.done_file:
        open(args.done_file, "w").close()
    time.sleep(args.linger)


def play_steps(story, do_step, log):
    """Runs the story's steps at their times (seconds from the first); do_step(step) returns a
    short text of the PBX's answer, written to `log` with the time it was sent."""
    t0 = time.time()
    for step in sorted(story["steps"], key=lambda s: s["at"]):
        delay = t0 + step["at"] - time.time()
        if delay > 0:
            time.sleep(delay)
        answer = do_step(step)
        log.write(f"{time.time() - t0:7.2f} {step['do']} {json.dumps(step)} -> {answer}\n")
        log.flush()


class RawRecorder(threading.Thread):
    """A listening connection to the PBX whose every byte from the server is appended to `path`,
    reconnecting after a restart (each connection's bytes follow the last). Subclasses speak the
    protocol: `greet(sock, n)` right after connection n is made, `heard(sock, seen)` after bytes
    arrive (`seen`: this connection's bytes so far, bounded); they set `ready` once the
    connection is listening."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.stop_flag = threading.Event()
        self.ready = threading.Event()
        self.connections = 0

    def greet(self, sock, n):
        pass

    def heard(self, sock, seen):
        pass

    def run(self):
        with open(self.path, "ab") as out:
            while not self.stop_flag.is_set():
                try:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=1)
                except OSError:
                    time.sleep(0.1)
                    continue
                self.connections += 1
                self.greet(s, self.connections)
                s.settimeout(0.2)
                seen = b""
                while not self.stop_flag.is_set():
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    out.write(chunk)
                    out.flush()
                    seen = (seen + chunk)[-(1 << 16):]
                    self.heard(s, seen)
                s.close()
