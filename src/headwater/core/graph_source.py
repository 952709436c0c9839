"""Reading a step's transition from its source: the ``self.next(...)`` call and its shape.

The graph never runs a step: it parses the step function's source (each file once) and
records what it sees, with one-line messages for what is malformed.
"""

from __future__ import annotations

import ast
import linecache

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

_NEXT_KEYWORDS = ("foreach", "condition", "num_parallel")


def clean_doc(doc: str) -> str:
    """A docstring without its indentation, as ``inspect.cleandoc`` gives it (without
    importing inspect, which a run would otherwise load only for this): tabs expanded, the
    first line's leading space removed, the common indentation of the others removed, blank
    lines at both ends dropped."""
    lines = doc.expandtabs().split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()]
    margin = min(indents, default=0)
    lines = [lines[0].lstrip(), *(line[margin:] for line in lines[1:])]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def _unwrap(func: Any) -> Any:
    """The innermost function behind ``__wrapped__`` links (functools.wraps decorators)."""
    seen = {id(func)}
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
        if id(func) in seen:
            raise ValueError("wrapper loop")
        seen.add(id(func))
    return func


def step_ref(name: str, lineno: int | None, kind: str = "step") -> str:
    """``step 'name' (line 12)``: how every graph message names a step."""
    return f"{kind} '{name}' (line {lineno})" if lineno else f"{kind} '{name}'"


class StepSource:
    """What reading one step's source found; :func:`read_step` fills it in as it parses."""

    __slots__ = (
        "name",
        "role",
        "doc",
        "lineno",
        "source_file",
        "decorators",
        "num_args",
        "has_next_call",
        "next_lineno",
        "out_funcs",
        "foreach_param",
        "condition",
        "switch_cases",
        "num_parallel",
        "kinds",
        "errors",
    )

    def __init__(
        self,
        name: str,
        role: str | None,
        doc: str,
        lineno: int,
        source_file: str | None,
        decorators: tuple[str, ...],
        num_args: int = 1,
    ) -> None:
        self.name = name
        self.role = role
        self.doc = doc
        self.lineno = lineno
        self.source_file = source_file
        self.decorators = decorators
        self.num_args = num_args
        self.has_next_call = False
        self.next_lineno: int | None = None
        self.out_funcs: list[str] = []
        self.foreach_param: str | None = None
        self.condition: str | None = None
        self.switch_cases: list[tuple[Any, str]] = []
        self.num_parallel: int | str | None = None
        self.kinds: set[str] = set()  # foreach/condition/... /switch
        self.errors: list[str] = []


def read_step(name: str, func: Any) -> StepSource:
    try:
        target = _unwrap(func)
    except ValueError:
        target = func
    doc = getattr(target, "__doc__", None) or getattr(func, "__doc__", None)
    code = getattr(target, "__code__", None)
    step = StepSource(
        name=name,
        role=getattr(func, "step_role", None),
        doc=clean_doc(doc) if isinstance(doc, str) else "",
        lineno=code.co_firstlineno if code else 0,
        source_file=None,
        decorators=tuple(
            getattr(d, "name", type(d).__name__) for d in getattr(func, "decorators", ()) or ()
        ),
        num_args=code.co_argcount if code else 1,
    )
    parsed = _parse_function(target)
    if parsed is None:
        return step  # source not available: source_file stays None
    fn, offset, step.source_file = parsed
    step.lineno = fn.lineno + offset
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    step.num_args = len(positional)
    ref = step_ref(name, step.lineno)
    if args.vararg or args.kwarg or args.kwonlyargs or step.num_args not in (1, 2):
        step.errors.append(
            f"{ref} must take (self) or, for a join, (self, inputs): fix its arguments"
        )
    self_name = positional[0].arg if positional else "self"
    tail = fn.body[-1]
    if (
        isinstance(tail, ast.Expr)
        and isinstance(tail.value, ast.Call)
        and _self_attr(tail.value.func, self_name) == "next"
    ):
        step.has_next_call = True
        step.next_lineno = tail.lineno + offset
        _read_next(step, tail.value, self_name)
    return step


_FILE_FUNCS: dict[tuple[str, int], dict[int, ast.FunctionDef | ast.AsyncFunctionDef]] = {}


def _functions_in_file(filename: str) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of a source file by its first line (first decorator, else ``def``);
    the file is parsed once, however many steps it holds."""
    lines = linecache.getlines(filename)
    key = (filename, len(lines))
    if key not in _FILE_FUNCS:
        found: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found[first] = node
        _FILE_FUNCS[key] = found
    return _FILE_FUNCS[key]


def _parse_function(
    func: Any,
) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int, str] | None:
    """The function's AST, the offset that turns its line numbers into file lines, and the
    file it was read from."""
    code = getattr(func, "__code__", None)
    filename = getattr(code, "co_filename", None)
    if code is not None and filename and not filename.startswith("<"):
        fn = _functions_in_file(filename).get(code.co_firstlineno)
        if fn is not None and fn.name == code.co_name:
            return fn, 0, filename
    # Not in a file we can parse whole (a notebook cell, an exec'd string): ask inspect.
    import inspect
    import textwrap

    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError):
        return None
    try:
        source_file = inspect.getsourcefile(func) or inspect.getfile(func)
    except TypeError:
        source_file = "<unknown>"
    source = "".join(lines)
    # dedent fails on a body holding a less-indented multi-line string; wrapping does not.
    for text, shift in ((textwrap.dedent(source), 0), ("if 1:\n" + source, 1)):
        try:
            body = ast.parse(text).body
        except SyntaxError:
            continue
        stmt = body[0] if body else None
        if shift and isinstance(stmt, ast.If):
            stmt = stmt.body[0]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return stmt, first - 1 - shift, source_file
    return None


def _self_attr(expr: ast.expr, self_name: str) -> str | None:
    """``x`` for ``self.x``, else None."""
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == self_name
    ):
        return expr.attr
    return None


def _read_next(step: StepSource, call: ast.Call, self_name: str) -> None:
    ref = step_ref(step.name, step.next_lineno)
    errors = step.errors
    args = list(call.args)
    if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in call.keywords):
        errors.append(
            f"{ref} builds self.next(...) with * or **: list its steps explicitly,"
            " e.g. self.next(self.a, self.b)"
        )
        args = [a for a in args if not isinstance(a, ast.Starred)]
    switch = [a for a in args if isinstance(a, ast.Dict)]
    if switch:
        step.kinds.add("switch")
        if len(args) > 1:
            errors.append(
                f"{ref} mixes a dict of cases with other steps in self.next: a switch is"
                " self.next({'x': self.a, 'y': self.b}, condition='attr')"
            )
        _read_cases(step, switch[0], self_name, ref)
    else:
        for arg in args:
            target = _self_attr(arg, self_name)
            if target is None:
                errors.append(
                    f"{ref} passes {ast.unparse(arg)} to self.next: name each next step"
                    " as self.<step>"
                )
            elif target in step.out_funcs:
                errors.append(f"{ref} goes to step '{target}' twice: name each branch once")
            else:
                step.out_funcs.append(target)
        if not args:
            errors.append(f"{ref} calls self.next() with no step: e.g. self.next(self.end)")
    for kw in call.keywords:
        if kw.arg is None:
            continue
        if kw.arg not in _NEXT_KEYWORDS:
            errors.append(
                f"{ref} passes {kw.arg}= to self.next: only foreach=, condition= and"
                " num_parallel= are allowed"
            )
            continue
        step.kinds.add(kw.arg)
        if kw.arg == "num_parallel":
            step.num_parallel = _read_num_parallel(kw.value, ref, errors)
            continue
        value = kw.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if not value.value.isidentifier():
                errors.append(
                    f"{ref} has {kw.arg}={value.value!r}: it must name an artifact of the step,"
                    f" e.g. {kw.arg}='items'"
                )
            if kw.arg == "foreach":
                step.foreach_param = value.value
            else:
                step.condition = value.value
        else:
            hint = _self_attr(value, self_name) or "items"
            errors.append(
                f"{ref} has {kw.arg}={ast.unparse(value)}: give the artifact's name as a"
                f" string literal, e.g. {kw.arg}='{hint}'"
            )
    _check_next_shape(step, bool(switch), len(args), ref)


def _read_cases(step: StepSource, cases: ast.Dict, self_name: str, ref: str) -> None:
    seen: set[tuple[type, Any]] = set()
    for key, value in zip(cases.keys, cases.values, strict=True):
        if key is None:
            step.errors.append(f"{ref} unpacks ** into its switch cases: write every case out")
            continue
        try:
            case = ast.literal_eval(key)
        except ValueError:
            case = None
        if type(case) not in (str, int, bool):
            step.errors.append(
                f"{ref} has switch case {ast.unparse(key)}: case values must be str, int or"
                " bool literals"
            )
            continue
        target = _self_attr(value, self_name)
        if target is None:
            step.errors.append(
                f"{ref} maps case {case!r} to {ast.unparse(value)}: map it to a step, e.g. self.a"
            )
            continue
        if (type(case), case) in seen:
            step.errors.append(f"{ref} lists switch case {case!r} twice: keep one")
            continue
        seen.add((type(case), case))
        step.switch_cases.append((case, target))
        if target not in step.out_funcs:
            step.out_funcs.append(target)
    if len(cases.keys) < 2:
        step.errors.append(
            f"{ref} has a switch with fewer than two cases: use self.next(self.a) for one"
            " step, or add cases"
        )


def _read_num_parallel(value: ast.expr, ref: str, errors: list[str]) -> int | str:
    if isinstance(value, ast.Constant) and type(value.value) is int:
        if value.value < 1:
            errors.append(f"{ref} has num_parallel={value.value}: it must be at least 1")
        return value.value
    if isinstance(value, ast.Constant):
        errors.append(f"{ref} has num_parallel={value.value!r}: give a whole number of tasks")
    return ast.unparse(value)


def _check_next_shape(step: StepSource, switch: bool, nargs: int, ref: str) -> None:
    kinds = step.kinds & set(_NEXT_KEYWORDS)
    if len(kinds) > 1:
        step.errors.append(
            f"{ref} passes {', '.join(sorted(k + '=' for k in kinds))} together to self.next:"
            " use only one"
        )
    elif kinds & {"foreach", "num_parallel"} and (switch or nargs != 1):
        kind = "foreach" if "foreach" in kinds else "num_parallel"
        step.errors.append(
            f"{ref} uses {kind}= with {'a switch' if switch else f'{nargs} steps'}: it goes to"
            f" exactly one step, e.g. self.next(self.a, {kind}=...)"
        )
    if "condition" in kinds and not switch:
        step.errors.append(
            f"{ref} passes condition= without a dict of cases: write"
            " self.next({'x': self.a, 'y': self.b}, condition='attr')"
        )
    if switch and "condition" not in kinds:
        step.errors.append(
            f"{ref} passes a dict of cases without condition=: add condition='<artifact name>'"
        )
