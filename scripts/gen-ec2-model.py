#!/usr/bin/env python3
"""Extract from the installed botocore EC2 model the shapes of the volume operations Strongroom serves (issue 12).

EC2 speaks its own flavour of Query (protocol "ec2"): inputs are `Name.N` lists named by each member's
queryName (or its capitalised locationName), answers are `<OpResponse><requestId/>…members by locationName…`
with lists as <item>. The model keeps queryName/locationName for that; documentation is stripped.
Usage: python3 scripts/gen-ec2-model.py > src/services/ec2/model.json
"""
import json, sys
from botocore_subset import load_model, reachable_shapes

OPERATIONS = [
    "CreateVolume", "DescribeVolumes", "DeleteVolume", "AttachVolume", "DetachVolume",
    "CreateSnapshot", "DescribeSnapshots", "DeleteSnapshot", "CopySnapshot",
    "EnableEbsEncryptionByDefault", "DisableEbsEncryptionByDefault", "GetEbsEncryptionByDefault",
    "GetEbsDefaultKmsKeyId", "ModifyEbsDefaultKmsKeyId", "ResetEbsDefaultKmsKeyId",
    "CreateTags", "DeleteTags",
    "ModifySnapshotAttribute", "DescribeSnapshotAttribute", "ResetSnapshotAttribute",
    "ModifyVolume", "DescribeVolumesModifications",
]
DROP = ("documentation", "deprecatedMessage", "documentationUrl")

model = load_model("ec2", "2016-11-15")
ops = {}
for op in OPERATIONS:
    o = model["operations"][op]
    ops[op] = {"input": o["input"]["shape"] if "input" in o else None,
               "output": o.get("output", {}).get("shape"),
               "resultWrapper": None,
               "errors": [e["shape"] for e in o.get("errors", [])]}
meta = model["metadata"]
json.dump({"metadata": {"apiVersion": meta["apiVersion"], "protocol": meta["protocol"], "signingName": meta.get("signingName", meta["endpointPrefix"]),
                        "xmlNamespace": "http://ec2.amazonaws.com/doc/2016-11-15/"},
           "operations": ops, "shapes": reachable_shapes(model, OPERATIONS, DROP)}, sys.stdout, indent=1)
sys.stdout.write("\n")
