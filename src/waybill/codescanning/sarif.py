"""SARIF uploads: the ``sarif`` field decoded (base64, then gzip) and checked against GitHub's limits
before the upload is accepted, then validated against the official SARIF 2.1.0 schema and read into
runs of findings by the queued job.

GitHub's limits (its "SARIF support for code scanning" page): 10 MB gzipped, 20 runs a file, 25,000
results a run of which the 5,000 most severe are kept, 1,000 locations a result of which 100 are
kept, and 20 tags a rule of which 10 are kept. A file beyond a hard limit is refused whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import msgspec

from waybill.codescanning.types import (
    LEVEL_RANK,
    SEVERITY_RANK,
    Finding,
    Location,
    Rule,
    RuleSeverity,
    Run,
    Sarif,
    SecuritySeverity,
)
from waybill.core.errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    import jsonschema

MAX_GZIP_BYTES = 10 * 1024 * 1024
# What the base64 of the largest gzipped file takes.
MAX_ENCODED_CHARS = (MAX_GZIP_BYTES + 2) // 3 * 4
# Decompressed, a file may be far larger than gzipped; past this it is a decompression bomb.
MAX_JSON_BYTES = 512 * 1024 * 1024
MAX_RUNS = 20
MAX_RESULTS = 25_000
KEPT_RESULTS = 5_000
MAX_LOCATIONS = 1_000
KEPT_LOCATIONS = 100
KEPT_TAGS = 10

# The classifications of a file that SARIF tags may name (as properties of the result or of the
# run's artifact for its file), in the order GitHub lists them.
CLASSIFICATIONS = ("test", "library", "generated")

# SARIF results of these kinds report no problem; an ``absent`` baseline state is a result that is gone.
NOT_PROBLEMS = frozenset({"pass", "notApplicable", "informational"})


class InvalidSarif(BadRequest):
    """The file is not SARIF 2.1.0 within GitHub's limits; the message says where."""


def _invalid(reason: str) -> InvalidSarif:
    return InvalidSarif(f"Invalid SARIF: {reason}")


def prepare() -> None:
    """Build the schema's validator now (about a second of CPU), so that the first upload's job
    does not: a job worker calls it in a thread once it has started."""
    _validator()


@cache
def _validator() -> jsonschema.Draft4Validator:
    # Imported here, not with the module: importing jsonschema builds its format checkers' grammars,
    # a second of CPU that every server process would otherwise spend before it answers.
    import jsonschema

    text = (
        resources.files("waybill.codescanning").joinpath("sarif_schema/sarif-schema-2.1.0.json").read_text()
    )
    return jsonschema.Draft4Validator(json.loads(text))


def decode(encoded: str) -> bytes:
    """The gzipped file the ``sarif`` field carries."""
    if len(encoded) > MAX_ENCODED_CHARS:
        raise PayloadTooLarge(f"The SARIF file is larger than {MAX_GZIP_BYTES} bytes gzipped.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("the sarif field is not base64") from None
    if len(raw) > MAX_GZIP_BYTES:
        raise PayloadTooLarge(f"The SARIF file is larger than {MAX_GZIP_BYTES} bytes gzipped.")
    return raw


def inflate(gzipped: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(gzipped, MAX_JSON_BYTES + 1)
    except zlib.error:
        raise _invalid("the sarif field is not gzip-compressed") from None
    if len(out) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"The SARIF file is larger than {MAX_JSON_BYTES} bytes uncompressed.")
    if not inflater.eof:
        raise _invalid("the gzip stream is truncated")
    return out


def load(gzipped: bytes) -> dict[str, Any]:
    return _decode(inflate(gzipped))


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise _invalid(f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _invalid("the document is not a JSON object")
    return document


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def _items(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def check_limits(document: dict[str, Any]) -> None:
    """The version and GitHub's hard limits: counts only, cheap enough to answer before the 202.
    Anything of the wrong shape is left to the schema."""
    if document.get("version") != "2.1.0":
        raise _invalid(f"version must be 2.1.0, got {document.get('version')!r}")
    runs = _items(document, "runs")
    if len(runs) > MAX_RUNS:
        raise _invalid(f"{len(runs)} runs; a file may have at most {MAX_RUNS}")
    for i, run in enumerate(runs):
        results = _items(run, "results")
        if len(results) > MAX_RESULTS:
            raise _invalid(f"runs/{i} has {len(results)} results; a run may have at most {MAX_RESULTS}")
        for j, result in enumerate(results):
            count = len(_items(result, "locations"))
            if count > MAX_LOCATIONS:
                raise _invalid(
                    f"runs/{i}/results/{j} has {count} locations; a result may have at most {MAX_LOCATIONS}"
                )


def validate_schema(document: dict[str, Any]) -> None:
    """The official SARIF 2.1.0 schema; the most relevant violation names where it is. About 0.15 ms
    a result, so it runs in the queued job, not before the 202."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise _invalid(f"at {_where(error)}: {error.message[:300]}")


# Of the problems ``requirements`` finds, those listed; the rest are counted.
LISTED_PROBLEMS = 10


def _result_problems(where: str, result: dict[str, Any], rules: int) -> list[str]:
    problems: list[str] = []
    reference = result.get("rule") or {}
    index = result.get("ruleIndex", reference.get("index"))
    if not (result.get("ruleId") or reference.get("id") or (isinstance(index, int) and 0 <= index < rules)):
        problems.append(f"{where}: a result must name its rule (ruleId, or a ruleIndex into the rules)")
    message = result.get("message") or {}
    if not (message.get("text") or message.get("markdown") or message.get("id")):
        problems.append(f"{where}/message: a result must have a message text")
    locations = result.get("locations") or []
    if not locations:
        problems.append(f"{where}/locations: a result must have at least one location")
        return problems
    physical = locations[0].get("physicalLocation") or {}
    artifact = physical.get("artifactLocation") or {}
    if artifact.get("uri") is None and not isinstance(artifact.get("index"), int):
        problems.append(
            f"{where}/locations/0/physicalLocation/artifactLocation: a location must name its file (uri)"
        )
    if (physical.get("region") or {}).get("startLine") is None:
        problems.append(f"{where}/locations/0/physicalLocation/region: a location must have a startLine")
    return problems


def requirements(document: dict[str, Any]) -> list[str]:
    """What code scanning needs of a schema-valid file to show its results as alerts (checked when
    the upload asks for ``validate``): each result names its rule, has a message and a location with
    a file and a start line. The first problems, then how many more."""
    problems: list[str] = []
    for i, run in enumerate(document.get("runs") or []):
        tool = run.get("tool") or {}
        rules = len((tool.get("driver") or {}).get("rules") or [])
        for j, result in enumerate(run.get("results") or []):
            if result.get("kind", "fail") in NOT_PROBLEMS:
                continue
            problems += _result_problems(f"runs/{i}/results/{j}", result, rules)
    if len(problems) > LISTED_PROBLEMS:
        return [*problems[:LISTED_PROBLEMS], f"and {len(problems) - LISTED_PROBLEMS} more problems"]
    return problems


def check(encoded: str) -> bytes:
    """The upload's gzipped file once it is known to be gzipped JSON of SARIF 2.1.0 within GitHub's
    limits (the schema is the job's)."""
    gzipped = decode(encoded)
    check_limits(load(gzipped))
    return gzipped


def category_of(run: dict[str, Any]) -> str:
    """``runAutomationDetails.id`` is ``category/run-id``: the category is what precedes the last ``/``
    (kept with it, as GitHub shows it); an id without one is all category."""
    ident = (run.get("automationDetails") or {}).get("id") or ""
    if "/" in ident:
        return ident[: ident.rindex("/") + 1]
    return ident


WORKFLOWS = ".github/workflows/"


def analysis_key_and_environment(category: str, tool_name: str) -> tuple[str, str]:
    """An analysis's ``analysis_key`` and ``environment`` (a JSON object, as a string) from its
    category. A category that Actions wrote (``.github/workflows/FILE:JOB/key:value/...``) names the
    workflow and job, then the matrix values; any other category is the key itself, in the empty
    environment; without one, the tool's name is the key."""
    if category.startswith(WORKFLOWS):
        parts = [p for p in category[len(WORKFLOWS) :].split("/") if p]
        job = next((i for i, part in enumerate(parts) if ":" in part), None)
        if job is not None:
            key = WORKFLOWS + "/".join(parts[: job + 1])
            matrix = dict(part.split(":", 1) for part in parts[job + 1 :] if ":" in part)
            return key, json.dumps(matrix, sort_keys=True, separators=(",", ":"))
    return (category or tool_name), "{}"


def security_severity(properties: dict[str, Any]) -> SecuritySeverity | None:
    """GitHub's bands of the rule property ``security-severity`` (a CVSS-like score)."""
    raw = properties.get("security-severity")
    if not isinstance(raw, str | int | float):
        return None
    try:
        score = float(raw)
    except (TypeError, ValueError):
        return None
    if score >= 9.0:
        return SecuritySeverity.CRITICAL
    if score >= 7.0:
        return SecuritySeverity.HIGH
    if score >= 4.0:
        return SecuritySeverity.MEDIUM
    if score > 0.0:
        return SecuritySeverity.LOW
    return None


_PROBLEM_SEVERITY = {
    "error": RuleSeverity.ERROR,
    "warning": RuleSeverity.WARNING,
    "recommendation": RuleSeverity.NOTE,
}


def _level(result: dict[str, Any], rule: dict[str, Any]) -> RuleSeverity:
    level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level")
    if isinstance(level, str) and level in tuple(RuleSeverity):
        return RuleSeverity(level)
    problem = (rule.get("properties") or {}).get("problem.severity")
    return _PROBLEM_SEVERITY.get(str(problem), RuleSeverity.WARNING)


def _text(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("text") or node.get("markdown") or "")
    return ""


def _rule(rule_id: str, rule: dict[str, Any], level: RuleSeverity) -> Rule:
    properties = rule.get("properties") or {}
    tags = [t for t in properties.get("tags") or [] if isinstance(t, str)][:KEPT_TAGS]
    help_node = rule.get("help") or {}
    short = _text(rule.get("shortDescription")) or rule.get("name") or rule_id
    return Rule(
        id=rule_id,
        name=rule.get("name") or rule_id,
        severity=level,
        security_severity_level=security_severity(properties),
        description=short,
        full_description=_text(rule.get("fullDescription")) or short,
        tags=tuple(tags),
        help=(help_node.get("markdown") or help_node.get("text")) if isinstance(help_node, dict) else None,
        help_uri=rule.get("helpUri"),
    )


_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _message(result: dict[str, Any], rule: dict[str, Any]) -> str:
    message = result.get("message") or {}
    text = message.get("text") or message.get("markdown")
    if not text and message.get("id"):
        text = _text((rule.get("messageStrings") or {}).get(message["id"]))
    arguments = message.get("arguments") or []
    if text and arguments:
        text = _PLACEHOLDER.sub(
            lambda m: str(arguments[int(m.group(1))]) if int(m.group(1)) < len(arguments) else m.group(0),
            text,
        )
    return str(text or "")


def relative_path(uri: str, checkout_uri: str | None) -> str:
    """A repository-relative path for an artifact URI: the checkout directory and ``file://`` go."""
    path = unquote(urlsplit(uri).path if uri.startswith("file:") else uri)
    if checkout_uri:
        base = unquote(urlsplit(checkout_uri).path if checkout_uri.startswith("file:") else checkout_uri)
        base = base.rstrip("/") + "/"
        if path.startswith(base):
            path = path[len(base) :]
    return path.lstrip("/") if checkout_uri else path.removeprefix("./")


class _RunReader:
    def __init__(self, run: dict[str, Any], checkout_uri: str | None) -> None:
        self.run = run
        self.checkout_uri = checkout_uri
        driver = (run.get("tool") or {}).get("driver") or {}
        self.rules: list[dict[str, Any]] = list(driver.get("rules") or [])
        for extension in (run.get("tool") or {}).get("extensions") or []:
            self.rules += extension.get("rules") or []
        self.by_id = {r["id"]: r for r in self.rules if isinstance(r.get("id"), str)}
        self.artifacts = run.get("artifacts") or []
        self.seen: dict[str, int] = {}

    def rule_of(self, result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        reference = result.get("rule") or {}
        index = result.get("ruleIndex", reference.get("index"))
        rule_id = result.get("ruleId") or reference.get("id")
        if rule_id is None and isinstance(index, int) and 0 <= index < len(self.rules):
            rule_id = self.rules[index].get("id")
        rule_id = str(rule_id or "unknown")
        rule = self.by_id.get(rule_id)
        if rule is None and "/" in rule_id:
            # A hierarchical id ("rule/subrule") names its base rule's metadata.
            rule = self.by_id.get(rule_id.split("/", 1)[0])
        return rule_id, rule or {}

    def _artifact(self, index: Any) -> dict[str, Any]:
        if isinstance(index, int) and 0 <= index < len(self.artifacts):
            found = self.artifacts[index]
            return found if isinstance(found, dict) else {}
        return {}

    def classifications(self, result: dict[str, Any]) -> tuple[str, ...]:
        """The file classifications the result's own tags and its file's artifact tags name."""
        locations = result.get("locations") or []
        physical = (locations[0].get("physicalLocation") or {}) if locations else {}
        artifact = self._artifact((physical.get("artifactLocation") or {}).get("index"))
        tags = {
            str(tag).lower()
            for node in (result, artifact)
            for tag in ((node.get("properties") or {}).get("tags") or [])
            if isinstance(tag, str)
        }
        return tuple(c for c in CLASSIFICATIONS if c in tags)

    def location(self, result: dict[str, Any]) -> tuple[Location, str | None]:
        locations = (result.get("locations") or [])[:KEPT_LOCATIONS]
        physical = (locations[0].get("physicalLocation") or {}) if locations else {}
        artifact = physical.get("artifactLocation") or {}
        uri = artifact.get("uri")
        index = artifact.get("index")
        if uri is None:
            uri = (self._artifact(index).get("location") or {}).get("uri")
        region = physical.get("region") or {}
        start = region.get("startLine")
        snippet = (region.get("snippet") or {}).get("text")
        return (
            Location(
                path=relative_path(str(uri or ""), self.checkout_uri),
                start_line=_line(start),
                end_line=_line(region.get("endLine", start)),
                start_column=_line(region.get("startColumn")),
                end_column=_line(region.get("endColumn")),
            ),
            snippet,
        )

    def fingerprint(
        self, result: dict[str, Any], rule_id: str, location: Location, snippet: str | None
    ) -> str:
        """What makes two results one alert: the tool's partial fingerprints when it gives them,
        else the rule, the file and the snippet (whitespace aside), else the start line. Equal
        computed fingerprints in one run are told apart by their order, as GitHub numbers them."""
        partial = result.get("partialFingerprints") or {}
        if partial:
            return "p:" + _digest(rule_id, *(f"{k}={v}" for k, v in sorted(partial.items())))
        if snippet and snippet.strip():
            basis = _digest(rule_id, location.path, " ".join(snippet.split()))
        else:
            basis = _digest(rule_id, location.path, str(location.start_line))
        occurrence = self.seen.get(basis, 0) + 1
        self.seen[basis] = occurrence
        return f"c:{basis}:{occurrence}"

    def read(self, index: int) -> Run:
        driver = (self.run.get("tool") or {}).get("driver") or {}
        findings: list[Finding] = []
        for result in self.run.get("results") or []:
            if result.get("kind", "fail") in NOT_PROBLEMS or result.get("baselineState") == "absent":
                continue
            rule_id, rule = self.rule_of(result)
            level = _level(result, rule)
            location, snippet = self.location(result)
            findings.append(
                Finding(
                    rule=_rule(rule_id, rule, level),
                    fingerprint=self.fingerprint(result, rule_id, location, snippet),
                    message=_message(result, rule),
                    location=location,
                    level=level,
                    classifications=self.classifications(result),
                )
            )
        ignored = 0
        if len(findings) > KEPT_RESULTS:
            ranked = sorted(range(len(findings)), key=lambda i: (*_rank(findings[i]), i))
            kept = sorted(ranked[:KEPT_RESULTS])
            ignored = len(findings) - KEPT_RESULTS
            findings = [findings[i] for i in kept]
        return Run(
            index=index,
            tool_name=str(driver.get("name") or "API"),
            tool_version=driver.get("semanticVersion") or driver.get("version"),
            tool_guid=driver.get("guid"),
            category=category_of(self.run),
            findings=findings,
            rules_count=len(self.rules),
            ignored=ignored,
        )


def _rank(finding: Finding) -> tuple[int, int]:
    """Most severe first: security severity, then level."""
    level = finding.rule.security_severity_level
    return (len(SEVERITY_RANK) if level is None else SEVERITY_RANK[level], LEVEL_RANK[finding.level])


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _without_nul(node: Any) -> Any:
    if isinstance(node, str):
        return node.replace("\x00", "")
    if isinstance(node, list):
        return [_without_nul(n) for n in node]
    if isinstance(node, dict):
        return {_without_nul(k): _without_nul(v) for k, v in node.items()}
    return node


def _line(value: Any) -> int | None:
    """A line or column the tables can hold (SARIF sets no upper bound; the columns are 32-bit)."""
    return value if isinstance(value, int) and 0 <= value < 2**31 else None


class UnfitSarif(Exception):
    """Valid SARIF that does not meet code scanning's requirements (the upload asked for ``validate``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read(gzipped: bytes, checkout_uri: str | None, *, strict: bool = False) -> Sarif:
    """The runs of a file already checked by ``check``, once it is valid against the schema
    (``InvalidSarif`` when it is not) and, when ``strict``, meets code scanning's requirements
    (``UnfitSarif`` when it does not)."""
    raw = inflate(gzipped)
    document = _decode(raw)
    validate_schema(document)
    if strict and (problems := requirements(document)):
        raise UnfitSarif(problems)
    if b"\\u0000" in raw:
        # PostgreSQL text cannot store NUL, which SARIF strings may hold (escaped as \u0000).
        document = _without_nul(document)
    runs = [_RunReader(run, checkout_uri).read(i) for i, run in enumerate(document.get("runs") or [])]
    return Sarif(runs=runs, document=document)


def run_document(document: dict[str, Any], index: int) -> dict[str, Any]:
    """The SARIF of one analysis: the file with only its run."""
    runs = document.get("runs") or []
    out = {k: v for k, v in document.items() if k != "runs"}
    out["runs"] = [runs[index]] if 0 <= index < len(runs) else []
    return out
