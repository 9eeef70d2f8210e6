"""The top-level names of a setup.py: what each is assigned, its functions, and which names change elsewhere
(so that their one assignment is not their value).
"""

from __future__ import annotations

from typing import Any


class Bindings:
    """The module-level assignments and functions of a parsed setup.py (libcst module)."""

    def __init__(self, module: Any, cst: Any) -> None:
        self.cst = cst
        self.module = module
        self.assigns: dict[str, list[Any]] = {}
        self.funcs: dict[str, Any] = {}
        self.collected: set[int] = set()  # the statements whose assignments `assigns` holds
        for stmt in module.body:
            self._collect(stmt)
        self.changed = self._changed_names()

    def _collect(self, stmt: Any) -> None:
        cst = self.cst
        if isinstance(stmt, cst.FunctionDef):
            self.funcs[stmt.name.value] = stmt
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    self.collected.add(id(small))
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            self.assigns.setdefault(t.target.value, []).append(small.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    self.collected.add(id(small))
                    self.assigns.setdefault(small.target.value, []).append(small.value)
        elif isinstance(stmt, cst.With):
            self.collected.add(id(stmt))
            for item in stmt.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    self.assigns.setdefault(item.asname.name.value, []).append(item.item)
            for inner in stmt.body.body:
                self._collect(inner)

    def _changed_names(self) -> set[str]:
        """Names whose value is not (only) what their top-level assignments say: assigned again inside a block,
        augmented (`reqs += [...]`), changed in place (`reqs.append(...)`, `reqs[0] = ...`) or made `global`."""
        cst = self.cst
        collected = self.collected
        changed: set[str] = set()

        def names(node: Any, rebinds: bool = True) -> None:
            # The names a target changes: `a` and `a, b` when it binds module-level names, and the `a` of
            # `a[0]` / `a.x` wherever it is (that changes the object itself).
            if isinstance(node, cst.Name):
                if rebinds:
                    changed.add(node.value)
            elif isinstance(node, (cst.Tuple, cst.List)):
                for el in node.elements:
                    names(el.value, rebinds)
            elif isinstance(node, (cst.Subscript, cst.Attribute)):
                names(node.value)

        class Finder(cst.CSTVisitor):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.nested = 0  # inside a function or class: its plain assignments are its own

            def visit_FunctionDef(self, node: Any) -> None:
                self.nested += 1

            def leave_FunctionDef(self, node: Any) -> None:
                self.nested -= 1

            def visit_ClassDef(self, node: Any) -> None:
                self.nested += 1

            def leave_ClassDef(self, node: Any) -> None:
                self.nested -= 1

            def _bind(self, node: Any, target: Any) -> None:
                # A function's own names are local (`global` is seen separately); the top-level assignments
                # are the ones `assigns` holds.
                names(target, rebinds=not self.nested and id(node) not in collected)

            def visit_Assign(self, node: Any) -> None:
                for t in node.targets:
                    self._bind(node, t.target)

            def visit_AnnAssign(self, node: Any) -> None:
                if node.value is not None:
                    self._bind(node, node.target)

            def visit_AugAssign(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_For(self, node: Any) -> None:
                self._bind(node, node.target)

            def visit_With(self, node: Any) -> None:
                for item in node.items:
                    if item.asname is not None:
                        self._bind(node, item.asname.name)

            def visit_Del(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_NamedExpr(self, node: Any) -> None:
                names(node.target, rebinds=not self.nested)

            def visit_Global(self, node: Any) -> None:
                changed.update(n.name.value for n in node.names)

            def visit_Call(self, node: Any) -> None:
                if isinstance(node.func, cst.Attribute) and node.func.attr.value in _MUTATORS:
                    names(node.func.value)

        self.module.visit(Finder())
        return changed

    def setup_call(self) -> Any:
        cst = self.cst
        found: list[Any] = []

        class Finder(cst.CSTVisitor):  # type: ignore[misc, name-defined]
            def visit_Call(self, node: Any) -> None:
                name = dotted(node.func, cst)
                if name in ("setup", "setuptools.setup", "distutils.core.setup"):
                    found.append(node)

        self.module.visit(Finder())
        return found[0] if len(found) == 1 else None


# Methods that change a list, dict or set in place.
_MUTATORS = frozenset("append extend insert remove pop clear sort reverse update add discard setdefault".split())


def dotted(node: Any, cst: Any) -> str:
    if isinstance(node, cst.Name):
        return str(node.value)
    if isinstance(node, cst.Attribute):
        base = dotted(node.value, cst)
        return f"{base}.{node.attr.value}" if base else ""
    return ""
