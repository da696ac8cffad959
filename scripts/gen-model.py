#!/usr/bin/env python3
"""Extract from the installed botocore model of an AWS Query service (IAM, STS) the shapes of the operations
Strongroom serves.

The botocore model is the specification of member names, types, enums, constraints, result wrappers and
wire names. Members keep botocore's order: it is the order of elements in AWS's XML answers. We vendor the subset we serve (documentation stripped), the query protocol decodes and encodes
by it, and test/unit/query-models.test.ts checks that the vendored copies still match botocore.
Usage: python3 scripts/gen-model.py iam > src/services/iam/model.json
       python3 scripts/gen-model.py sts > src/services/sts/model.json
"""
import json, sys
from botocore_subset import load_model, reachable_shapes

SERVICES = {
    "iam": ("2010-05-08", [
        "CreateUser", "GetUser", "ListUsers", "DeleteUser",
        "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
        "PutUserPolicy", "GetUserPolicy", "ListUserPolicies", "DeleteUserPolicy",
        "CreatePolicy", "GetPolicy", "ListPolicies", "DeletePolicy",
        "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion",
        "AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies",
        "CreateGroup", "GetGroup", "ListGroups", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup", "ListGroupsForUser",
        "PutGroupPolicy", "GetGroupPolicy", "ListGroupPolicies", "DeleteGroupPolicy",
        "AttachGroupPolicy", "DetachGroupPolicy", "ListAttachedGroupPolicies",
        "CreateRole", "GetRole", "ListRoles", "DeleteRole", "UpdateAssumeRolePolicy",
        "PutRolePolicy", "GetRolePolicy", "ListRolePolicies", "DeleteRolePolicy",
        "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
    ]),
    "sts": ("2011-06-15", ["GetCallerIdentity", "AssumeRole", "GetSessionToken"]),
}

DROP = ("documentation", "deprecatedMessage", "documentationUrl")

service = sys.argv[1] if len(sys.argv) > 1 else sys.exit("usage: gen-model.py iam|sts")
version, operations = SERVICES[service]
model = load_model(service, version)
ops = {}
for op in operations:
    o = model["operations"][op]
    ops[op] = {"input": o["input"]["shape"] if "input" in o else None,
               "output": o.get("output", {}).get("shape"),
               "resultWrapper": o.get("output", {}).get("resultWrapper"),
               "errors": [e["shape"] for e in o.get("errors", [])]}

meta = model["metadata"]
json.dump({"metadata": {"apiVersion": meta["apiVersion"], "protocol": meta["protocol"], "signingName": meta.get("signingName", meta["endpointPrefix"]),
                        "xmlNamespace": meta["xmlNamespace"]},
           "operations": ops, "shapes": reachable_shapes(model, operations, DROP)}, sys.stdout, indent=1)
sys.stdout.write("\n")
