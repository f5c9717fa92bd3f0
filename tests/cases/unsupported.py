"""Functions symdiff must refuse. ``# ERROR: text`` marks the line the error must point at and a
piece of its message. Nothing here is ever executed."""

import numpy as np


def for_loop(x):
    parts = ()
    for i in range(100_000):  # ERROR: runs more than 10000 times while generating: parts is
        parts = parts + (x[0] * i,)
    return parts[-1]


def while_loop(x):
    rng = np.random.default_rng(0)
    while rng.normal() < np.sum(x):  # ERROR: depends on random numbers drawn in the function
        if np.sum(x) > 5:
            return np.sum(x)
        x = x / 2
    return np.sum(x)


def unknown_function(x):
    y = np.fft.fft(x)  # ERROR: np.fft.fft() is not supported
    return np.sum(y)


def element_assignment(x):
    y = x * 2
    z = y
    y[0] = 1.0  # ERROR: y is also called z: writing into y in place changes that value too
    return np.sum(z)


def bare_call(x):
    np.sum(x)  # ERROR: expression statement has no effect
    return np.sum(x)


def branch_on_data(x):
    if x > 0:  # ERROR: if and while need a single value
        return np.sum(x)
    return -np.sum(x)


def comprehension(x):
    parts = {i: x[i] for i in range(2)}  # ERROR: dict comprehension expressions are not
    return parts[0]


def nested_def(x):
    @staticmethod
    def inner(t):  # ERROR: decorated or async nested functions are not supported
        return t
    return np.sum(inner(x))


def undefined_name(x):
    return np.sum(x * not_defined_anywhere)  # ERROR: name 'not_defined_anywhere' is not defined  # noqa: F821


def import_inside(x):
    import math  # ERROR: import statements are not supported
    return np.sum(x) * math.pi


def try_block(x):
    try:  # ERROR: try statements are not supported
        return np.sum(x)
    except ValueError:
        return 0.0


COUNTER = 0


def global_statement(x):
    global COUNTER  # ERROR: global and nonlocal variables cannot be assigned
    COUNTER = 1
    return np.sum(x)


def recursive(x):
    return np.sum(x) + recursive(x)  # ERROR: recursive calls itself more than 64 deep


def recursive_on_data(x):
    if np.sum(x) > 1.0:
        return recursive_on_data(x * 0.5)  # ERROR: where the path taken depends on data
    return np.sum(x)


def floor_division(x):
    return np.sum(x // 2.0)  # ERROR: the operator // is not differentiable


def complex_literal(x):
    return np.sum(x * 1j)  # ERROR: complex numbers are not supported


def boolean_mask(x):
    return np.max(x[x > 0])  # ERROR: x[mask] is supported in elementwise arithmetic


def and_on_arrays(x):
    return np.sum(np.where((x > 0) and (x < 1), x, 0.0))  # ERROR: `and`/`or` on arrays


def qr_of_a_stack(x):
    return np.sum(np.linalg.qr(x)[1])  # ERROR: not a stack of them


def generator(x):  # ERROR: the differentiated function is a generator function
    yield np.sum(x)


def yield_on_data(x):
    def positive_parts(v):
        for e in v:
            if e > 0:
                yield e  # ERROR: yield where the path taken depends on data
    return sum(positive_parts(x))


def yield_as_a_value(x):
    def echo(v):
        got = yield v  # ERROR: yield used as a value
        yield got
    return np.sum(next(echo(x)))


def generator_send(x):
    def rows(v):
        yield v[0]
        yield v[1]
    items = rows(x)
    first = next(items)
    return np.sum(first * items.send(2.0))  # ERROR: generator.send is not supported


def grows_a_list_a_generator_reads(x):
    def sizes(parts):
        yield len(parts)
        yield len(parts)
    parts = []
    total = 0.0
    for n in sizes(parts):
        parts.append(x * n)  # ERROR: changes a list that the generator sizes() holds
        total = total + np.sum(parts[-1])
    return total


def isinstance_of_a_scalar(x):
    s = np.sum(x)
    if isinstance(s, np.ndarray):  # ERROR: isinstance() of this scalar depends on how NumPy
        return s
    return s * 2.0


def returns_nothing(x):  # ERROR: returns None
    y = x * 2  # noqa: F841


def vector_output(x):  # ERROR: grad needs a scalar output
    return x * 2


def tuple_output(x):  # ERROR: use has_aux=True
    return np.sum(x), x


def unknown_method(x):
    return np.sum(x.searchsorted(0.5))  # ERROR: array attribute .searchsorted is not supported


def bad_axis(x):
    return np.sum(x, axis=3)  # ERROR: axis 3 is out of bounds


def string_arithmetic(x):
    return np.sum(x) + "a"  # ERROR: expected an array or a number, got str 'a'


def array_inside_a_global_list(x):
    return np.sum(x * WEIGHTS[0])  # ERROR: this array comes from outside the function inside


WEIGHTS = [np.ones(3)]


def fstring(x):
    name = f"{x}"  # ERROR: f-string expressions are not supported
    return np.sum(x)


def walrus(x):
    return np.sum((y := x * 2))  # ERROR: walrus (:=) expressions are not supported


def dict_literal(x):
    d = {"a": x}  # ERROR: dict expressions are not supported
    return np.sum(d["a"])


def too_many_indices(x):
    return x[0, 0]  # ERROR: too many indices


def raises(x):
    raise ValueError("no")  # ERROR: the function raises ValueError


def calls_a_class(x):
    return np.sum(np.ndarray(3) * x)  # ERROR: is not supported: symdiff has no derivative rule


def delete(x):
    y = x * 2
    del y  # ERROR: del statements are not supported
    return np.sum(x)


def with_block(x):
    with np.errstate(all="ignore"):  # ERROR: with statements are not supported
        return np.sum(x)


def assert_on_data(x):
    if x[1] > 0:
        assert x[0] > 0  # ERROR: assert on data inside a branch on data is not supported
    return np.sum(x)


def unknown_keyword(x):
    return np.mean(x, initial=0.0)  # ERROR: np.mean(): got an unexpected keyword argument


def nonlocal_state(x):
    total = x

    def add():
        nonlocal total  # ERROR: global and nonlocal variables cannot be assigned
        return total
    return np.sum(add())


async def coroutine(x):  # ERROR: async functions are not supported
    return np.sum(x)
