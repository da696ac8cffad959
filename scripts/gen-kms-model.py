#!/usr/bin/env python3
"""Extract from the installed botocore model of an AWS JSON service (KMS, CloudTrail) the shapes of the operations
Strongroom serves.

The botocore model is the specification of member names, types, enums and constraints. We vendor the
subset we serve (documentation stripped) so the server validates input exactly as the model says, and
test/unit/kms-model.test.ts checks that the vendored copy still matches botocore.
Usage: python3 scripts/gen-kms-model.py > src/services/kms/model.json
       python3 scripts/gen-kms-model.py --service cloudtrail > src/services/cloudtrail/model.json
"""
import json, sys
from botocore_subset import load_model, reachable_shapes

SERVICES = {"kms": "2014-11-01", "cloudtrail": "2013-11-01"}
args = sys.argv[1:]
service = "kms"
if args[:1] == ["--service"]:
    service, args = args[1], args[2:]
CLOUDTRAIL_OPERATIONS = ["LookupEvents", "CreateTrail", "GetTrail", "DescribeTrails", "GetTrailStatus", "StartLogging", "StopLogging",
                         "DeleteTrail", "PutEventSelectors", "GetEventSelectors", "ListPublicKeys", "UpdateTrail", "ListTrails"]
OPERATIONS = args or (CLOUDTRAIL_OPERATIONS if service == "cloudtrail" else None) or [
    "CreateKey", "DescribeKey", "ListKeys", "EnableKey", "DisableKey", "UpdateKeyDescription",
    "ScheduleKeyDeletion", "CancelKeyDeletion", "CreateAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom",
    "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations",
    "TagResource", "UntagResource", "ListResourceTags", "GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies",
    "CreateGrant", "ListGrants", "ListRetirableGrants", "RetireGrant", "RevokeGrant", "GetPublicKey", "Sign", "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
    "CreateCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "ConnectCustomKeyStore",
    "DisconnectCustomKeyStore", "DeleteCustomKeyStore",
    "ReplicateKey", "UpdatePrimaryRegion",
]

model = load_model(service, SERVICES[service])
ops = {}
for op in OPERATIONS:
    o = model["operations"][op]
    ops[op] = {"input": o["input"]["shape"], "output": o.get("output", {}).get("shape"),
               "errors": [e["shape"] for e in o.get("errors", [])]}

json.dump({"metadata": {k: model["metadata"][k] for k in ("apiVersion", "targetPrefix", "jsonVersion")},
           "operations": ops, "shapes": reachable_shapes(model, OPERATIONS, ("documentation", "deprecatedMessage"))}, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
