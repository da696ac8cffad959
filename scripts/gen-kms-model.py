#!/usr/bin/env python3
"""Extract from the installed botocore KMS model the shapes of the operations Strongroom serves.

The botocore model is the specification of member names, types, enums and constraints. We vendor the
subset we serve (documentation stripped) so the server validates input exactly as the model says, and
test/unit/kms-model.test.ts checks that the vendored copy still matches botocore.
Usage: python3 scripts/gen-kms-model.py > src/services/kms/model.json
"""
import gzip, json, os, sys
import botocore

OPERATIONS = sys.argv[1:] or [
    "CreateKey", "DescribeKey", "ListKeys", "EnableKey", "DisableKey", "UpdateKeyDescription",
    "ScheduleKeyDeletion", "CancelKeyDeletion", "CreateAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom",
    "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations",
    "TagResource", "UntagResource", "ListResourceTags", "GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies",
    "CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant", "RevokeGrant",
]

path = os.path.join(os.path.dirname(botocore.__file__), "data/kms/2014-11-01/service-2.json.gz")
model = json.load(gzip.open(path))
shapes = model["shapes"]
keep = {}

def strip(shape):
    out = {k: v for k, v in shape.items() if k not in ("documentation", "deprecatedMessage")}
    if "members" in out:
        out["members"] = {n: {k: v for k, v in m.items() if k not in ("documentation", "deprecatedMessage")}
                          for n, m in out["members"].items()}
    return out

def visit(name):
    if name in keep:
        return
    shape = shapes[name]
    keep[name] = strip(shape)
    for m in shape.get("members", {}).values():
        visit(m["shape"])
    for k in ("member", "key", "value"):
        if k in shape:
            visit(shape[k]["shape"])

ops = {}
for op in OPERATIONS:
    o = model["operations"][op]
    ops[op] = {"input": o["input"]["shape"], "output": o.get("output", {}).get("shape"),
               "errors": [e["shape"] for e in o.get("errors", [])]}
    visit(o["input"]["shape"])
    if o.get("output"):
        visit(o["output"]["shape"])
    for e in o.get("errors", []):
        visit(e["shape"])

json.dump({"metadata": {k: model["metadata"][k] for k in ("apiVersion", "targetPrefix", "jsonVersion")},
           "operations": ops, "shapes": dict(sorted(keep.items()))}, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
