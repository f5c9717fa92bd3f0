"""The ``symdiff`` command: ``gen`` writes gradient modules, ``check`` verifies them.

Exit codes: 0 success, 1 a gradient check failed, 2 bad usage or unsupported input. Errors go to
standard error as ``file:line:col: message`` with the source line and a caret.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from symdiff.errors import GradientCheckError, SymdiffError
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
    parser.add_argument("--backend", default="numpy", choices=("numpy", "numba", "cuda"),
                        help="the code to generate: numpy (default; whole-array NumPy), "
                             "numba (loops compiled with numba.njit) or cuda (kernels "
                             "compiled with numba.cuda, launched by a host function)")


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
    return parser


def _request(args: argparse.Namespace):
    from symdiff.gen import Request

    return Request(args.file, list(args.function), [w for w in args.wrt.split(",") if w],
                   list(args.shapes), args.backend)


def _gen(args: argparse.Namespace) -> int:
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
    from symdiff.gen import check_module, generate_file, write_module

    generated = generate_file(_request(args))
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "checked_grad.py")
        write_module(generated.text, path)
        for line in check_module(path, generated):
            print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"gen": _gen, "check": _check}[args.command](args)
    except GradientCheckError as exc:
        print(f"symdiff {args.command}: {exc}", file=sys.stderr)
        return 1
    except SymdiffError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
