#!/usr/bin/env python3
"""Extract from the installed botocore EBS model the EBS direct APIs Strongroom serves (issue 12).

EBS speaks REST-JSON: each operation has an HTTP method and a URI template (`http`), its members are bound
to the URI (`location: uri`), the query string, headers or the JSON body, and a blob `payload` is the raw
body (PutSnapshotBlock's and GetSnapshotBlock's BlockData). The model keeps those bindings; documentation is
stripped.
Usage: python3 scripts/gen-ebs-model.py > src/services/ebs/model.json
"""
import json, sys
from botocore_subset import load_model, reachable_shapes

OPERATIONS = ["StartSnapshot", "PutSnapshotBlock", "CompleteSnapshot", "ListSnapshotBlocks", "ListChangedBlocks", "GetSnapshotBlock"]
DROP = ("documentation", "deprecatedMessage", "documentationUrl")

model = load_model("ebs", "2019-11-02")
ops = {}
for op in OPERATIONS:
    o = model["operations"][op]
    ops[op] = {"http": o["http"],
               "input": o["input"]["shape"] if "input" in o else None,
               "output": o.get("output", {}).get("shape"),
               "errors": [e["shape"] for e in o.get("errors", [])],
               **({"unsignedPayload": True} if o.get("unsignedPayload") else {})}
meta = model["metadata"]
json.dump({"metadata": {"apiVersion": meta["apiVersion"], "protocol": meta["protocol"], "signingName": meta.get("signingName", meta["endpointPrefix"])},
           "operations": ops, "shapes": reachable_shapes(model, OPERATIONS, DROP)}, sys.stdout, indent=1)
sys.stdout.write("\n")
