"""Assertions of the lab fixture tests (tests/integration/*_fixtures.sh): a report's figures
against the ones worked out by hand, each printed as `ok` or `FAIL` with what was found."""
import json
import os

_UNSET = object()


class Checker:
    def __init__(self, folder):
        self.folder = folder
        self.failures = []

    def load(self, story, fmt):
        with open(os.path.join(self.folder, f"{story}-{fmt}.json")) as f:
            return json.load(f)

    def check(self, what, got, want, tol=None):
        if want is None:
            ok = got is None
        elif tol is None:
            ok = got == want if not isinstance(want, float) else (
                got is not None and abs(got - want) < 1e-3)
        else:
            ok = got is not None and abs(got - want) <= tol
        print(("ok    " if ok else "FAIL  ") + f"{what}: {got!r}" + ("" if ok else f" (want {want!r})"))
        if not ok:
            self.failures.append(what)

    def queue(self, r, label, name, **want):
        q = r["queues"].get(name)
        if q is None:
            self.check(f"{label} queue {name} present", None, "present")
            return
        for k, v in want.items():
            if k.startswith("sl_"):
                self.check(f"{label} {name} service_level.{k[3:]}", q["service_level"][k[3:]], v)
            else:
                self.check(f"{label} {name} {k}", q[k], v)

    def agent(self, r, label, name, paused=_UNSET, tol=None, **want):
        """paused: seconds (None = the report must say null); left out, not checked."""
        a = r["agents"].get(name)
        if a is None:
            self.check(f"{label} agent {name} present", None, "present")
            return
        for k, v in want.items():
            self.check(f"{label} {name} {k}", a[k], v)
        if paused is not _UNSET:
            self.check(f"{label} {name} paused_seconds", a["paused_seconds"], paused, tol)

    def done(self, what):
        print(f"{len(self.failures)} failed" if self.failures else f"{what} ok")
        return 1 if self.failures else 0
