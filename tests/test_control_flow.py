"""Branches and loops: every function of the control-flow corpus against finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import symdiff
from tests.cases import control_flow
from tests.cases.control_flow import FUNCTIONS

CASES = [(name, i) for name, points in FUNCTIONS.items() for i in range(len(points))]
# compiled too: one of each kind of construct
ON_NUMBA = ("three_pieces", "newton_until_converged", "recurrent_history", "first_above",
            "horner_by_length",
            "skip_large", "fill_array", "while_with_break", "running_max")


def differentiable(args) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if isinstance(a, float) or
                 (isinstance(a, np.ndarray) and a.dtype.kind == "f"))


def test_the_corpus_is_large_enough():
    assert len(FUNCTIONS) >= 30


@pytest.mark.parametrize("name,point", CASES)
def test_against_finite_differences(name, point):
    fun = getattr(control_flow, name)
    args = FUNCTIONS[name][point]
    symdiff.check_grad(fun, *args, argnums=differentiable(args), backend="numpy")


@pytest.mark.parametrize("name", ON_NUMBA)
def test_compiled_against_finite_differences(name):
    fun = getattr(control_flow, name)
    for args in FUNCTIONS[name]:
        symdiff.check_grad(fun, *args, argnums=differentiable(args), backend="numba")


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_the_branch_not_taken_gives_no_nan(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert symdiff.grad(control_flow.guarded_sqrt, backend=backend)(-1.0) == 0.0
        assert symdiff.grad(control_flow.guarded_sqrt, backend=backend)(4.0) == 0.25


def test_values_follow_python():
    """value_and_grad's value is the function's own, path by path."""
    for name, points in FUNCTIONS.items():
        fun = getattr(control_flow, name)
        for args in points:
            value, _ = symdiff.value_and_grad(fun, differentiable(args), backend="numpy")(*args)
            np.testing.assert_allclose(value, fun(*args), rtol=1e-12, err_msg=name)


def newton_steps(a, steps):
    x = a
    for _ in range(steps):
        x = 0.5 * (x + a / x)
    return x


def python_steps(a):
    """How many updates newton_until_converged makes before its break."""
    x, steps = a, 0
    for _ in range(8):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-3:
            break
        x, steps = x_new, steps + 1
    return steps


@pytest.mark.parametrize("a", [2.0, 9.0, 30.0])
def test_a_data_dependent_break_selects_the_iterate_python_stops_at(a):
    g = symdiff.grad(control_flow.newton_until_converged, backend="numpy")(a)
    expected = symdiff.grad(newton_steps, backend="numpy")(a, python_steps(a))
    assert g == pytest.approx(expected, rel=1e-12)
    assert g == pytest.approx(0.5 / np.sqrt(a), rel=1e-3)


def ragged(x):
    if x > 0:
        y = np.ones(2) * x
    else:
        y = x
    return np.sum(y)


def no_value_on_one_path(x):
    if x > 0:
        return x * 2.0


def array_condition(x):
    if x > 0:
        return np.sum(x)
    return 0.0


def run_time_length(x):
    total = 0.0
    for v in x:
        total = total + v
    return total


def aliased(x):
    y = np.zeros(3)
    z = y
    y[0] = x[0]
    return np.sum(z)


@pytest.mark.parametrize("fun,args,message", [
    (ragged, (1.0,), r"shape \(2,\) on one branch"),
    (no_value_on_one_path, (1.0,), "every path must give a value"),
    (array_condition, (np.ones(3),), "if and while need a single value"),
    (aliased, (np.ones(3),), "y is also called z"),
])
def test_unsupported_control_flow_is_refused_at_its_place(fun, args, message):
    with pytest.raises(symdiff.UnsupportedError, match=message) as info:
        symdiff.grad(fun, backend="numpy")(*args)
    assert info.value.filename.endswith("test_control_flow.py")


class CachesInABranch:
    def __init__(self):
        self.w = np.ones(2)

    def forward(self, x):
        if np.sum(x) > 0:
            self.cache = x * self.w
        else:
            self.cache = x
        return np.sum(self.cache)


def test_an_attribute_assigned_under_a_data_condition_is_refused():
    with pytest.raises(symdiff.UnsupportedError, match="assigning an attribute inside a branch"):
        symdiff.grad(CachesInABranch(), wrt="w", backend="numpy")(np.array([1.0, 2.0]))


def test_a_loop_over_an_arguments_length_runs_for_every_length():
    g = symdiff.grad(control_flow.horner_by_length, (0, 1), backend="numpy")
    np.testing.assert_allclose(g(np.array([1.0, 2.0, 3.0]), 0.5)[0], [0.25, 0.5, 1.0])
    np.testing.assert_allclose(g(np.array([1.0, 2.0, 3.0, 4.0]), 0.5)[0],
                               [0.125, 0.25, 0.5, 1.0])
    assert "c: float64[:]" in g.source and "for k in range(c.shape[0]):" in g.source


def test_where_every_loop_is_written_out_code_is_generated_for_each_length():
    for n in (3, 5):
        x, t = np.linspace(0.1, 1.0, n), np.ones(n)
        value, tangent = symdiff.jvp(run_time_length, (x,), (t,), backend="numpy")
        assert value == pytest.approx(run_time_length(x), rel=1e-13)
        h = 1e-6
        assert tangent == pytest.approx((run_time_length(x + h * t) -
                                         run_time_length(x - h * t)) / (2 * h), rel=1e-7)


def test_the_teaching_tools_refuse_a_run_time_length_at_its_line():
    with pytest.raises(symdiff.UnsupportedError,
                       match="every loop is written out iteration by iteration") as info:
        symdiff.explain(run_time_length, np.ones(3))
    assert info.value.filename.endswith("test_control_flow.py")


def test_unrolled_iterations_are_cut_into_several_kernels():
    """A value used twice per iteration would double the formula at every step if the whole
    chain were one kernel; fusion cuts it (symdiff.simplify.fuse.MAX_SHARED)."""
    from symdiff.simplify.fuse import MAX_OPERATIONS

    g = symdiff.grad(control_flow.newton_sqrt, backend="numpy")
    g.specialise(2.0)
    kernels = [n for n in g._last.graph.nodes if n.op == "fused"]
    assert len(kernels) >= 3
    assert all(sp.count_ops(n.param("expr")) <= 2 * MAX_OPERATIONS for n in kernels)
