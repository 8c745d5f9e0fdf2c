#!/usr/bin/env python3
"""The Asterisk lab: a real Asterisk with queues of Local-channel agents, driven over AMI.

    astlab.py play STORY.json --out DIR [--root TREE | --asterisk BIN] [--timestamps on|off]
                  [--ami-port N] [--keep]

Starts Asterisk on free loopback ports with a configuration written from the story (queues,
static members, timeouts), plays the story's timed steps through AMI actions (callers by
Originate, pauses, member changes, a PBX restart), and records what Asterisk wrote:

    DIR/queue_log      Asterisk's own queue_log file
    DIR/ami.raw        the raw bytes of a listening AMI connection (login + QueueStatus, then
                       every event; a new banner after a restart), as `report --format ami` reads
    DIR/asterisk.txt   `asterisk -V`, the story and the options (provenance)

With `--attach HOST:PORT` nothing is started; the story is played against that Asterisk's AMI
(its configuration must match the story's; `config` writes it).

    astlab.py config STORY.json --out DIR     writes the configuration only

Agents are `Local/NAME@agents/n` members: the dialplan waits the ring time the call gives for
that agent, answers, waits the talk time, hangs up. A call is an Originate of
`Local/call@callers` whose other half waits the caller's patience, optionally presses a key,
then hangs up. Per-call times reach the member channels as inherited channel variables.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from labcommon import (RawRecorder, add_handshake_args, finish, free_port,  # noqa: E402
                       load_story, play_steps, wait_go, write_ready)


# ---- configuration -------------------------------------------------------------------------

AMI_USER = "lab"
AMI_SECRET = "lab-secret"


def write_config(story, conf, tree, ami_port, timestamps):
    """Writes the Asterisk configuration of `story` into folder `conf`."""
    os.makedirs(conf, exist_ok=True)
    run = os.path.join(conf, "run")
    for d in ("spool", "log", "run", "lib", "key"):
        os.makedirs(os.path.join(run, d), exist_ok=True)
    lib = os.path.join(tree, "var", "lib", "asterisk")
    mods = os.path.join(tree, "usr", "lib", "asterisk", "modules")
    files = {}
    files["asterisk.conf"] = f"""[directories]
astetcdir => {conf}
astmoddir => {mods}
astvarlibdir => {os.path.join(run, 'lib')}
astdbdir => {os.path.join(run, 'lib')}
astkeydir => {os.path.join(run, 'key')}
astdatadir => {lib}
astagidir => {os.path.join(run, 'lib')}
astspooldir => {os.path.join(run, 'spool')}
astrundir => {os.path.join(run, 'run')}
astlogdir => {os.path.join(run, 'log')}
astsbindir => {os.path.join(tree, 'usr', 'sbin')}

[options]
cache_record_files = no
transmit_silence = no
documentation_language = en_US
hideconnect = yes
"""
    files["modules.conf"] = """[modules]
autoload = yes
noload => res_musiconhold.so
"""
    files["logger.conf"] = """[general]
queue_log = yes
queue_log_to_file = yes
queue_log_name = queue_log
queue_log_realtime_use_gmt = yes

[logfiles]
messages => notice,warning,error
"""
    files["manager.conf"] = f"""[general]
enabled = yes
port = {ami_port}
bindaddr = 127.0.0.1
timestampevents = {'yes' if timestamps else 'no'}
displayconnects = no

[{AMI_USER}]
secret = {AMI_SECRET}
read = all
write = all
"""
    q = ["[general]", "persistentmembers = no", "autofill = yes", "log_membername_as_agent = yes",
         "shared_lastcall = no", ""]
    for name, spec in story["queues"].items():
        q.append(f"[{name}]")
        q.append(f"strategy = {spec.get('strategy', 'linear')}")
        q.append(f"timeout = {spec.get('ring_timeout', 4)}")
        q.append(f"retry = {spec.get('retry', 1)}")
        q.append(f"servicelevel = {spec.get('servicelevel', 20)}")
        q.append("wrapuptime = 0")
        q.append("ringinuse = no")
        q.append("autopause = no")
        q.append("joinempty = yes")
        q.append(f"leavewhenempty = {spec.get('leavewhenempty', 'no')}")
        q.append("announce-frequency = 0")
        q.append("announce-position = no")
        q.append("periodic-announce-frequency = 0")
        q.append("reportholdtime = no")
        if spec.get("key_context"):
            q.append(f"context = {spec['key_context']}")
        for m in spec.get("members", []):
            q.append(f"member => Local/{m}@agents/n,0,{m}")
        q.append("")
    files["queues.conf"] = "\n".join(q)
    # The agents' half: ring (wait), answer, talk (wait), hang up. RING<n>_<agent> is the ring
    # time of the n-th time this call rings that agent, RING_<agent> of every other time.
    ext = """[general]
static = yes
writeprotect = yes

[globals]

[agents]
exten => _[a-z].,1,NoOp(agent ${EXTEN} rung by ${CALLID})
 same => n,Set(K=N_${CALLID}_${EXTEN})
 same => n,Set(GLOBAL(${K})=${IF($["${GLOBAL(${K})}" = ""]?1:$[${GLOBAL(${K})} + 1])})
 same => n,Set(R=${RING${GLOBAL(${K})}_${EXTEN}})
 same => n,ExecIf($["${R}" = ""]?Set(R=${RING_${EXTEN}}))
 same => n,ExecIf($["${R}" = ""]?Set(R=1))
 same => n,Set(T=${TALK_${EXTEN}})
 same => n,ExecIf($["${T}" = ""]?Set(T=5))
 same => n,Wait(${R})
 same => n,Answer()
 same => n,Wait(${T})
 same => n,Hangup()

[callers]
exten => call,1,Answer()
 same => n,Queue(${QUEUE},r,,,${QTIMEOUT})
 same => n,Hangup()

[patience]
exten => wait,1,Wait(${PATIENCE})
 same => n,GotoIf($["${KEY}" = ""]?done)
 same => n,SendDTMF(${KEY})
 same => n,Wait(3)
 same => n(done),Hangup()

[transfer]
exten => _X.,1,Answer()
 same => n,Wait(3)
 same => n,Hangup()
"""
    for name, spec in story["queues"].items():
        if spec.get("key_context"):
            ext += f"\n[{spec['key_context']}]\nexten => _X,1,Hangup()\n"
    files["extensions.conf"] = ext
    for fname, text in files.items():
        with open(os.path.join(conf, fname), "w") as f:
            f.write(text)
    return os.path.join(conf, "asterisk.conf"), os.path.join(run, "log", "queue_log")


# ---- AMI -----------------------------------------------------------------------------------

class Ami:
    """An AMI client: actions with ActionIDs, responses matched by id; events are dropped."""

    def __init__(self, port, events="off"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.banner = self._line()
        self.n = 0
        r = self.action("Login", Username=AMI_USER, Secret=AMI_SECRET, Events=events)
        if r.get("Response") != "Success":
            raise RuntimeError(f"AMI login refused: {r}")

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("AMI closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def _block(self):
        fields = {}
        while True:
            line = self._line()
            if line == "":
                if fields:
                    return fields
                continue
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()

    def action(self, name, **headers):
        self.n += 1
        aid = f"lab-{self.n}"
        lines = [f"Action: {name}", f"ActionID: {aid}"]
        for k, v in headers.items():
            if isinstance(v, list):
                lines += [f"{k}: {x}" for x in v]
            elif v is not None:
                lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while True:
            b = self._block()
            if b.get("ActionID") == aid and "Response" in b:
                return b

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Recorder(RawRecorder):
    """A listening AMI connection, as callwatchd's AMI feed makes it (login, QueueStatus), whose
    every byte from the server is appended to `path`. Reconnects after a restart."""

    def greet(self, sock, n):
        sock.sendall((f"Action: Login\r\nActionID: rec-login-{n}\r\nUsername: {AMI_USER}\r\n"
                      f"Secret: {AMI_SECRET}\r\nEvents: on\r\n\r\n"
                      f"Action: QueueStatus\r\nActionID: rec-qs-{n}\r\n\r\n").encode())

    def heard(self, sock, seen):
        if not self.ready.is_set() and b"QueueStatusComplete" in seen:
            self.ready.set()


# ---- Asterisk process ----------------------------------------------------------------------

class Asterisk:
    def __init__(self, binary, tree, conf_file, ami_port, log_path):
        self.binary, self.tree, self.conf_file = binary, tree, conf_file
        self.ami_port, self.log_path = ami_port, log_path
        self.proc = None

    def start(self, timeout=30):
        env = dict(os.environ)
        if self.tree:
            env["LD_LIBRARY_PATH"] = os.path.join(self.tree, "usr", "lib")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "-C", self.conf_file, "-f", "-n", "-q"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env=env)
        until = time.time() + timeout
        while time.time() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"asterisk exited with {self.proc.returncode}, see {self.log_path}")
            try:
                a = Ami(self.ami_port)
                r = a.action("Command", Command="core waitfullybooted")
                a.close()
                if r.get("Response") == "Success":
                    return
            except (OSError, RuntimeError, ConnectionError):
                pass
            time.sleep(0.2)
        raise RuntimeError("asterisk did not answer on AMI in time")

    def stop(self, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            a = Ami(self.ami_port)
            a.sock.sendall(b"Action: Command\r\nActionID: stop\r\nCommand: core stop now\r\n\r\n")
            time.sleep(0.2)
            a.close()
        except (OSError, RuntimeError, ConnectionError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def version_of(binary, tree):
    env = dict(os.environ)
    if tree:
        env["LD_LIBRARY_PATH"] = os.path.join(tree, "usr", "lib")
    try:
        return subprocess.run([binary, "-V"], capture_output=True, text=True, env=env,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# ---- the story -----------------------------------------------------------------------------

def member_interface(agent):
    return f"Local/{agent}@agents/n"


def originate(ami, call):
    v = [f"__CALLID={call['id']}", f"__QUEUE={call['queue']}",
         f"__PATIENCE={call.get('patience', 60)}", f"__QTIMEOUT={call.get('queue_timeout', '')}",
         f"__KEY={call.get('key', '')}"]
    for agent, secs in call.get("ring", {}).items():
        if isinstance(secs, list):
            for i, s in enumerate(secs, 1):
                v.append(f"__RING{i}_{agent}={s}")
            v.append(f"__RING_{agent}={secs[-1]}")
        else:
            v.append(f"__RING_{agent}={secs}")
    for agent, secs in call.get("talk", {}).items():
        v.append(f"__TALK_{agent}={secs}")
    r = ami.action("Originate", Channel="Local/call@callers", Context="patience", Exten="wait",
                   Priority="1", Async="true", CallerID=f"\"{call.get('name', call['id'])}\" "
                   f"<{call.get('number', '5550000')}>", Variable=v)
    return r


def find_agent_channel(ami, agent):
    """The member half (;1) of the agent's Local channel while it is bridged to a caller."""
    ami.sock.sendall(b"Action: CoreShowChannels\r\nActionID: chans\r\n\r\n")
    found = None
    while True:
        b = ami._block()
        if b.get("ActionID") != "chans":
            continue
        if b.get("Event") == "CoreShowChannel":
            ch = b.get("Channel", "")
            if ch.startswith(f"Local/{agent}@agents-") and ch.endswith(";1"):
                found = ch
        if b.get("Event") == "CoreShowChannelsComplete":
            return found


def play(story, ami_port, ast, log):
    ctl = [Ami(ami_port)]

    def do(step):
        kind = step["do"]
        a = ctl[0]
        if kind == "call":
            r = originate(a, step)
        elif kind == "pause":
            r = a.action("QueuePause", Interface=member_interface(step["agent"]),
                         Paused="true", Queue=step.get("queue"), Reason=step.get("reason"))
        elif kind == "unpause":
            r = a.action("QueuePause", Interface=member_interface(step["agent"]),
                         Paused="false", Queue=step.get("queue"))
        elif kind == "add":
            r = a.action("QueueAdd", Queue=step["queue"], Interface=member_interface(step["agent"]),
                         MemberName=step["agent"], Paused="false")
        elif kind == "remove":
            r = a.action("QueueRemove", Queue=step["queue"],
                         Interface=member_interface(step["agent"]))
        elif kind == "transfer":
            ch = find_agent_channel(a, step["agent"])
            r = a.action("BlindTransfer", Channel=ch, Context="transfer", Exten=step["exten"]) \
                if ch else {"Response": "Error", "Message": "agent channel not found"}
        elif kind == "restart":
            a.close()
            if ast is None:
                raise RuntimeError("a restart needs the lab to run Asterisk itself")
            ast.stop()
            time.sleep(step.get("down", 1))
            ast.start()
            ctl[0] = Ami(ami_port)
            r = {"Response": "Success"}
        else:
            raise ValueError(f"unknown step {kind}")
        return f"{r.get('Response')} {r.get('Message', '')}"

    play_steps(story, do, log)
    ctl[0].close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=["play", "config"])
    ap.add_argument("story")
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", help="installed lab tree (build-asterisk.sh output's root/)")
    ap.add_argument("--asterisk", help="an asterisk binary of your own (default: ROOT/usr/sbin/asterisk)")
    ap.add_argument("--timestamps", choices=["on", "off"], default="on")
    ap.add_argument("--ami-port", type=int, default=0)
    ap.add_argument("--attach", help="HOST:PORT of a running Asterisk's AMI (nothing is started)")
    add_handshake_args(ap)
    ap.add_argument("--keep", action="store_true", help="keep the configuration and run folders")
    a = ap.parse_args()

    story = load_story(a.story)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    tree = os.path.abspath(a.root) if a.root else None
    binary = a.asterisk or (os.path.join(tree, "usr", "sbin", "asterisk") if tree else shutil.which("asterisk"))
    port = a.ami_port or free_port()
    conf = os.path.join(out, "conf")
    conf_file, queue_log = write_config(story, conf, tree or "/", port, a.timestamps == "on")
    if a.command == "config":
        print(conf)
        return 0

    ast = None
    if a.attach:
        port = int(a.attach.rsplit(":", 1)[1])
    else:
        if not binary or not os.access(binary, os.X_OK):
            print("astlab: no asterisk binary (give --root or --asterisk)", file=sys.stderr)
            return 3
        ast = Asterisk(binary, tree, conf_file, port, os.path.join(out, "asterisk.log"))
        ast.start()
    for p in ("ami.raw",):
        if os.path.exists(os.path.join(out, p)):
            os.remove(os.path.join(out, p))
    rec = Recorder(port, os.path.join(out, "ami.raw"))
    rec.start()
    rec.ready.wait(10)
    with open(os.path.join(out, "asterisk.txt"), "w") as f:
        f.write(f"version: {version_of(binary, tree) if binary else 'attached'}\n"
                f"story: {os.path.basename(a.story)}\ntimestampevents: {a.timestamps}\n"
                f"ami_port: {port}\n")
    write_ready(a.ready_file, port, queue_log)
    try:
        wait_go(a.go_file)
        with open(os.path.join(out, "steps.log"), "w") as log:
            play(story, port, ast, log)
        finish(story, a)
    finally:
        rec.stop_flag.set()
        if ast:
            ast.stop()
        rec.join(5)
    if ast and os.path.exists(queue_log):
        shutil.copy(queue_log, os.path.join(out, "queue_log"))
    if not a.keep:
        shutil.rmtree(conf, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
