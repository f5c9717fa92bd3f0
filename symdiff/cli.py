"""The ``symdiff`` command: ``gen`` writes gradient modules, ``check`` verifies them,
``explain`` tells reverse mode step by step for one call.

Exit codes: 0 success, 1 a gradient check failed, 2 bad usage or unsupported input. Errors go to
standard error as ``file:line:col: message`` with the source line and a caret.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from symdiff.errors import ArgumentError, GradientCheckError, SymdiffError
from symdiff.signature import BACKENDS
from symdiff.version import VERSION

SHAPES_HELP = ("ranks of the arguments, NAME=DIM,DIM... with dimensions named (n, d) or numeric "
               "(1 marks a size-1 dimension); NAME= is a float scalar. Arguments without "
               "--shapes may be annotated in the source: x: \"f8[n, d]\"")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the Python file to read (it is never run or imported)")
    parser.add_argument("--function", "-f", action="append", default=[], metavar="NAME",
                        help="a function to differentiate (repeatable; default: every public "
                             "top-level function)")
    parser.add_argument("--wrt", default="", metavar="NAMES",
                        help="comma-separated arguments to differentiate (default: every float "
                             "argument; integer arguments such as labels are data)")
    parser.add_argument("--shapes", nargs="+", action="extend", default=[],
                        metavar="NAME=DIMS", help=SHAPES_HELP)
    parser.add_argument("--backend", default="numpy", type=lambda name: name.replace("-", "_"),
                        choices=BACKENDS,
                        help="the code to generate: numpy (default; whole-array NumPy), "
                             "numba (loops compiled with numba.njit), cuda (kernels "
                             "compiled with numba.cuda, launched by a host function) or "
                             "array-api (any Array API library, through array-api-compat)")
    parser.add_argument("--parallel", action="store_true",
                        help="with --backend numba: run loops whose iterations are "
                             "independent on all cores (numba.prange), sums included")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symdiff", description="Differentiate Python/NumPy functions from their source.")
    parser.add_argument("--version", action="version", version=f"symdiff {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    gen = commands.add_parser(
        "gen", help="write a standalone gradient module",
        description="Write grad_F and value_and_grad_F for each selected function F to a module "
                    "that imports only NumPy (default: FILE's stem + _grad.py, beside it).")
    _common(gen)
    gen.add_argument("-o", "--output", metavar="OUT", help="where to write the module")
    gen.add_argument("--force", action="store_true",
                     help="overwrite OUT even if symdiff did not generate it")
    gen.add_argument("--check", action="store_true",
                     help="after writing, compare the gradients with finite differences")
    check = commands.add_parser(
        "check", help="compare generated gradients with finite differences, writing nothing",
        description="Generate the gradients in a temporary place and compare them with central "
                    "finite differences of the generated value functions on random inputs of "
                    "the given shapes. Exit 1 on a mismatch.")
    _common(check)
    explain = commands.add_parser(
        "explain", help="tell reverse mode step by step for one call of a function",
        description="Print each value of the forward pass, then each adjoint as local "
                    "derivative times incoming adjoint, with numbers, in the source's names. "
                    "The file is read, never run.")
    explain.add_argument("file", help="the Python file to read (it is never run or imported)")
    explain.add_argument("--function", "-f", metavar="NAME",
                         help="the function (default: the file's only public function)")
    explain.add_argument("--args", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                         help="the call's arguments as Python literals: x=[1, 2, 3] w=0.5 "
                              "(lists become float arrays)")
    explain.add_argument("--wrt", default="", metavar="NAMES",
                         help="comma-separated arguments to differentiate (default: the first)")
    explain.add_argument("--format", default="text", choices=("text", "markdown"),
                         help="text for a terminal (default), or Markdown with LaTeX")
    return parser


def _request(args: argparse.Namespace):
    from symdiff.gen import Request  # each subcommand loads what it runs

    return Request(args.file, list(args.function), [w for w in args.wrt.split(",") if w],
                   list(args.shapes), args.backend, args.parallel)


def _gen(args: argparse.Namespace) -> int:
    # each subcommand loads what it runs
    from symdiff.gen import check_module, default_output, generate_file, write_module

    generated = generate_file(_request(args))
    output = args.output or default_output(args.file)
    write_module(generated.text, output, force=args.force)
    print(f"wrote {output}")
    if args.check:
        for line in check_module(output, generated):
            print(line)
    return 0


def _check(args: argparse.Namespace) -> int:
    # each subcommand loads what it runs
    from symdiff.gen import check_module, generate_file, write_module

    generated = generate_file(_request(args))
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "checked_grad.py")
        write_module(generated.text, path)
        for line in check_module(path, generated):
            print(line)
    return 0


def _explain(args: argparse.Namespace) -> int:
    # each subcommand loads what it runs
    from symdiff.frontend.static_module import StaticModule
    from symdiff.teach import explain

    module = StaticModule(args.file)
    public = [n for n in module.functions if not n.startswith("_")]
    name = args.function or (public[0] if len(public) == 1 else None)
    function = module.functions.get(name) if name else None
    if function is None:
        raise ArgumentError(f"{args.file}: choose the function with --function (the file "
                            f"defines {', '.join(module.functions) or 'none'})")
    wrt = [w for w in args.wrt.split(",") if w] or list(function.signature.parameters)[:1]
    values = dict(_literal(item, wrt) for item in args.args)
    try:
        bound = function.signature.bind_partial(**values)
    except TypeError as exc:
        raise ArgumentError(f"--args: {name}: {exc}") from None
    text = explain(function, *bound.args, wrt=tuple(wrt), format=args.format, **bound.kwargs)
    print(text, end="")
    return 0


def _literal(item: str, wrt: list[str]) -> tuple[str, object]:
    """``x=[1, 2, 3]``: a name and a Python literal; numbers and lists of numbers become
    floats and float arrays where they are differentiated."""
    import ast

    import numpy as np

    name, sep, text = item.partition("=")
    if not sep or not name.isidentifier():
        raise ArgumentError(f"--args {item!r}: write NAME=VALUE, for example x=[1, 2, 3]")
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        raise ArgumentError(f"--args {item!r}: {text.strip()!r} is not a Python literal") from None
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=float if name in wrt else None)
    elif name in wrt and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return name, value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"gen": _gen, "check": _check, "explain": _explain}[args.command](args)
    except GradientCheckError as exc:
        print(f"symdiff {args.command}: {exc}", file=sys.stderr)
        return 1
    except SymdiffError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
