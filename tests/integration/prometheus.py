"""A strict parser for the Prometheus text exposition format 0.0.4.

Stricter than Prometheus itself, to catch mistakes in what jobwatchd
serves: every sample needs a preceding # TYPE of its family, a family's
lines must be together, and histograms must be consistent. Any malformed
line raises ValueError naming the line number.

    families = prometheus.parse(text)
    families["jobwatch_watches"]["type"]        # "gauge"
    prometheus.value(families, "jobwatch_events_total", {"type": "job.failed"})

`python3 prometheus.py` runs a self-check.
"""

import math
import re

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIMESTAMP = re.compile(r"-?[0-9]+")
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
_BLANKS = " \t"


def parse_value(text: str) -> float:
    """A sample value (or le) as Go's ParseFloat takes it, minus its leniencies."""
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"bad number {text!r}")
    return float(text)


def _unescape(text: str, allowed: dict, what: str) -> str:
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise ValueError(f"bad escape in {what}: {text[i:i + 2]!r}")
            out.append(allowed[text[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


_HELP_ESCAPES = {"\\": "\\", "n": "\n"}


class _Line:
    """A cursor over one sample line."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def blanks(self) -> int:
        start = self.pos
        while self.peek() and self.peek() in _BLANKS:
            self.pos += 1
        return self.pos - start

    def match(self, pattern: re.Pattern, what: str) -> str:
        m = pattern.match(self.text, self.pos)
        if not m:
            raise ValueError(f"expected {what} at column {self.pos + 1}")
        self.pos = m.end()
        return m.group(0)

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in _BLANKS:
            self.pos += 1
        return self.text[start:self.pos]

    def label_value(self) -> str:
        if self.peek() != '"':
            raise ValueError(f"expected '\"' at column {self.pos + 1}")
        self.pos += 1
        out = []
        while True:
            c = self.peek()
            if not c:
                raise ValueError("unterminated label value")
            self.pos += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                e = self.peek()
                if e not in ("\\", '"', "n"):
                    raise ValueError("bad escape in label value: " + repr("\\" + e))
                out.append("\n" if e == "n" else e)
                self.pos += 1
            else:
                out.append(c)


def _parse_sample(text: str):
    line = _Line(text)
    name = line.match(_METRIC_NAME, "a metric name")
    labels = {}
    if line.peek() == "{":
        line.pos += 1
        line.blanks()
        while line.peek() != "}":
            if not line.peek():
                raise ValueError("unbalanced braces: '{' without '}'")
            label = line.match(_LABEL_NAME, "a label name")
            line.blanks()
            if line.peek() != "=":
                raise ValueError(f"expected '=' after label {label}")
            line.pos += 1
            line.blanks()
            if label in labels:
                raise ValueError(f"label {label} given twice")
            labels[label] = line.label_value()
            line.blanks()
            if line.peek() == ",":
                line.pos += 1
                line.blanks()
            elif line.peek() != "}":
                raise ValueError(f"expected ',' or '}}' at column {line.pos + 1}")
        line.pos += 1
    if line.blanks() == 0:
        raise ValueError(f"expected a blank before the value at column {line.pos + 1}")
    value = parse_value(line.token())
    if line.blanks() and not line.at_end():
        timestamp = line.token()
        if not _TIMESTAMP.fullmatch(timestamp):
            raise ValueError(f"bad timestamp {timestamp!r}")
        line.blanks()
    if not line.at_end():
        raise ValueError(f"unexpected text at column {line.pos + 1}: {text[line.pos:]!r}")
    return name, labels, value


def _family_of(name: str, families: dict):
    """The family a sample name belongs to, or None."""
    if name in families and families[name]["type"] in ("counter", "gauge", "untyped", "summary"):
        return name
    for type_, suffixes in _SUFFIXES.items():
        for suffix in suffixes:
            base = name[:-len(suffix)]
            if name.endswith(suffix) and families.get(base, {}).get("type") == type_:
                return base
    return None


def _check_histogram(family: str, samples: list):
    groups = {}  # labels without le -> {"buckets": [(le, v)], "count": v, "sum": v}
    for name, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        group = groups.setdefault(key, {"buckets": [], "count": None, "sum": None})
        if name == family + "_bucket":
            if "le" not in labels:
                raise ValueError(f"{family}: bucket without le")
            group["buckets"].append((parse_value(labels["le"]), value))
        elif "le" in labels:
            raise ValueError(f"{name}: le on a sample that is not a bucket")
        elif name == family + "_count":
            group["count"] = value
        else:
            group["sum"] = value
    for key, group in groups.items():
        where = f"{family}{dict(key)}"
        buckets = group["buckets"]
        if not buckets:
            raise ValueError(f"{where}: no buckets")
        for (le_a, count_a), (le_b, count_b) in zip(buckets, buckets[1:]):
            if not le_a < le_b:
                raise ValueError(f"{where}: buckets not in increasing le order")
            if count_b < count_a:
                raise ValueError(f"{where}: bucket counts are not cumulative")
        if buckets[-1][0] != math.inf:
            raise ValueError(f"{where}: no le=\"+Inf\" bucket")
        if group["count"] is None or group["sum"] is None:
            raise ValueError(f"{where}: _count or _sum missing")
        if group["count"] != buckets[-1][1]:
            raise ValueError(f"{where}: _count {group['count']} != +Inf bucket {buckets[-1][1]}")


def parse(text: str) -> dict:
    """family name -> {"type", "help" (None if absent), "samples": [(name, labels, value)]}."""
    families = {}
    seen_samples = set()
    current = None
    if text and not text.endswith("\n"):
        raise ValueError("the text does not end with a newline")
    lines = text.split("\n")[:-1] if text else []
    for number, raw in enumerate(lines, 1):
        try:
            if "\r" in raw:
                raise ValueError("carriage return in line")
            if not raw.strip(_BLANKS):
                continue
            if raw.startswith("#"):
                words = re.match(r"[ \t]*(\S*)[ \t]*(.*)", raw[1:])
                keyword, rest = words.group(1), words.group(2)
                if keyword not in ("HELP", "TYPE"):
                    continue  # a plain comment
                m = _METRIC_NAME.match(rest)
                if not m or (m.end() < len(rest) and rest[m.end()] not in _BLANKS):
                    raise ValueError(f"bad metric name in # {keyword}")
                name, rest = m.group(0), rest[m.end():].lstrip(_BLANKS)
                if name != current and name in families:
                    raise ValueError(f"family {name} continues after another family")
                family = families.setdefault(name, {"type": None, "help": None, "samples": []})
                current = name
                if keyword == "HELP":
                    if family["help"] is not None:
                        raise ValueError(f"second # HELP for {name}")
                    family["help"] = _unescape(rest, _HELP_ESCAPES, "HELP")
                else:
                    if family["type"] is not None:
                        raise ValueError(f"second # TYPE for {name}")
                    if family["samples"]:
                        raise ValueError(f"# TYPE for {name} after its samples")
                    type_ = rest.strip(_BLANKS)
                    if type_ not in _TYPES:
                        raise ValueError(f"unknown type {type_!r}")
                    family["type"] = type_
                continue
            name, labels, value = _parse_sample(raw)
            family_name = _family_of(name, families)
            if family_name is None:
                raise ValueError(f"sample {name} without a preceding # TYPE of its family")
            if family_name != current:
                raise ValueError(f"sample {name} apart from the rest of family {family_name}")
            family = families[family_name]
            if family["type"] == "counter" and not value >= 0:
                raise ValueError(f"counter {name} is {value}")
            key = (name, frozenset(labels.items()))
            if key in seen_samples:
                raise ValueError(f"duplicate sample {name}{labels}")
            seen_samples.add(key)
            family["samples"].append((name, labels, value))
        except ValueError as e:
            raise ValueError(f"line {number}: {e}: {raw!r}") from None
    for name, family in families.items():
        if family["type"] is None:
            raise ValueError(f"# HELP {name} without # TYPE")
        if family["type"] == "histogram" and family["samples"]:
            _check_histogram(name, family["samples"])
    return families


def value(families: dict, sample_name: str, labels: dict | None = None) -> float:
    """The value of the sample with exactly these labels; KeyError if absent."""
    labels = labels or {}
    for family in families.values():
        for name, sample_labels, sample_value in family["samples"]:
            if name == sample_name and sample_labels == labels:
                return sample_value
    raise KeyError(f"no sample {sample_name}{labels}")


def samples(families: dict, sample_name: str) -> list:
    """[(labels, value)] of every sample with this name."""
    return [(labels, v) for family in families.values()
            for name, labels, v in family["samples"] if name == sample_name]


_GOOD = """\
# A comment.
# HELP jobwatch_watches Watches in progress.
# TYPE jobwatch_watches gauge
jobwatch_watches 42
# HELP jobwatch_events_total Events emitted, by type \\\\ and\\nmore.
# TYPE jobwatch_events_total counter
jobwatch_events_total{type="job.failed",path="C:\\\\x \\"y\\"\\nz"} 3
jobwatch_events_total{type="job.succeeded",} 1.5e3 1700000000000
# TYPE empty_total counter
# HELP h Latency.
# TYPE h histogram
h_bucket{op="a",le="0.005"} 1
h_bucket{op="a",le="1"} 2
h_bucket{op="a",le="+Inf"} 3
h_sum{op="a"} 3.251
h_count{op="a"} 3
# TYPE g gauge
g{a="1"} NaN
g{a="2"} -Inf

"""


def _expect_error(text: str, fragment: str):
    try:
        parse(text)
    except ValueError as e:
        assert fragment in str(e), f"{fragment!r} not in {e!r}"
        return
    raise AssertionError(f"no ValueError for {text!r}")


def self_test():
    f = parse(_GOOD)
    assert f["jobwatch_watches"] == {"type": "gauge", "help": "Watches in progress.",
                                     "samples": [("jobwatch_watches", {}, 42.0)]}
    assert f["jobwatch_events_total"]["help"] == "Events emitted, by type \\ and\nmore."
    assert value(f, "jobwatch_events_total", {"type": "job.failed", "path": 'C:\\x "y"\nz'}) == 3
    assert value(f, "jobwatch_events_total", {"type": "job.succeeded"}) == 1500
    assert f["empty_total"] == {"type": "counter", "help": None, "samples": []}
    assert value(f, "h_bucket", {"op": "a", "le": "+Inf"}) == 3
    assert math.isnan(value(f, "g", {"a": "1"}))
    assert len(samples(f, "h_bucket")) == 3
    assert parse("") == {}

    head = "# TYPE m gauge\n"
    hist = "# TYPE h histogram\n"
    for text, fragment in [
        ("m 1", "newline"),
        ("m 1\n", "without a preceding # TYPE"),
        (head + "1m 1\n", "metric name"),
        (head + "m{a=\"1\" 1\n", "expected ',' or '}'"),
        (head + "m{a=\"1\"\n", "expected ',' or '}'"),
        (head + "m} 1\n", "blank before the value"),
        (head + "m{a=\"x\\t\"} 1\n", "bad escape"),
        (head + "m{a=\"x} 1\n", "unterminated"),
        (head + "m{a=x} 1\n", "expected '\"'"),
        (head + "m{a=\"1\",a=\"2\"} 1\n", "given twice"),
        (head + "m{1a=\"1\"} 1\n", "label name"),
        (head + "m 1_000\n", "bad number"),
        (head + "m inf\n", "bad number"),
        (head + "m 1 2.5\n", "bad timestamp"),
        (head + "m 1 2 3\n", "unexpected text"),
        (head + "m 1\nm 2\n", "duplicate sample"),
        (head + "m{a=\"1\"} 1\nm{a=\"1\"} 2\n", "duplicate sample"),
        (head + "# TYPE m gauge\n", "second # TYPE"),
        ("# HELP m a\n" + head + "# HELP m b\n", "second # HELP"),
        ("# HELP m a \\t\n" + head, "bad escape in HELP"),
        ("# TYPE m gauges\n", "unknown type"),
        ("# TYPE 9m gauge\n", "bad metric name"),
        ("# HELP m x\n", "without # TYPE"),
        (head + "# TYPE n gauge\nn 1\nm 1\n", "apart from the rest"),
        (head + "m 1\n# TYPE n gauge\n# HELP m again\n", "continues after another"),
        ("# TYPE c_total counter\nc_total -1\n", "counter"),
        ("# TYPE m_total counter\nm 1\n", "without a preceding # TYPE"),
        (hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
         "not cumulative"),
        (hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf"),
        (hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "_count"),
        (hist + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\n", "_count or _sum missing"),
        (hist + "h_bucket 1\n", "bucket without le"),
        (hist + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
         "h_sum 1\nh_count 1\n", "increasing le"),
        (hist + "h_bucket{le=\"x\"} 1\n", "bad number"),
        (hist + "h 1\n", "without a preceding # TYPE"),
        (head + "m 1\r\n", "carriage return"),
    ]:
        _expect_error(text, fragment)


if __name__ == "__main__":
    self_test()
    print("prometheus.py: self-check passed")
