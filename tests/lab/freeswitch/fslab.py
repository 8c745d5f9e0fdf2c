#!/usr/bin/env python3
"""The FreeSWITCH lab: a real FreeSWITCH with mod_callcenter queues of loopback agents, driven over
the event socket.

    fslab.py play STORY.json --out DIR --prefix TREE [--esl-port N] [--ready-file F --go-file F
                  --done-file F --linger S]

Starts FreeSWITCH (build-freeswitch.sh output's prefix/) on free loopback ports with one
freeswitch.xml written from the story (queues, agents, tiers), plays the story's timed steps
through the event socket (callers by originate, agents' ring and talk, breaks, a restart), and
records what FreeSWITCH sent:

    DIR/esl.raw        every byte a listening event-socket connection received, made as
                       callwatchd's ESL feed makes it (auth, the callcenter_config lists, then
                       `event plain CHANNEL_HANGUP CUSTOM callcenter::info`); a new
                       `auth/request` after the restart. `report --format esl` reads it.
    DIR/steps.log      when each step was sent and FreeSWITCH's answer

    fslab.py config STORY.json --out DIR --prefix TREE   writes the configuration only

Agents are `callback` agents whose contact is `loopback/agent-NAME-RING-TALK/agents`: that
extension bridges to `loopback/phone-NAME-RING-TALK/phones`, which sleeps RING ms, answers,
sleeps TALK ms and hangs up (mod_callcenter wants the agent leg bridged onward). A step `agent`
changes an agent's ring and talk for the calls that follow. A caller is
`originate loopback/q-QUEUE/callers` whose other leg sleeps the caller's patience (and may send an
exit key first), then hangs up.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from xml.sax.saxutils import quoteattr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from labcommon import (RawRecorder, add_handshake_args, finish, free_port,  # noqa: E402
                       load_story, play_steps, wait_go, write_ready)

PASSWORD = "lab-secret"


# ---- configuration -------------------------------------------------------------------------

def contact(agent, ring_ms, talk_ms, leg_timeout):
    return f"[leg_timeout={leg_timeout}]loopback/agent-{agent}-{int(ring_ms)}-{int(talk_ms)}/agents"


def write_config(story, conf, esl_port):
    os.makedirs(conf, exist_ok=True)
    for d in ("log", "db", "run", "tmp"):
        os.makedirs(os.path.join(conf, d), exist_ok=True)
    mods = ["mod_console", "mod_logfile", "mod_event_socket", "mod_commands", "mod_dptools",
            "mod_hash", "mod_loopback", "mod_dialplan_xml", "mod_tone_stream", "mod_local_stream",
            "mod_sndfile", "mod_spandsp", "mod_callcenter"]
    q = []
    for name, spec in story["queues"].items():
        params = {
            "strategy": spec.get("strategy", "longest-idle-agent"),
            "moh-sound": "tone_stream://%(200,4800,440)",
            "time-base-score": "system",
            "max-wait-time": spec.get("max_wait_time", 0),
            "max-wait-time-with-no-agent": spec.get("max_wait_time_with_no_agent", 0),
            "max-wait-time-with-no-agent-time-reached": 5,
            "tier-rules-apply": "false",
            "tier-rule-wait-second": 300,
            "tier-rule-wait-multiply-level": "true",
            "tier-rule-no-agent-no-wait": "false",
            "discard-abandoned-after": 60,
            "abandoned-resume-allowed": "false",
        }
        q.append(f'      <queue name={quoteattr(name)}>')
        q += [f'        <param name="{k}" value={quoteattr(str(v))}/>' for k, v in params.items()]
        q.append("      </queue>")
    agents, tiers = [], []
    for name, spec in story["agents"].items():
        agents.append(
            f'      <agent name={quoteattr(name)} type="callback" '
            f'contact={quoteattr(contact(name, spec.get("ring_ms", 1000), spec.get("talk_ms", 5000), story.get("leg_timeout", 6)))} '
            f'status={quoteattr(spec.get("status", "Available"))} max-no-answer="0" '
            f'wrap-up-time="0" reject-delay-time="0" busy-delay-time="0" no-answer-delay-time="0"/>')
        for qn in spec.get("queues", []):
            tiers.append(f'      <tier agent={quoteattr(name)} queue={quoteattr(qn)} level="1" position="1"/>')
    keys = story.get("exit_keys", "")
    nl = "\n"
    xml = f"""<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="configuration">
    <configuration name="modules.conf">
      <modules>
{nl.join(f'        <load module="{m}"/>' for m in mods)}
      </modules>
    </configuration>
    <configuration name="switch.conf">
      <settings>
        <param name="max-sessions" value="500"/>
        <param name="sessions-per-second" value="100"/>
        <param name="loglevel" value="info"/>
      </settings>
    </configuration>
    <configuration name="console.conf">
      <mappings><map name="all" value="console,debug,info,notice,warning,err,crit,alert"/></mappings>
      <settings><param name="colorize" value="false"/><param name="loglevel" value="warning"/></settings>
    </configuration>
    <configuration name="logfile.conf">
      <settings><param name="rotate-on-hup" value="true"/></settings>
      <profiles><profile name="default">
        <settings><param name="rollover" value="0"/></settings>
        <mappings><map name="all" value="debug,info,notice,warning,err,crit,alert"/></mappings>
      </profile></profiles>
    </configuration>
    <configuration name="event_socket.conf">
      <settings>
        <param name="nat-map" value="false"/>
        <param name="listen-ip" value="127.0.0.1"/>
        <param name="listen-port" value="{esl_port}"/>
        <param name="password" value="{PASSWORD}"/>
      </settings>
    </configuration>
    <configuration name="callcenter.conf">
      <settings/>
      <queues>
{nl.join(q)}
      </queues>
      <agents>
{nl.join(agents)}
      </agents>
      <tiers>
{nl.join(tiers)}
      </tiers>
    </configuration>
  </section>
  <section name="dialplan">
    <context name="callers">
      <extension name="queue">
        <condition field="destination_number" expression="^q-(.+)$">
          <action application="answer"/>
          <action application="set" data="cc_exit_keys={keys}"/>
          <action application="callcenter" data="$1"/>
          <action application="hangup"/>
        </condition>
      </extension>
    </context>
    <context name="agents">
      <extension name="agent">
        <condition field="destination_number" expression="^agent-(.+)$">
          <action application="bridge" data="loopback/phone-$1/phones"/>
        </condition>
      </extension>
    </context>
    <context name="phones">
      <extension name="phone">
        <condition field="destination_number" expression="^phone-([^-]+)-([0-9]+)-([0-9]+)$">
          <action application="sleep" data="$2"/>
          <action application="answer"/>
          <action application="sleep" data="$3"/>
          <action application="hangup"/>
        </condition>
      </extension>
    </context>
  </section>
</document>
"""
    with open(os.path.join(conf, "freeswitch.xml"), "w") as f:
        f.write(xml)


# ---- the event socket ----------------------------------------------------------------------

class Esl:
    """An event-socket client for commands: api/bgapi with their replies; events not asked."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        h, _ = self.frame()
        if h.get("Content-Type") != "auth/request":
            raise RuntimeError(f"no auth/request: {h}")
        self.sock.sendall(f"auth {PASSWORD}\n\n".encode())
        h, _ = self.frame()
        if not h.get("Reply-Text", "").startswith("+OK"):
            raise RuntimeError(f"ESL auth refused: {h}")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("event socket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        while b"\n\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("event socket closed")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\n\n", 1)
        headers = {}
        for line in head.decode(errors="replace").split("\n"):
            k, _, v = line.partition(":")
            headers[k.strip()] = v.strip()
        body = b""
        if "Content-Length" in headers:
            body = self._read(int(headers["Content-Length"]))
        return headers, body

    def command(self, text):
        self.sock.sendall((text + "\n\n").encode())
        while True:
            h, body = self.frame()
            if h.get("Content-Type") in ("api/response", "command/reply"):
                return h, body.decode(errors="replace")

    def api(self, text):
        return self.command("api " + text)[1].strip()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Recorder(RawRecorder):
    """A listening connection made as callwatchd's ESL feed makes it (auth, the callcenter_config
    lists, the event subscription); every byte from the server is appended to `path`.
    Reconnects after a restart."""

    def __init__(self, port, path, queues):
        super().__init__(port, path)
        self.cmds = (["api callcenter_config queue list"]
                     + [f"api callcenter_config queue list members {q}" for q in queues]
                     + ["api callcenter_config tier list", "api callcenter_config agent list",
                        "event plain CHANNEL_HANGUP CUSTOM callcenter::info"])
        self.sent = False

    def greet(self, sock, n):
        self.sent = False  # the server speaks first: auth/request

    def heard(self, sock, seen):
        if not self.sent and b"auth/request" in seen:
            sock.sendall(f"auth {PASSWORD}\n\n".encode())
            for c in self.cmds:
                sock.sendall((c + "\n\n").encode())
            self.sent = True
        if self.sent and not self.ready.is_set() and b"event listener enabled" in seen:
            self.ready.set()


# ---- FreeSWITCH process --------------------------------------------------------------------

class FreeSwitch:
    def __init__(self, prefix, conf, esl_port):
        self.prefix, self.conf, self.esl_port = prefix, conf, esl_port
        self.proc = None
        self.log = None

    def start(self, timeout=60):
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = f"{self.prefix}/lib:{self.prefix}/fs/lib"
        c = self.conf
        self.log = open(os.path.join(c, "..", "freeswitch.out"), "ab")
        self.proc = subprocess.Popen(
            [f"{self.prefix}/fs/bin/freeswitch", "-nf", "-nc", "-nonat", "-conf", c, "-log",
             f"{c}/log", "-db", f"{c}/db", "-run", f"{c}/run", "-temp", f"{c}/tmp", "-mod",
             f"{self.prefix}/fs/lib/freeswitch/mod"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env)
        until = time.time() + timeout
        while time.time() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"freeswitch exited with {self.proc.returncode}")
            try:
                e = Esl(self.esl_port, timeout=2)
                ok = "+OK" in e.api("callcenter_config queue list")
                e.close()
                if ok:
                    return
            except (OSError, RuntimeError, ConnectionError):
                pass
            time.sleep(0.25)
        raise RuntimeError("freeswitch did not answer on the event socket in time")

    def stop(self, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            e = Esl(self.esl_port, timeout=2)
            e.sock.sendall(b"api fsctl shutdown\n\n")
            time.sleep(0.3)
            e.close()
        except (OSError, RuntimeError, ConnectionError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ---- the story -----------------------------------------------------------------------------

def play(story, port, fs, log):
    ctl = [Esl(port)]
    leg_timeout = story.get("leg_timeout", 6)

    def do(step):
        kind = step["do"]
        e = ctl[0]
        if kind == "call":
            apps = []
            if step.get("key"):
                apps += [f"sleep:{int(step.get('key_after', 3) * 1000)}", f"send_dtmf:{step['key']}"]
            apps.append(f"sleep:{int(step.get('patience', 60) * 1000)}")
            vars_ = (f"origination_caller_id_number={step.get('number', '5550000')},"
                     f"origination_caller_id_name='{step.get('name', step['id'])}'")
            h, body = e.command(f"bgapi originate {{{vars_}}}loopback/q-{step['queue']}/callers "
                                f"{','.join(apps)} inline")
            return h.get("Reply-Text", body.strip())
        if kind == "agent":  # ring and talk of the agent's next calls
            c = contact(step["agent"], step.get("ring_ms", 1000), step.get("talk_ms", 5000), leg_timeout)
            return e.api(f"callcenter_config agent set contact {step['agent']} {c}")
        if kind == "break":
            return e.api(f"callcenter_config agent set status {step['agent']} 'On Break'")
        if kind == "available":
            return e.api(f"callcenter_config agent set status {step['agent']} 'Available'")
        if kind == "logout":
            return e.api(f"callcenter_config agent set status {step['agent']} 'Logged Out'")
        if kind == "restart":
            e.close()
            fs.stop()
            time.sleep(step.get("down", 1))
            fs.start()
            ctl[0] = Esl(port)
            return "+OK restarted"
        raise ValueError(f"unknown step {kind}")

    play_steps(story, do, log)
    ctl[0].close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=["play", "config"])
    ap.add_argument("story")
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", required=True, help="build-freeswitch.sh output's prefix/")
    ap.add_argument("--esl-port", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the configuration folder")
    add_handshake_args(ap)
    a = ap.parse_args()

    story = load_story(a.story)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    port = a.esl_port or free_port()
    conf = os.path.join(out, "conf")
    write_config(story, conf, port)
    if a.command == "config":
        print(conf)
        return 0
    prefix = os.path.abspath(a.prefix)
    if not os.access(f"{prefix}/fs/bin/freeswitch", os.X_OK):
        print(f"fslab: no {prefix}/fs/bin/freeswitch", file=sys.stderr)
        return 3
    fs = FreeSwitch(prefix, conf, port)
    fs.start()
    raw = os.path.join(out, "esl.raw")
    if os.path.exists(raw):
        os.remove(raw)
    rec = Recorder(port, raw, list(story["queues"]))
    rec.start()
    rec.ready.wait(10)
    write_ready(a.ready_file, port)
    try:
        wait_go(a.go_file)
        with open(os.path.join(out, "steps.log"), "w") as log:
            play(story, port, fs, log)
        finish(story, a)
    finally:
        rec.stop_flag.set()
        fs.stop()
        rec.join(5)
    if not a.keep:
        shutil.rmtree(conf, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
