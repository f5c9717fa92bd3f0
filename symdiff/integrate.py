"""An ODE solver written in plain NumPy, so that symdiff differentiates through its steps.

``odeint`` takes the arguments of ``scipy.integrate.odeint`` and solves with the explicit
Runge-Kutta pair of Dormand and Prince (orders 5 and 4), choosing each step's size from the
error estimate, as ``jax.experimental.ode.odeint`` does. It runs without symdiff; symdiff
reads its source like any user function, so the gradient it generates is the exact derivative
of the solution this solver computes (step sizes included), not an adjoint solved to a
tolerance: it agrees with finite differences of ``odeint`` itself.

SciPy's ``odeint`` (LSODA, in compiled code) cannot be read, and symdiff refuses it by name,
pointing here.
"""

from __future__ import annotations

import numpy as np

# The Dormand-Prince 5(4) tableau: nodes, stages, the fifth-order weights, and the difference
# between the fifth- and fourth-order weights (the error estimate).
_C2, _C3, _C4, _C5 = 1 / 5, 3 / 10, 4 / 5, 8 / 9
_A21 = 1 / 5
_A31, _A32 = 3 / 40, 9 / 40
_A41, _A42, _A43 = 44 / 45, -56 / 15, 32 / 9
_A51, _A52, _A53, _A54 = 19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729
_A61, _A62, _A63, _A64, _A65 = 9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656
_B1, _B3, _B4, _B5, _B6 = 35 / 384, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84
_E1, _E3, _E4, _E5, _E6, _E7 = (71 / 57600, -71 / 16695, 71 / 1920, -17253 / 339200,
                                 22 / 525, -1 / 40)

# A step grows or shrinks by at most these factors, with a safety margin on the estimate.
_SAFETY, _SHRINK, _GROW = 0.9, 0.2, 10.0


def odeint(func, y0, t, args=(), rtol=1.4e-8, atol=1.4e-8, mxstep=500):
    """Solve ``dy/dt = func(y, t, *args)`` from ``y(t[0]) = y0``; the solution at each time of
    ``t`` (increasing), one row per time, as ``scipy.integrate.odeint`` returns it.

    ``rtol`` and ``atol`` bound each step's estimated error relative to
    ``atol + rtol * |y|``; ``mxstep`` bounds the steps taken between two times of ``t``
    (more raises ``RuntimeError``)."""
    y = np.asarray(y0, dtype=float)
    f = func(y, t[0], *args)
    step = _first_step(func, y, f, t[0], args, rtol, atol)
    solution = np.zeros((len(t),) + y.shape)
    solution[0] = y
    reached = True
    for i in range(1, len(t)):
        y, f, step, now = _advance(func, y, f, t[i - 1], t[i], step, args, rtol, atol, mxstep)
        solution[i] = y
        reached = np.logical_and(reached, now >= t[i])
    if np.logical_not(reached):
        raise RuntimeError("odeint took mxstep steps between two times of t without reaching "
                           "the second; raise mxstep or loosen rtol and atol")
    return solution


def _first_step(func, y0, f0, t0, args, rtol, atol):
    """Hairer, Norsett and Wanner's choice of a first step, from two evaluations of ``func``."""
    scale = atol + rtol * np.abs(y0)
    d0 = np.sqrt(np.mean((y0 / scale) ** 2))
    d1 = np.sqrt(np.mean((f0 / scale) ** 2))
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
    f1 = func(y0 + h0 * f0, t0 + h0, *args)
    d2 = np.sqrt(np.mean(((f1 - f0) / scale) ** 2)) / h0
    h1 = np.where(np.maximum(d1, d2) <= 1e-15, np.maximum(1e-6, h0 * 1e-3),
                  (0.01 / np.maximum(np.maximum(d1, d2), 1e-300)) ** (1 / 5))
    return np.minimum(100 * h0, h1)


def _advance(func, y, f, start, end, step, args, rtol, atol, mxstep):
    """Steps from ``start`` to ``end``, the last one cut to land on ``end``: the solution
    there, ``func`` of it, the size for the next step, and the time reached (short of ``end``
    after ``mxstep`` steps)."""
    now = start
    taken = 0
    while (now < end) & (taken < mxstep):
        last = step >= end - now
        h = np.minimum(step, end - now)
        k1 = f
        k2 = func(y + h * (_A21 * k1), now + _C2 * h, *args)
        k3 = func(y + h * (_A31 * k1 + _A32 * k2), now + _C3 * h, *args)
        k4 = func(y + h * (_A41 * k1 + _A42 * k2 + _A43 * k3), now + _C4 * h, *args)
        k5 = func(y + h * (_A51 * k1 + _A52 * k2 + _A53 * k3 + _A54 * k4), now + _C5 * h, *args)
        k6 = func(y + h * (_A61 * k1 + _A62 * k2 + _A63 * k3 + _A64 * k4 + _A65 * k5),
                  now + h, *args)
        y_next = y + h * (_B1 * k1 + _B3 * k3 + _B4 * k4 + _B5 * k5 + _B6 * k6)
        k7 = func(y_next, now + h, *args)
        error = h * (_E1 * k1 + _E3 * k3 + _E4 * k4 + _E5 * k5 + _E6 * k6 + _E7 * k7)
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_next))
        # the squared error norm, kept away from 0 where the step is exact
        error2 = np.maximum(np.mean((error / scale) ** 2), 1e-20)
        accept = error2 <= 1.0
        now = np.where(accept, np.where(last, end, now + h), now)
        y = np.where(accept, y_next, y)
        f = np.where(accept, k7, f)
        step = h * np.clip(_SAFETY * error2 ** -0.1, _SHRINK, _GROW)
        taken += 1
    return y, f, step, now
