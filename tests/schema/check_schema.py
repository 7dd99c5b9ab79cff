#!/usr/bin/python3
"""The JSON Schema and ipamctl agree on the desired-state fixture corpus.

Each fixture under tests/fixtures/desired/{valid,invalid} is read as YAML
1.2 (core schema, duplicate keys refused, alias expansion bounded: the rules
ipamctl applies), converted to JSON and checked against
schemas/ipamctl.schema.json; ipamctl validate must reach the same verdict.
A fixture whose first line says "# schema: semantic" breaks a rule that a
JSON Schema cannot state (names compared across list items, merged
connections); for it the schema must accept what ipamctl refuses, which
keeps the marker honest.  The normalised output of show-desired for each
valid fixture must itself pass both checks.

Usage: check_schema.py IPAMCTL SCHEMA FIXTURES_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

MAX_EXPANSION = 100000


class Core12Loader(yaml.SafeLoader):
    """SafeLoader reading plain scalars by the YAML 1.2 core schema."""


Core12Loader.yaml_implicit_resolvers = {}
for tag, regexp, first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$",
     ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$",
     list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+.0123456789")),
]:
    Core12Loader.add_implicit_resolver(tag, re.compile(regexp), first)


def _int(loader, node):
    v = loader.construct_scalar(node)
    if v.startswith("0o"):
        return int(v[2:], 8)
    if v.startswith("0x"):
        return int(v[2:], 16)
    return int(v, 10)


def _bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int, bool)) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), key_node.start_mark)
        if isinstance(key, (str, int, bool)):
            seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


Core12Loader.add_constructor("tag:yaml.org,2002:int", _int)
Core12Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
Core12Loader.construct_mapping = _mapping


def expanded_size(node, stack, budget):
    """Nodes the document stands for with aliases expanded; refuses cycles
    and anything past the budget, as ipamctl does."""
    if id(node) in stack:
        raise ValueError("recursive alias")
    size = 1
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
        stack.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [n for pair in node.value for n in pair]
        for child in children:
            size += expanded_size(child, stack, budget - size)
            if size > budget:
                raise ValueError("alias expansion past the budget")
        stack.discard(id(node))
    return size


def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    loader = Core12Loader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        expanded_size(node, set(), MAX_EXPANSION)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_desired(path):
    """A file, or a directory merged as ipamctl merges it."""
    if not os.path.isdir(path):
        return load_file(path)
    merged = {}
    for name in sorted(os.listdir(path)):
        if name.startswith(".") or not name.endswith((".yaml", ".yml")):
            continue
        doc = load_file(os.path.join(path, name))
        if not isinstance(doc, dict):
            return doc
        for key, value in doc.items():
            if key in ("discovery", "servers") and isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged.setdefault(key, value)
    return merged


def is_semantic(path):
    files = [path] if not os.path.isdir(path) else \
        [os.path.join(path, n) for n in sorted(os.listdir(path))]
    for f in files:
        with open(f, "rb") as fh:
            if fh.readline().startswith(b"# schema: semantic"):
                return True
    return False


def schema_verdict(validator, path):
    try:
        doc = load_desired(path)
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        return False, "not loadable: %s" % str(e).splitlines()[0]
    errors = sorted(validator.iter_errors(doc), key=lambda e: e.path)
    if errors:
        return False, errors[0].message[:200]
    return True, ""


def ipamctl_verdict(ipamctl, path):
    r = subprocess.run([ipamctl, "-q", "validate", "-c", path],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError("%s: ipamctl exited %d: %s" %
                           (path, r.returncode, r.stderr))
    return r.returncode == 0


def main():
    ipamctl, schema_path, fixtures = sys.argv[1:4]
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)

    for kind in ("valid", "invalid"):
        base = os.path.join(fixtures, kind)
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            if not (name.endswith((".yaml", ".yml")) or os.path.isdir(path)):
                continue
            s_ok, why = schema_verdict(validator, path)
            i_ok = ipamctl_verdict(ipamctl, path)
            rel = "%s/%s" % (kind, name)
            check(i_ok == (kind == "valid"),
                  "%s: ipamctl says %s" % (rel, "valid" if i_ok else "invalid"))
            if is_semantic(path):
                check(s_ok and not i_ok,
                      "%s: marked semantic, but the schema says %s (%s)" %
                      (rel, "valid" if s_ok else "invalid", why))
            else:
                check(s_ok == i_ok,
                      "%s: schema says %s (%s), ipamctl says %s" %
                      (rel, "valid" if s_ok else "invalid", why,
                       "valid" if i_ok else "invalid"))
            if kind != "valid":
                continue
            r = subprocess.run([ipamctl, "show-desired", "-c", path, "-o",
                                "yaml"], capture_output=True, text=True)
            check(r.returncode == 0, "%s: show-desired failed" % rel)
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as t:
                t.write(r.stdout)
                t.flush()
                s_ok, why = schema_verdict(validator, t.name)
                check(s_ok, "%s: show-desired output fails the schema: %s" %
                      (rel, why))
                check(ipamctl_verdict(ipamctl, t.name),
                      "%s: show-desired output fails ipamctl" % rel)
                again = subprocess.run([ipamctl, "show-desired", "-c",
                                        t.name], capture_output=True,
                                       text=True)
                check(again.stdout == r.stdout,
                      "%s: show-desired is not a fixed point" % rel)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
