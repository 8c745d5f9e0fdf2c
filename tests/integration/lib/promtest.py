"""What the tests against a real Prometheus server share: its HTTP API, waiting, and the
Grafana dashboard's queries with the variables filled in (python3 standard library only)."""
import json
import re
import time
import urllib.parse
import urllib.request


class Prom:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        return self.api("/api/v1/query", query=expr)["result"]


def wait_until(what, ok, until):
    while time.time() < until:
        try:
            if ok():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    print(f"FAIL: {what}: not within the time given")
    return False


def substitute(expr, subst, failures):
    """The dashboard's $variables replaced; a variable left over is a failure."""
    for k in sorted(subst, key=len, reverse=True):
        expr = expr.replace(k, subst[k])
    left = re.findall(r"\$\{?\w+", expr)
    if left:
        failures.append(f"unknown variable {left} in {expr}")
    return expr


def dashboard_queries(dash, subst, failures):
    """[(name, expr)] of every panel target, and [(variable, expr, label)] of every
    label_values() variable, with `subst` applied."""
    panels = [(f'panel "{p["title"]}" {t["refId"]}', substitute(t["expr"], subst, failures))
              for p in dash["panels"] for t in p.get("targets", [])]
    variables = []
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
        if not m:
            failures.append(f"variable {v['name']}: not label_values(): {q}")
            continue
        variables.append((v["name"], substitute(m.group(1), subst, failures), m.group(2)))
    return panels, variables


def load_dashboard(path):
    with open(path) as f:
        return json.load(f)
