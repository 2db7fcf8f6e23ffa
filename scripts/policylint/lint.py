"""Runs parliament over the policy documents TestWritePolicyDocumentsForLint
wrote (manifest.json lists them) and compares its findings with the allowed
ones (allowed.yaml). scripts/policylint.sh installs parliament and calls this.

parliament has no switch for resource policies: it checks the Principal
element wherever a statement has one, so the bucket, key and table policies
(with principals) and the identity policies (without) are linted alike.
Identical documents are linted once and their findings counted for each file.
Exit status: 0 when every finding at or above the threshold is allowed and
every allowance matched something, 1 otherwise.
"""

import argparse
import fnmatch
import json
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def init_worker():
    import parliament

    # What --include-community-auditors does on the command line.
    parliament.override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")


def lint(text):
    import parliament

    policy = parliament.analyze_policy_string(text, include_community_auditors=True, config=parliament.config)
    out = []
    for f in policy.findings:
        f = parliament.enhance_finding(f)
        location = f.location if isinstance(f.location, dict) else {}
        out.append({"issue": f.issue, "severity": f.severity, "detail": f.detail, "column": location.get("column")})
    return out


def sid_at(text, column):
    """The Sid of the statement a (1-based, single-line) column falls in."""
    if column is None:
        return None
    sid = None
    for m in re.finditer(r'\{"Sid":"([^"]*)"', text):
        if m.start() < column:
            sid = m.group(1)
    return sid


def as_list(v):
    return v if isinstance(v, list) else [v]


def matches(entry, finding):
    if entry["issue"] != finding["issue"]:
        return False
    if "document" in entry and not any(fnmatch.fnmatchcase(finding["document"], g) for g in as_list(entry["document"])):
        return False
    if "sid" in entry and not (finding["sid"] and re.fullmatch(entry["sid"], finding["sid"])):
        return False
    if "detail" in entry and not re.search(entry["detail"], json.dumps(finding["detail"])):
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--allowed", required=True)
    ap.add_argument("--min-severity", default="LOW", choices=SEVERITIES)
    args = ap.parse_args()

    docs = Path(args.dir)
    manifest = json.loads((docs / "manifest.json").read_text())
    allowed = yaml.safe_load(Path(args.allowed).read_text()) or []
    for e in allowed:
        if not e.get("issue") or not e.get("reason"):
            sys.exit(f"policylint: {args.allowed}: every entry needs an issue and a reason: {e}")
    texts = {m["file"]: (docs / m["file"]).read_text() for m in manifest}
    distinct = sorted(set(texts.values()))
    with ProcessPoolExecutor(initializer=init_worker) as pool:
        results = dict(zip(distinct, pool.map(lint, distinct, chunksize=8)))

    threshold = SEVERITIES.index(args.min_severity)
    used = [0] * len(allowed)
    failures = []
    total = 0
    for m in manifest:
        text = texts[m["file"]]
        for f in results[text]:
            if SEVERITIES.index(f["severity"]) < threshold:
                continue
            total += 1
            finding = dict(f, document=m["document"], sid=sid_at(text, f["column"]))
            hit = next((i for i, e in enumerate(allowed) if matches(e, finding)), None)
            if hit is None:
                failures.append((m, finding))
            else:
                used[hit] += 1

    for m, f in failures:
        detail = json.dumps(f["detail"])
        if len(detail) > 300:
            detail = detail[:300] + "..."
        print(f"policylint: {f['severity']} {f['issue']} in {m['document']} (statement {f['sid'] or '?'}) of {m['file']}: {detail}")
    stale = [e for i, e in enumerate(allowed) if used[i] == 0]
    for e in stale:
        print(f"policylint: allowance {e['issue']} ({e.get('document', 'any document')}) matched no finding: remove it from {args.allowed}")
    labels = [f"{e['issue']} in {'/'.join(as_list(e.get('document', 'any')))}: {used[i]}" for i, e in enumerate(allowed) if used[i]]
    print(f"policylint: {len(manifest)} documents ({len(distinct)} distinct), {total} findings at {args.min_severity} or above, "
          f"{sum(used)} allowed ({'; '.join(labels)})")
    for i, e in enumerate(allowed):
        if used[i]:
            print(f"policylint:   allowed {e['issue']}: {e['reason']}")
    if failures or stale:
        print(f"policylint: FAILED: {len(failures)} findings not allowed, {len(stale)} stale allowances")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
