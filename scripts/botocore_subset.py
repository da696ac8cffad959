"""The part of a botocore service model that a set of operations reaches, documentation stripped.

Shared by gen-kms-model.py (AWS JSON services) and gen-model.py (AWS Query services)."""
import gzip, json, os
import botocore


def load_model(service, version):
    path = os.path.join(os.path.dirname(botocore.__file__), f"data/{service}/{version}/service-2.json.gz")
    return json.load(gzip.open(path))


def reachable_shapes(model, operations, drop):
    """Every shape the operations' inputs, outputs and errors reach, without the `drop` keys."""
    shapes = model["shapes"]
    keep = {}

    def strip(shape):
        out = {k: v for k, v in shape.items() if k not in drop}
        if "members" in out:
            out["members"] = {n: {k: v for k, v in m.items() if k not in drop} for n, m in out["members"].items()}
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

    for op in operations:
        o = model["operations"][op]
        if "input" in o:
            visit(o["input"]["shape"])
        if o.get("output"):
            visit(o["output"]["shape"])
        for e in o.get("errors", []):
            visit(e["shape"])
    return dict(sorted(keep.items()))
