"""Docstrings on every function and method, and a type stub that names exactly what the module has."""
import ast
import inspect
import pydoc
from pathlib import Path

import trim

STUB = Path(__file__).resolve().parents[1] / "trim.pyi"


def public(obj):
    return [n for n in dir(obj) if not n.startswith("_")]


def test_every_function_and_method_has_a_docstring():
    missing = []
    for name in public(trim):
        obj = getattr(trim, name)
        if not callable(obj):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            for member in public(obj):
                attr = inspect.getattr_static(obj, member)
                doc = getattr(attr, "__doc__", None) if not isinstance(attr, property) else attr.__doc__
                if not (doc or "").strip():
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring: {missing}"


def test_help_of_attribute_is_useful():
    text = pydoc.render_doc(trim.attribute, renderer=pydoc.plaintext)
    for needle in ("integrated_gradients", "shapley", "Parameters", "transform", "target", "groups", "baseline",
                   "Returns", "KeyboardInterrupt"):
        assert needle in text, needle
    text = pydoc.render_doc(trim.evaluate, renderer=pydoc.plaintext)
    for needle in ("deletion", "ROAD", "mu-fidelity", "trim evaluate", "Returns"):
        assert needle in text, needle


def test_stub_names_what_the_module_has():
    tree = ast.parse(STUB.read_text())
    stub = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stub[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef) and not
                               n.name.startswith("_")}
        elif isinstance(node, ast.FunctionDef):
            stub[node.name] = None
    module = {n for n in public(trim) if callable(getattr(trim, n))}
    assert set(stub) - {"Method"} >= module, f"missing in trim.pyi: {module - set(stub)}"
    assert {n for n in stub if n not in module} == set(), f"in trim.pyi but not the module: {set(stub) - module}"
    for name, members in stub.items():
        if members is None:
            continue
        have = set(public(getattr(trim, name)))
        assert members <= have, f"{name}: {members - have} not in the module"
        assert have <= members, f"{name}: {have - members} not in trim.pyi"
