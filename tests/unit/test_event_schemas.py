"""Event JSON-schema snapshots: an unversioned breaking change to any event fails here."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

import shared.contracts.events  # noqa: F401 — registers the catalogue
from shared.contracts.registry import Event, has_upcaster, registered

SNAPSHOTS = Path(__file__).parent / "snapshots" / "events"
WRITE_ENV = "SONGDA_WRITE_SNAPSHOTS"
SNAPSHOT_NAME = re.compile(r"^(?P<type>.+)\.v(?P<version>\d+)\.json$")

Schema = dict[str, Any]


# The compatibility checker: small pure functions over JSON schemas as pydantic writes them.


def resolve(node: Schema, root: Schema) -> Schema:
    """Follows local $refs (and single-member allOf wrappers); sibling keys of a $ref win."""
    seen: set[str] = set()
    while True:
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return node
            seen.add(ref)
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        else:
            return node


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def signature(node: Schema, root: Schema) -> frozenset[str]:
    """The set of JSON types a node admits, a string format included (string:date ≠ string)."""
    node = resolve(node, root)
    members = node.get("anyOf") or node.get("oneOf")
    if members:
        return frozenset().union(*(signature(m, root) for m in members))
    types = node.get("type")
    if types is None:
        values = node.get("enum", [node["const"]] if "const" in node else [])
        types = sorted({_json_type(v) for v in values})
    if isinstance(types, str):
        types = [types]
    fmt = node.get("format")
    return frozenset(f"{t}:{fmt}" if fmt else t for t in types)


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Lists every way `new` breaks data or readers written against `old`; empty when compatible."""
    problems: list[str] = []
    _compare(old, new, "$", old, new, problems, set())
    return problems


def _compare(old: Schema, new: Schema, path: str, old_root: Schema, new_root: Schema, problems: list[str], seen: set[tuple[str, str]]) -> None:
    if "$ref" in old and "$ref" in new:
        # Each pair of definitions is compared once: that ends recursion and reports a problem once.
        key = (old["$ref"], new["$ref"])
        if key in seen:
            return
        seen.add(key)
    old, new = resolve(old, old_root), resolve(new, new_root)
    old_sig, new_sig = signature(old, old_root), signature(new, new_root)
    if old_sig != new_sig:
        problems.append(f"{path}: type changed from {sorted(old_sig)} to {sorted(new_sig)}")
        return
    if "enum" in old and "enum" in new:
        removed = [v for v in old["enum"] if v not in new["enum"]]
        if removed:
            problems.append(f"{path}: enum values removed: {removed}")
    if "const" in old and new.get("const", old["const"]) != old["const"]:
        problems.append(f"{path}: constant changed from {old['const']!r} to {new['const']!r}")
    old_members = old.get("anyOf") or old.get("oneOf")
    if old_members:
        new_members = new.get("anyOf") or new.get("oneOf") or [new]
        for member in old_members:
            member_sig = signature(member, old_root)
            match = next((m for m in new_members if signature(m, new_root) == member_sig), None)
            if match is None:
                problems.append(f"{path}: no alternative of type {sorted(member_sig)} any more")
            else:
                _compare(member, match, path, old_root, new_root, problems, seen)
        return
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: property removed")
        else:
            _compare(old_prop, new_props[name], f"{path}.{name}", old_root, new_root, problems, seen)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}.{name}: property is newly required")
    for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            _compare(old[key], new[key], path + suffix, old_root, new_root, problems, seen)


# The checker itself, on tiny hand-written schemas.


def obj(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": required or [], **extra}


STRING: Schema = {"type": "string"}
OPTIONAL_STRING: Schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
BASE = obj({"a": STRING, "b": {"type": "integer"}}, ["a"])
COLOURS = obj({"colour": {"$ref": "#/$defs/Colour"}}, ["colour"], **{"$defs": {"Colour": {"type": "string", "enum": ["red", "green"]}}})
NESTED = obj(
    {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
    ["items"],
    **{"$defs": {"Item": obj({"sku": STRING, "note": OPTIONAL_STRING}, ["sku"])}},
)


def with_item(properties: dict[str, Schema], required: list[str]) -> Schema:
    schema = copy.deepcopy(NESTED)
    schema["$defs"]["Item"] = obj(properties, required)
    return schema


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(BASE, copy.deepcopy(BASE), [], id="unchanged"),
        pytest.param(BASE, obj({"a": STRING}, ["a"]), ["$.b: property removed"], id="removed-field"),
        pytest.param(BASE, obj({**BASE["properties"], "c": STRING}, ["a", "c"]), ["$.c: property is newly required"], id="new-required-field"),
        pytest.param(BASE, obj(BASE["properties"], ["a", "b"]), ["$.b: property is newly required"], id="optional-made-required"),
        pytest.param(BASE, obj({**BASE["properties"], "c": OPTIONAL_STRING}, ["a"]), [], id="new-optional-field"),
        pytest.param(BASE, obj({"a": STRING, "b": STRING}, ["a"]), ["$.b: type changed from ['integer'] to ['string']"], id="type-change"),
        pytest.param(BASE, obj({"a": OPTIONAL_STRING, "b": {"type": "integer"}}, ["a"]), ["$.a: type changed from ['string'] to ['null', 'string']"], id="made-nullable"),
        pytest.param(
            obj({"d": {"type": "string", "format": "date"}}),
            obj({"d": {"type": "string", "format": "date-time"}}),
            ["$.d: type changed from ['string:date'] to ['string:date-time']"],
            id="format-change",
        ),
        pytest.param(
            COLOURS,
            {**COLOURS, "$defs": {"Colour": {"type": "string", "enum": ["red"]}}},
            ["$.colour: enum values removed: ['green']"],
            id="enum-value-removed",
        ),
        pytest.param(COLOURS, {**COLOURS, "$defs": {"Colour": {"type": "string", "enum": ["red", "green", "blue"]}}}, [], id="enum-value-added"),
        pytest.param(NESTED, with_item({"sku": STRING}, ["sku"]), ["$.items[].note: property removed"], id="nested-removed"),
        pytest.param(
            NESTED,
            with_item({"sku": STRING, "note": OPTIONAL_STRING, "qty": {"type": "integer"}}, ["sku", "qty"]),
            ["$.items[].qty: property is newly required"],
            id="nested-new-required",
        ),
        pytest.param(NESTED, with_item({"sku": STRING, "note": STRING}, ["sku"]), ["$.items[].note: type changed from ['null', 'string'] to ['string']"], id="nested-type-change"),
        pytest.param(NESTED, with_item({"sku": STRING, "note": OPTIONAL_STRING, "qty": {"type": "integer", "default": 1}}, ["sku"]), [], id="nested-new-optional"),
    ],
)
def test_breaking_changes(old: Schema, new: Schema, expected: list[str]) -> None:
    assert breaking_changes(old, new) == expected


def test_breaking_changes_through_real_event_schema() -> None:
    """The resolver reaches pydantic's $defs: a field removed deep inside NoticeRegistered is found."""
    schema = shared.contracts.events.NoticeRegistered.model_json_schema()
    assert breaking_changes(schema, copy.deepcopy(schema)) == []
    changed = copy.deepcopy(schema)
    del changed["$defs"]["Provenance"]["properties"]["source_case"]
    changed["$defs"]["AddressSource"]["enum"].remove("household")
    assert breaking_changes(schema, changed) == [
        "$.recipients[].candidates[].provenance[].kind: enum values removed: ['household']",
        "$.recipients[].candidates[].provenance[].source_case: property removed",
    ]


def test_checker_survives_recursive_schema() -> None:
    tree = obj(
        {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        **{"$defs": {"Node": obj({"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}, "v": STRING}, ["v"])}},
    )
    changed = copy.deepcopy(tree)
    del changed["$defs"]["Node"]["properties"]["v"]
    assert breaking_changes(tree, tree) == []
    assert "$.children[].v: property removed" in breaking_changes(tree, changed)


# The snapshots.


def catalogue() -> list[type[Event]]:
    return [cls for name, cls in sorted(registered().items()) if not name.startswith("test.")]


def snapshot_path(event_type: str, version: int) -> Path:
    return SNAPSHOTS / f"{event_type}.v{version}.json"


def snapshot_versions(event_type: str) -> list[int]:
    versions = []
    for path in SNAPSHOTS.glob("*.json"):
        match = SNAPSHOT_NAME.match(path.name)
        if match and match["type"] == event_type:
            versions.append(int(match["version"]))
    return sorted(versions)


def dump(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def test_catalogue_is_not_empty() -> None:
    assert "intake.NoticeRegistered" in {cls.type for cls in catalogue()}


@pytest.mark.parametrize("cls", catalogue(), ids=lambda cls: f"{cls.type}.v{cls.version}")
def test_schema_compatible_with_snapshot(cls: type[Event]) -> None:
    path = snapshot_path(cls.type, cls.version)
    current = cls.model_json_schema()
    if not path.exists():
        if os.environ.get(WRITE_ENV) != "1":
            pytest.fail(
                f"No schema snapshot for {cls.type} v{cls.version} at {path}. Create it with "
                f"`{WRITE_ENV}=1 .venv/bin/python -m pytest -p no:cacheprovider tests/unit/test_event_schemas.py`, review it and commit it.",
                pytrace=False,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(current), encoding="utf-8")
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    problems = breaking_changes(snapshot, current)
    assert not problems, (
        f"{cls.type} changed incompatibly with its v{cls.version} snapshot ({path.name}):\n  "
        + "\n  ".join(problems)
        + f"\nKeep the change additive, or bump the version (@event({cls.type!r}, version={cls.version + 1})), "
        f"add an upcaster from v{cls.version} and snapshot the new version. Existing snapshots are never rewritten."
    )


@pytest.mark.parametrize("cls", catalogue(), ids=lambda cls: f"{cls.type}.v{cls.version}")
def test_older_snapshots_have_upcasters(cls: type[Event]) -> None:
    versions = snapshot_versions(cls.type)
    newer = [v for v in versions if v > cls.version]
    assert not newer, f"{cls.type} has snapshots for v{newer} but the class is only v{cls.version}"
    missing = [v for v in range(min(versions, default=cls.version), cls.version) if not has_upcaster(cls.type, v)]
    assert not missing, f"{cls.type} v{cls.version} cannot read its older snapshots: no upcaster from " + ", ".join(f"v{v}" for v in missing)
