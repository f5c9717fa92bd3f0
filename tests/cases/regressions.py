"""Programs the random-program tests and the corpora once found wrong or refused, kept so they
stay right."""

import numpy as np
from scipy import stats


def scalar_broadcast_into_vector(x0, x2):
    # A scalar cotangent stood for a whole vector: reducing it to the scalar input x0 must
    # multiply by the vector's length (d/dx0 = 1.5 * len(x2)), not pass it through.
    v2 = x0 + x2
    return np.sum(v2 * 1.5)


def sum_of_a_scalar(x0, w):
    # np.sum of a rank-0 value made the Numba target emit an empty loop nest; w has no
    # gradient at all (zeros of its shape).
    v0 = np.exp(-x0 * x0)  # noqa: F841
    return np.sum(x0 * 1.5)


def last_column(a):
    # a[:, -1:] has one column whatever a's width; it was sized as a.shape[1] - a.shape[1] - 1
    # and taken to be as wide as a, so its adjoint did not fit.
    return np.sum(a[:1, :] * a + a[:, -1:])


def nan_tests_by_comparison(x):
    """x != x is NumPy's idiom for isnan; x == x and x <= x are false at NaN."""
    return np.sum(np.where(x != x, 0.0, x)) + np.sum(np.where(x == x, x ** 2, 0.0)) + \
        np.sum(np.where(x <= x, x, 0.0)) + np.sum(np.where(x < x, x, 0.0))


def strided_slice_product(x):
    return np.sum(x[::2] * 2.0 * x[::2])


def cubes_by_index(x):
    """A loop over an argument's length, which derivatives of derivatives write out."""
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 3
    return s


def quantile_times_energy(x):
    return np.quantile(x, 0.3) * np.sum(x ** 2)


def root_of_either_sign(a):
    if a >= 0:
        r = np.sqrt(a)
    else:
        r = np.sqrt(-a)
    return r


def repeat_by_a_size(h0, x):
    # np.repeat(h0, batch, axis=0), the initial state of a recurrent network repeated for each
    # sequence, was refused: the repeats were a size known only when the code runs.
    h = np.repeat(h0, x.shape[0], axis=0)
    wide = np.repeat(x, x.shape[0], axis=1)
    return np.sum(np.tanh(h + x) ** 2) + np.sum(wide ** 3 * np.arange(wide.shape[1]))


def sum_of_a_list(a, b, c):
    # np.sum([a, b, c]) (and the other reductions of a list or tuple) was refused: NumPy
    # reduces the array it makes of the list.
    return np.sum([a, b, c]) + np.max([a * b, b * c], axis=0).sum() + \
        np.mean((a, c ** 2), axis=1)[1]


def with_ones(w, *parts, scale=1.0, **options):
    stacked = np.hstack(parts + (np.ones((parts[0].shape[0], 1)),))
    return scale * np.dot(stacked, w) + (options["shift"] if "shift" in options else 0.0)


def helper_with_star_args(w, x, h):
    # A helper taking *args and **kwargs (autograd's RNN example joins its inputs this way)
    # was refused when called from differentiated code.
    return np.sum(np.tanh(with_ones(w, x, h, scale=0.5, shift=0.25)) ** 2) + \
        np.sum(with_ones(w[:3], x))


def grows_a_list(a):
    # parts.append(v) as a statement was refused ("an expression statement has no effect");
    # a loop over the rows that grows a list is written out at each size.
    parts = []
    for row in a:
        parts.append(np.sin(row))
    parts.extend([a[0], a[-1]])
    parts.insert(0, a[1] ** 2)
    same = parts
    return np.sum(np.vstack(same) ** 2)


def helper_appends(parts, v):
    parts.append(v)
    return 0.0


def appends_in_a_branch_on_data(a):
    parts = [a[0]]
    if np.sum(a) > 0:
        _ = helper_appends(parts, a[1] * 2)
    return np.sum(np.vstack(parts))


def appends_after_a_return_on_data(a):
    parts = [a[0]]
    if np.sum(a) > 0:
        return np.sum(parts[0])
    parts.append(a[1])
    return np.sum(np.vstack(parts))


def reshape_before_a_loop(h0, xs, w):
    # The adjoint of h carried out of the loop is a slice of the concatenation's adjoint, so
    # Numba typed it as of any layout and refused its reshape (the adjoint of h0.reshape).
    h = h0.reshape(2, 3)
    for t in range(xs.shape[0]):
        joint = np.concatenate([xs[t], h], axis=1)
        h = np.tanh(joint @ w)
    return np.sum(h)


def columns_by_index(logB, y):
    return np.sum(np.sin(logB[:, y]) * np.arange(logB.shape[0])[:, None])


def later_axis_by_index(t, y):
    return np.sum(t[:, :, y] ** 2) + np.sum(t[:, y, 1:] ** 3)


def optional_entries(p):
    return p.get("b", 0.0) * 2 + np.sum(p["w"] ** 2) + sum(np.sum(v) for v in p.values())


SHIFTS = np.array([0.0, np.nan, np.inf, -np.inf])


def nan_to_num_of_a_shifted_input(x):
    """Where a constant makes the argument NaN or inf, nan_to_num is constant in x: derivative 0
    (autograd's test_nan_to_num)."""
    return np.sum(np.sin(np.nan_to_num(x + SHIFTS)))


def dirichlet_density_in_alpha(a, v):
    """A selection's NaN test of a product's other factor (exp of a sum) inside SymPy's logic."""
    x = np.array([0.1, 0.2, 0.3, 0.4])
    return stats.dirichlet.pdf(x, a) + np.sum(stats.dirichlet.logpdf(x, a) * v)


def added(x, y):
    return x + y


def product_of_all(x):
    return np.prod(x)


def second_of_the_rest(x):
    return x[1:][0] * 3.0


def takes_varargs(*args):
    return np.sum(args[0] * 2.0) + sum(np.sum(a ** 2) for a in args[1:])


def takes_kwargs(x, **options):
    return np.sum(x * options.get("scale", 1.0))


def keyword_only(x, *, scale=2.0):
    return np.sum(x ** 2) * scale


def symmetrize_argument(fun, argnum):
    def symmetrized(*args, **kwargs):
        args = list(args)
        args[argnum] = 0.5 * (args[argnum] + np.swapaxes(args[argnum], -1, -2))
        return fun(*args, **kwargs)
    return symmetrized


def matrix_quadratic(a, weight=1.0):
    return np.sum(a @ a) * weight + np.sum(np.sin(a))


def appends_in_a_long_while(x):
    """A while loop of 20 iterations that grows a list: it cannot run in the generated code,
    and is written out after a first attempt at writing it out was abandoned."""
    parts = []
    i = 0
    while i < 20:
        parts.append(x * i)
        i += 1
    return np.sum(np.stack(parts))


def yields_in_a_long_while(x):
    def items(v):
        i = 0
        while i < 20:
            yield v * i
            i += 1
    return sum(np.sum(h) for h in items(x))


def takes_from_a_generator_in_a_long_while(x):
    items = (x * i for i in range(30))
    total, i = 0.0, 0
    while i < 20:
        total = total + np.sum(next(items))
        i += 1
    return total + np.sum(next(items))


def yields_in_a_while_on_data(x):
    def halvings(v):
        while np.max(v) > 1.0:
            v = v / 2
            yield v
    return sum(np.sum(h) for h in halvings(x))


def local_wrappers(x):
    def wrap(fun):
        def inner(*args, scale=2.0, **kwargs):
            return fun(*args, **kwargs) * scale
        return inner
    g = wrap(lambda a, b=1.0: np.sum(a * b))
    first = (lambda *t: t[0] * 2)(x)
    return g(x) + g(x, b=3.0, scale=0.5) + np.sum(first)



power_of = lambda y: lambda x: np.power(x, y)  # noqa: E731  (autograd's test_power_arg0)
SINE_AND_COSINE = (lambda x: np.sin(x) * 2.0, lambda x: np.cos(x) * 3.0)


# --- writes into arrays that share memory, as NumPy's do (frontend.aliasing) -----------------

def writes_through_a_slice(x):
    b = x * 1.0
    v = b[1:]  # a view of b
    v += 5.0  # NumPy: b[1:] changes too
    return np.sum(b * x)


def writes_into_an_alias(x):
    b = x * 1.0
    c = b
    b += 1.0  # NumPy: c changes too
    return np.sum(c * x)


def writes_into_rows(x):
    m = np.outer(x, x) * 1.0
    for row in m:  # each row a view of m
        row *= 2.0
    return np.sum(m)


def normalised_max(a):
    a /= np.sum(a)  # NumPy: the caller's array changes
    return np.max(a)


def writes_into_a_helpers_argument(x):
    y = x * 2.0
    peak = normalised_max(y)
    return peak + np.sum(y)


def writes_under_a_view(x):
    b = x * 1.0
    v = b[1:]
    b[1] = 0.0  # NumPy: v[0] changes too
    return np.sum(v * x[1:])


def writes_into_a_list_item(x):
    y = x * 1.0
    ys = [y, x]
    y[0] = 0.0  # NumPy: ys[0] changes too
    return np.sum(ys[0] * x)


def writes_into_copies(x):
    """Copies and separate arrays hold memory of their own: these writes are NumPy's."""
    y = x.copy()
    y[1:3] = 0.0
    z = np.array(x)
    z += 1.0
    a = np.zeros(3)
    b = np.zeros(3)
    for i in range(3):
        a[i] = x[i] ** 2
        b[i] = 2 * x[i]
    h = np.zeros((4, 3))
    for t in range(3):
        h[t + 1] = np.tanh(h[t] + a)  # a row read, then another row written: NumPy's too
    return np.sum(y * x) + np.sum(z * x) + np.sum(a * b) + np.sum(h)



def writes_into_an_alias_in_a_loop(x):
    y = np.zeros_like(x)
    z = y  # NumPy: writing z writes y
    for i in range(x.shape[0]):
        z[i] = x[i] ** 2
    return np.sum(y * x)


def writes_into_a_view_in_a_long_loop(x):
    y = np.zeros((2, 20)) + x[0]
    r = y[0]  # a view of y's first row
    for i in range(20):
        r[i] = x[1] * i
    return np.sum(y)


def branches_over_elements(x):
    s = 0.0
    for v in x:
        if v > 0:
            s = s + v ** 3
        else:
            s = s - v
    return s


def backwards(x):
    s = 0.0
    for i in reversed(range(x.shape[0])):  # a run-time length: from x.shape[0] - 1 down
        s = s * 0.5 + x[i]
    for v in reversed([x[0], x[1]]):
        s = s + v ** 2
    for row in reversed(x[:2]):
        s = s * 0.25 + row
    return s


def items_and_parts(x):
    a = np.sum(x ** 2).item()
    b = x.real * 2 + x.imag + x[1:].reshape(1, -1).item(0)
    c = np.concatenate([x, [1.0, 2.0]])
    return a + np.sum(b) + np.sum(c ** 2)


def writes_into_a_split_part(x):
    b = x * 1.0
    p, q = np.split(b, 2)  # views of b
    p[0] = 0.0
    return np.sum(b * x)


def writes_into_a_squeezed_view(x):
    b = np.outer(x, x)[None]
    v = np.squeeze(b)
    v[0, 0] = 0.0
    return np.sum(b)


def adds_into_a_list_item(x):
    a = x * 1.0
    items = [a]
    items[0] += 1.0  # NumPy: a changes too
    return np.sum(a * x)


def accumulates_into_a_zero_d_array(x):
    acc = np.array(0.0)
    history = []
    for i in range(4):
        acc += x[i]  # NumPy: the 0-d array in history changes too
        history.append(acc)
    return history[0] * x[0]


def carries_a_view_in_a_loop(x):
    b = x * 1.0
    v = np.zeros(2)
    s = 0.0
    for _ in range(x.shape[0]):
        b[0] = b[0] * 2.0
        s = s + v[0]
        v = b[0:2]  # the next iteration's write into b changes v
    return s


def aliases_in_a_loop_then_writes(x):
    m = x * 2.0
    c = np.zeros(4)
    for _ in range(x.shape[0]):
        c = m
    m[0] = 0.0  # NumPy: c changes too
    return np.sum(c * x)


GLOBAL_BUFFER = np.ones(4)


def writes_into_a_global(x):
    g = GLOBAL_BUFFER
    g[0] = 5.0  # NumPy: the global changes, for every later call too
    return np.sum(GLOBAL_BUFFER * x)


def keeps_the_previous_row(x):
    """A row read, then another row written: NumPy's result too (the view is apart)."""
    n = x.shape[0]
    h = np.zeros((n + 1, 3))
    for t in range(n):
        prev = h[t]
        h[t + 1] = np.tanh(0.5 * prev + x[t])
    return np.sum(h * h)


def keeps_the_last_row_and_writes_it(x):
    h = np.outer(x, x)
    last = h[-1]
    h[3] = 0.0  # with 4 rows, h[3] is h[-1]: NumPy changes last
    return np.sum(last * x[0])


def writes_into_a_diagonal(x):
    b = np.outer(x, x)
    v = np.diagonal(b)  # NumPy: a read-only view
    v[0] = 0.0
    return np.sum(b)


def _steps_to(y, start, end, step):
    while start < end:
        h = np.minimum(step, end - start)
        y = y + np.sin(start + 0.2 * h) * (y + 0.2 * h * y) * 0.1
        start = start + h
        step = step * 1.1
    return y, step


def two_loops_on_data(y0, t):
    """Two while loops on data whose bodies compute the same expression of their own step
    (``0.2 * h``): the second loop once read the first's last value of it."""
    y, step = _steps_to(y0, t[0], t[1], 0.3 * t[1])
    y, step = _steps_to(y, t[1], t[2], step)
    return np.sum(y) + step


def masks_joined(x):
    inside = (x > -1.0) & (x < 1.0) | (x == 2.0)
    outside = ~inside ^ (x > 10.0)
    return np.sum(np.where(inside, x ** 2, 0.0)) + np.sum(np.where(outside, 3.0 * x, 0.0))


def raises_on_data(x):
    if np.any(x < 0.0):
        raise ValueError("x must not be negative")
    total = np.sum(np.sqrt(x))
    if total > 100.0:
        raise OverflowError("too large")
    return total


def transpose_before_a_loop(x):
    """A transpose is written inline (``x.T``): the loop rebinding ``x`` once changed it."""
    xt = x.T
    for _ in range(20):
        x = 0.9 * x
    return np.sum(xt[0] ** 2) + np.sum(x)


def transpose_read_in_a_loop(x):
    xt = x.T
    for _ in range(20):
        x = 0.5 * x + 0.1 * (xt @ x)
    return np.sum(x)


def transpose_taken_in_a_loop(x):
    y = x.T
    for _ in range(20):
        y = x.T
        x = 0.9 * x
    return np.sum(y[0] ** 2) + np.sum(x)


def transpose_between_while_loops(x):
    xt = x.T
    while np.sum(x * x) > 0.5:
        x = 0.8 * x
    y = xt
    while np.sum(y * y) > 0.1:
        y = 0.5 * y
    return np.sum(y) + np.sum(x)


def rows_written_whole(x, h):
    """``out[i, :] = state`` in a loop that runs in the generated code: the numba backend
    refused the whole-row slice as integer-array indexing off the leading axes."""
    n = x.shape[0]
    out = np.zeros((n, 2))
    state = np.array([1.0, 0.0])
    for i in range(n):
        state = state + h * np.array([state[1], -state[0]]) * x[i]
        out[i, :] = state
    return np.sum(out[:, 0] * out[:, 1]) + np.sum(state)


def skips_some_iterations(x, w):
    s = 0.0
    for i in range(17):
        if i % 3 == 0:
            continue
        s = s + np.sum(np.tanh(w * x + i))
    return s


class NegativeInput(Exception):
    pass


def raises_its_own_exception(x):
    if np.any(x < 0.0):
        raise NegativeInput("x must not be negative")
    return np.sum(x ** 2)


def max_with_a_float64_constant(z):
    return np.sum(np.maximum(z, 0.1))


def leaky_relu_layer(x, W, V):
    a = x @ W
    h = np.maximum(0.01 * a, a)
    return np.sum(h @ V)


def shared_factor_in_a_branch(x, y):
    return np.sum(np.where(x > 0, np.exp(x * y), 0.0) * np.sin(x + y))
