"""A tiny interpreter of the side-effect-free Python that setup.py files use to compute install_requires."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from dockerfix.refactor.context.pymeta import Reader, Unsupported
from dockerfix.refactor.context.setupnames import Bindings, dotted

class _Here:
    """The project directory: `os.path.dirname(__file__)` and friends."""


class _File:
    pass


@dataclass
class _PathVal:
    rel: str  # project-relative


@dataclass
class _Handle:
    rel: str


_HERE = _Here()
_FILE = _File()


FAIL = ("setup.py computes install_requires in a way dockerfix cannot read statically (it follows the lines of one "
        "requirements file: `open('requirements.txt').read().splitlines()`, `Path(…).read_text()`, `f.readlines()`, "
        "stripped, with comment and blank lines dropped)")


class Evaluator:
    """Evaluates a small, side-effect-free subset of Python over setup.py's syntax tree."""

    MAX_DEPTH = 30

    def __init__(self, module: Any, read: Reader, cst: Any) -> None:
        self.cst = cst
        self.read = read
        self.opened: list[str] = []
        self.names = Bindings(module, cst)
        self.assigns = self.names.assigns
        self.funcs = self.names.funcs
        self.changed = self.names.changed
        self.depth = 0

    def setup_call(self) -> Any:
        return self.names.setup_call()

    def fail(self, node: Any = None) -> Unsupported:
        return Unsupported(FAIL)

    def eval(self, node: Any, scope: dict[str, Any]) -> Any:
        self.depth += 1
        try:
            if self.depth > self.MAX_DEPTH:
                raise self.fail()
            return self._eval(node, scope)
        finally:
            self.depth -= 1

    def _eval(self, node: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if not isinstance(value, str):
                raise self.fail()
            return value
        if isinstance(node, cst.Name):
            name = node.value
            if name == "__file__":
                return _FILE
            if name in scope:
                return scope[name]
            if name in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[name]
            if name in self.changed:
                raise self.fail()
            values = self.assigns.get(name, [])
            if len(values) != 1:
                raise self.fail()
            return self.eval(values[0], {})
        if isinstance(node, cst.Integer):
            return int(node.value, 0)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, scope)
        if isinstance(node, (cst.List, cst.Tuple)):
            out = []
            for el in node.elements:
                if isinstance(el, cst.StarredElement):
                    v = self.eval(el.value, scope)
                    if not isinstance(v, list):
                        raise self.fail()
                    out.extend(v)
                else:
                    out.append(self.eval(el.value, scope))
            return out
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(node, scope)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.eval(node.left, scope), self.eval(node.right, scope)
            if isinstance(node.operator, cst.Add) and type(left) is type(right) and isinstance(left, (list, str)):
                return left + right
            if isinstance(node.operator, cst.Divide) and isinstance(left, (_Here, _PathVal)) and isinstance(right, str):
                return self._join(left, right)
            raise self.fail()
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return not self._truth(self.eval(node.expression, scope))
        if isinstance(node, cst.BooleanOperation):
            left = self.eval(node.left, scope)
            if isinstance(node.operator, cst.And):
                return self.eval(node.right, scope) if self._truth(left) else left
            return left if self._truth(left) else self.eval(node.right, scope)
        if isinstance(node, cst.Comparison):
            return self._compare(node, scope)
        if isinstance(node, cst.Attribute):
            base = self.eval(node.value, scope)
            attr = node.attr.value
            if attr == "parent" and isinstance(base, _File):
                return _HERE
            if attr == "parent" and isinstance(base, _Here):
                raise Unsupported("setup.py reads from the directory above the project")
            raise self.fail()
        if isinstance(node, cst.Call):
            return self._call(node, scope)
        raise self.fail()

    def _subscript(self, node: Any, scope: dict[str, Any]) -> Any:
        """`line.split('#')[0]`, `x[0]`, `lines[-1]`: one integer index of a string or list."""
        cst = self.cst
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            raise self.fail()
        base = self.eval(node.value, scope)
        index_node = node.slice[0].slice.value
        if isinstance(index_node, cst.UnaryOperation) and isinstance(index_node.operator, cst.Minus):
            index = -self.eval(index_node.expression, scope)
        else:
            index = self.eval(index_node, scope)
        if not isinstance(base, (str, list)) or not isinstance(index, int) or isinstance(index, bool):
            raise self.fail()
        try:
            return base[index]
        except IndexError:
            raise Unsupported("setup.py indexes past the end of a value (it would fail when run)") from None

    def _truth(self, v: Any) -> bool:
        if isinstance(v, (str, list, bool, int)) or v is None:
            return bool(v)
        raise self.fail()

    def _compare(self, node: Any, scope: dict[str, Any]) -> bool:
        cst = self.cst
        left = self.eval(node.left, scope)
        for target in node.comparisons:
            right = self.eval(target.comparator, scope)
            op = target.operator
            if not isinstance(left, (str, int)) or not isinstance(right, (str, int, list)):
                raise self.fail()
            if isinstance(op, cst.Equal):
                ok = left == right
            elif isinstance(op, cst.NotEqual):
                ok = left != right
            elif isinstance(op, cst.In):
                ok = left in right  # type: ignore[operator]
            elif isinstance(op, cst.NotIn):
                ok = left not in right  # type: ignore[operator]
            else:
                raise self.fail()
            if not ok:
                return False
            left = right
        return True

    def _comprehension(self, node: Any, scope: dict[str, Any]) -> list[Any]:
        cst = self.cst
        comp = node.for_in
        if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name):
            raise self.fail()
        items = self._iterate(self.eval(comp.iter, scope))
        out = []
        for item in items:
            inner = dict(scope)
            inner[comp.target.value] = item
            if all(self._truth(self.eval(cond.test, inner)) for cond in comp.ifs):
                out.append(self.eval(node.elt, inner))
        return out

    def _iterate(self, value: Any) -> list[Any]:
        if isinstance(value, _Handle):
            return self._text(value.rel).splitlines(keepends=True)
        if isinstance(value, list):
            return value
        raise self.fail()

    def _text(self, rel: str) -> str:
        text = self.read(rel)
        if text is None:
            raise Unsupported(f"setup.py reads {rel}, which is not in the build context")
        if rel not in self.opened:
            self.opened.append(rel)
        return text

    def _join(self, base: Any, *parts: Any) -> _PathVal:
        if not all(isinstance(p, str) for p in parts):
            raise self.fail()
        root = "" if isinstance(base, _Here) else base.rel if isinstance(base, _PathVal) else None
        if root is None:
            if isinstance(base, str) and not base.startswith("/"):
                root = base
            else:
                raise self.fail()
        rel = posixpath.normpath(posixpath.join(root, *parts))
        if rel.startswith(".."):
            raise Unsupported(f"setup.py reads {rel}, outside the project")
        return _PathVal(rel)

    def _as_path(self, v: Any) -> _PathVal:
        if isinstance(v, _PathVal):
            return v
        if isinstance(v, str) and not v.startswith("/"):
            return _PathVal(posixpath.normpath(v))
        raise self.fail()

    def _call(self, node: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        func = node.func
        name = dotted(func, cst)
        args = [a for a in node.args if a.keyword is None]
        if any(a.star for a in node.args):
            raise self.fail()
        if name in ("open", "io.open", "codecs.open"):
            if not args:
                raise self.fail()
            mode = self.eval(args[1].value, scope) if len(args) > 1 else "r"
            if mode not in ("r", "rt", "U", "rU"):
                raise self.fail()
            return _Handle(self._as_path(self.eval(args[0].value, scope)).rel)
        if name in ("os.path.dirname", "path.dirname", "dirname"):
            v = self.eval(args[0].value, scope)
            if isinstance(v, _File):
                return _HERE
            if isinstance(v, _Here):
                raise Unsupported("setup.py reads from the directory above the project")
            raise self.fail()
        if name in ("os.path.abspath", "path.abspath", "abspath", "os.path.realpath", "path.realpath", "realpath"):
            v = self.eval(args[0].value, scope)
            if isinstance(v, (_File, _Here, _PathVal)):
                return v
            raise self.fail()
        if name in ("os.path.join", "path.join", "join") and args:
            vals = [self.eval(a.value, scope) for a in args]
            return self._join(vals[0], *vals[1:])
        if name in ("Path", "pathlib.Path", "PurePath", "pathlib.PurePath"):
            vals = [self.eval(a.value, scope) for a in args]
            if len(vals) == 1 and isinstance(vals[0], (_File, _Here)):
                return vals[0]
            if vals and all(isinstance(v, str) for v in vals):
                return self._join(_HERE, *vals)
            raise self.fail()
        if name == "str" and len(args) == 1:
            v = self.eval(args[0].value, scope)
            if isinstance(v, str):
                return v
            raise self.fail()
        if name in ("list", "tuple", "sorted") and len(args) == 1:
            return list(self._iterate(self.eval(args[0].value, scope)))
        if name == "filter" and len(args) == 2 and isinstance(args[0].value, cst.Name) and args[0].value.value == "None":
            return [x for x in self._iterate(self.eval(args[1].value, scope)) if self._truth(x)]
        if name == "map" and len(args) == 2 and dotted(args[0].value, cst) in ("str.strip", "str.rstrip"):
            method = dotted(args[0].value, cst).split(".")[1]
            return [getattr(x, method)() for x in self._iterate(self.eval(args[1].value, scope)) if isinstance(x, str)]
        if name == "len" and len(args) == 1:
            v = self.eval(args[0].value, scope)
            if isinstance(v, (str, list)):
                return len(v)
            raise self.fail()
        if isinstance(func, cst.Attribute):
            return self._method(self.eval(func.value, scope), func.attr.value, [self.eval(a.value, scope) for a in args],
                                bool(node.args) and any(a.keyword is not None for a in node.args))
        if isinstance(func, cst.Name) and func.value in self.funcs:
            return self._user_function(self.funcs[func.value], [self.eval(a.value, scope) for a in args], node)
        raise self.fail()

    def _method(self, obj: Any, attr: str, args: list[Any], has_keywords: bool) -> Any:
        if isinstance(obj, (_Here, _File)) and attr in ("resolve", "absolute") and not args:
            return obj
        if isinstance(obj, (_Here, _PathVal)) and attr == "joinpath":
            return self._join(obj, *args)
        if isinstance(obj, _PathVal) and attr == "open" and not args:
            return _Handle(obj.rel)
        if isinstance(obj, _PathVal) and attr == "read_text" and not args:
            return self._text(obj.rel)
        if isinstance(obj, _Handle) and not args:
            if attr == "read":
                return self._text(obj.rel)
            if attr == "readlines":
                return self._text(obj.rel).splitlines(keepends=True)
        if isinstance(obj, str):
            if attr in ("strip", "rstrip", "lstrip") and len(args) <= 1 and all(isinstance(a, str) for a in args):
                return getattr(obj, attr)(*args)
            if attr == "splitlines" and not args:
                return obj.splitlines()
            if attr == "split" and len(args) <= 1 and all(isinstance(a, str) and a for a in args):
                return obj.split(*args)
            if attr == "partition" and len(args) == 1 and isinstance(args[0], str) and args[0]:
                return list(obj.partition(args[0]))
            if attr in ("startswith", "endswith") and len(args) == 1:
                a = args[0]
                if isinstance(a, list):
                    a = tuple(a)
                if isinstance(a, (str, tuple)):
                    return getattr(obj, attr)(a)
            if attr in ("isspace",) and not args:
                return obj.isspace()
        raise self.fail()

    def _user_function(self, fn: Any, args: list[Any], node: Any) -> Any:
        """Run a helper like `def read(name): with open(name) as f: return f.read().splitlines()`."""
        cst = self.cst
        params = fn.params
        if params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or params.kwonly_params or params.star_kwarg:
            raise self.fail()
        names = [p.name.value for p in params.params]
        if len(args) > len(names):
            raise self.fail()
        scope: dict[str, Any] = {}
        for i, p in enumerate(params.params):
            if i < len(args):
                scope[p.name.value] = args[i]
            elif p.default is not None:
                scope[p.name.value] = self.eval(p.default, {})
            else:
                raise self.fail()
        result = self._run_block(fn.body.body, scope)
        if result is _NO_RETURN:
            raise self.fail()
        return result

    def _run_block(self, body: Any, scope: dict[str, Any]) -> Any:
        cst = self.cst
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return):
                        if small.value is None:
                            raise self.fail()
                        return self.eval(small.value, scope)
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                        scope[small.targets[0].target.value] = self.eval(small.value, scope)
                    elif isinstance(small, cst.Expr) and i == 0 and isinstance(small.value, cst.SimpleString):
                        continue  # docstring
                    elif isinstance(small, cst.Pass):
                        continue
                    else:
                        raise self.fail()
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    v = self.eval(item.item, scope)
                    if item.asname is not None:
                        if not isinstance(item.asname.name, cst.Name):
                            raise self.fail()
                        scope[item.asname.name.value] = v
                result = self._run_block(stmt.body.body, scope)
                if result is not _NO_RETURN:
                    return result
            else:
                raise self.fail()
        return _NO_RETURN


_NO_RETURN = object()
