"""Run many sized random programs without stopping at the first failure, and record every
failure (a helper for long runs; pytest does not collect it).

    python -m tests.random_campaign --minutes 60 --out failures.jsonl [--compiled]

Each line of the output is one failing program: its feature, source, input templates, sizes,
the backend, the kind of failure and the message. ``--reduce FILE`` shrinks recorded failures
line by line, keeping the same kind of failure, and prints them."""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests import test_random_programs as rp  # noqa: E402


class OutOfTime(Exception):
    pass


def outcome(case, backends, folder, use_jax=True):
    """None when the program passes, else (kind, backend, message)."""
    try:
        program = rp.load(case.source, folder)
        jax_grad = rp.jax_gradient(case, folder, tuple(range(len(case.templates)))) \
            if use_jax else None
        rp.check_at_sizes(case, program, backends, jax_grad)
        return None
    except rp.ProgramFailure as failure:
        return failure.kind, failure.backend, str(failure)
    except Exception as exc:  # in the test itself: also a crash
        return "crash in test", "-", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"


def signature(kind, backend, message):
    """What makes two failures the same: the kind, the backend and the exception's text with
    names, numbers and locations taken out."""
    text = message.split("\n")
    tail = [line for line in text if "symdiff raised" in line or "symdiff returned" in line]
    detail = tail[0] if tail else ""
    detail = re.sub(r"/\S+:\d+:\d+:", "FILE:", detail)
    detail = re.sub(r"\b[vxth]\d+\b|idx\d+", "NAME", detail)
    detail = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "N", detail)
    detail = re.sub(r"returned .*", "returned VALUE", detail)
    return f"{kind} | {backend} | {detail[:160]}"


def campaign(features, backends, minutes, out, compiled, examples):
    end = time.time() + 60 * minutes
    deadline = end
    folder = pathlib.Path(tempfile.mkdtemp(prefix="campaign_"))
    counts = {"programs": 0, "failed": 0}
    seen = {}
    with open(out, "a") as sink:
        def runner(feature):
            @settings(max_examples=examples, deadline=None, database=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(rp.sized_programs(feature, compiled))
            def run(case):
                if time.time() > deadline:
                    raise OutOfTime
                counts["programs"] += 1
                if counts["programs"] % 100 == 0:
                    print(f"progress {feature} {json.dumps(counts)}", flush=True)
                result = outcome(case, backends, folder)
                if result is None:
                    return
                counts["failed"] += 1
                kind, backend, message = result
                sig = signature(kind, backend, message)
                seen[sig] = seen.get(sig, 0) + 1
                sink.write(json.dumps({"feature": feature, "source": case.source,
                                       "templates": case.templates, "sizes": case.sizes,
                                       "kind": kind, "backend": backend,
                                       "signature": sig, "message": message[:4000]}) + "\n")
                sink.flush()
            return run

        for done, feature in enumerate(features):
            # each feature gets an equal share of the time left
            deadline = time.time() + (end - time.time()) / (len(features) - done)
            run = runner(feature)
            while time.time() < deadline:
                try:
                    run()
                except OutOfTime:
                    break
                except Exception as exc:  # in the generator: record it and go on
                    counts["failed"] += 1
                    sig = f"generator | - | {type(exc).__name__}: {exc}"
                    seen[sig] = seen.get(sig, 0) + 1
                    sink.write(json.dumps({"feature": feature, "signature": sig,
                                           "message": traceback.format_exc()}) + "\n")
                    sink.flush()
                    break
            print(f"{feature}: {counts}", flush=True)
    print(json.dumps(counts))
    for sig, k in sorted(seen.items(), key=lambda kv: -kv[1]):
        print(f"{k:5d}  {sig}")
    return counts


# -- reducing a recorded failure line by line -----------------------------------------------

def reduce_case(record, backends, folder):
    """Remove lines, return terms, helper lines and draws of sizes while the failure keeps
    its signature."""
    case = rp.SizedCase(record["source"], [tuple(t) if isinstance(t, list) else t
                                           for t in record["templates"]],
                        [tuple(s) for s in record["sizes"]], record["feature"])
    target = record["signature"]

    def fails(c):
        result = outcome(c, backends, folder, use_jax="JAX" in target)
        return result is not None and signature(*result) == target

    if not fails(case):
        return None, case
    changed = True
    while changed:
        changed = False
        for k in range(len(case.sizes)):  # fewer draws
            if len(case.sizes) > 1:
                trial = rp.SizedCase(case.source, case.templates,
                                     case.sizes[:k] + case.sizes[k + 1:], case.feature)
                if fails(trial):
                    case, changed = trial, True
                    break
        lines = case.source.split("\n")
        for i in range(len(lines)):
            line = lines[i]
            candidates = []
            if line.startswith("    ") and not line.strip().startswith("return"):
                candidates.append(lines[:i] + lines[i + 1:])
            if line.strip().startswith("return") and " + " in line:
                indent = line[:len(line) - len(line.lstrip())]
                terms = line.strip()[len("return "):].split(" + ")
                for j in range(len(terms)):
                    rest = terms[:j] + terms[j + 1:]
                    candidates.append(lines[:i] + [f"{indent}return {' + '.join(rest)}"] +
                                      lines[i + 1:])
            m = re.match(r"(\s+)(\w+) = (.*)$", line)
            if m:
                for name in dict.fromkeys(re.findall(r"\b[vxt]\d+\b|\b[uv]\b", m.group(3))):
                    candidates.append(lines[:i] + [f"{m.group(1)}{m.group(2)} = {name}"] +
                                      lines[i + 1:])
            for trial_lines in candidates:
                trial = rp.SizedCase("\n".join(trial_lines), case.templates, case.sizes,
                                     case.feature)
                if trial.source == case.source:
                    continue
                try:
                    compile(trial.source, "<trial>", "exec")
                except SyntaxError:
                    continue
                if fails(trial):
                    case, changed = trial, True
                    break
            if changed:
                break
    return outcome(case, backends, folder, use_jax="JAX" in target), case


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--out", default="failures.jsonl")
    parser.add_argument("--compiled", action="store_true")
    parser.add_argument("--features", default=",".join(rp.FEATURES))
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--reduce", default=None)
    parser.add_argument("--only", default=None, help="reduce records of this signature only")
    parser.add_argument("--per", type=int, default=1, help="records reduced per signature")
    args = parser.parse_args()
    backends = ("numpy", "numba") if args.compiled else ("numpy",)
    if args.reduce:
        folder = pathlib.Path(tempfile.mkdtemp(prefix="reduce_"))
        done = {}
        for line in open(args.reduce):
            record = json.loads(line)
            if "source" not in record or done.get(record["signature"], 0) >= args.per or \
                    (args.only and args.only not in record["signature"]):
                continue
            done[record["signature"]] = done.get(record["signature"], 0) + 1
            result, case = reduce_case(record, backends, folder)
            print("=" * 100)
            print(record["signature"])
            print(repr(case))
            print(result[2] if result else "(does not fail again)")
            sys.stdout.flush()
        return
    features = args.features.split(",")
    per_feature = max(1, args.minutes / len(features))
    # every feature gets its share of the time in turn
    total = {"programs": 0, "failed": 0}
    while args.minutes > 0:
        for feature in features:
            counts = campaign([feature], backends, per_feature, args.out, args.compiled,
                              args.examples)
            total = {k: total[k] + counts[k] for k in total}
        break
    print("TOTAL", json.dumps(total))


if __name__ == "__main__":
    main()
