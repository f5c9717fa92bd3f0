"""Complete objectives written the way people write them for autograd: helper functions,
parameters in lists of (W, b) pairs, tuples and dicts, Python loops over layers and time steps,
logsumexp, log-likelihoods and priors. Each is the loss a user would hand to an optimiser.

The tests (tests/test_autograd_style.py) load this module a second time with ``np`` and the
SciPy names bound to JAX's, so every name a function reads from NumPy or SciPy goes through
the module globals below."""

import functools

import numpy as np
from scipy.special import expit, gammaln, logsumexp
from scipy.stats import multivariate_normal, norm

# --- data read from module globals, as scripts that optimise a training loss do -------------

LR_INPUTS = np.zeros((0, 0))
LR_TARGETS = np.zeros(0)
TRAIN_IMAGES = np.zeros((0, 0))
TRAIN_LABELS = np.zeros((0, 0))


# --- 1. logistic regression -----------------------------------------------------------------

def logistic_log_likelihood(weights, inputs, targets):
    """Labels in {0, 1}; log sigmoid(z) = -log(1 + exp(-z)) written with logaddexp."""
    logits = np.dot(inputs, weights)
    signs = 2.0 * targets - 1.0
    return -np.sum(np.logaddexp(0.0, -signs * logits))


def logistic_map_objective(weights, inputs, targets, prior_variance):
    log_prior = -0.5 * np.sum(weights ** 2) / prior_variance
    return -(log_prior + logistic_log_likelihood(weights, inputs, targets))


def squash(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def logistic_predictions(weights, inputs):
    return squash(inputs.dot(weights[:-1]) + weights[-1])


def logistic_training_loss(weights):
    """The data are module globals; the last weight is a bias."""
    preds = logistic_predictions(weights, LR_INPUTS)
    label_probabilities = preds * LR_TARGETS + (1 - preds) * (1 - LR_TARGETS)
    return -np.sum(np.log(label_probabilities)) + 0.01 * np.dot(weights, weights)


# --- 2. neural network classifier -----------------------------------------------------------

def classifier_predict(params, inputs):
    """Log class probabilities of a tanh network; params is a list of (W, b)."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def squared_norm(params):
    return sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)


def classifier_objective(params, inputs, targets, l2_reg):
    log_prior = -l2_reg * squared_norm(params)
    log_lik = np.sum(classifier_predict(params, inputs) * targets)
    return -(log_prior + log_lik)


def integer_label_loss(params, inputs, labels):
    """The same network, the labels as integers picked with fancy indexing."""
    logp = classifier_predict(params, inputs)
    return -np.mean(logp[np.arange(labels.shape[0]), labels])


def classifier_training_loss(params, iteration):
    """The training set in module globals and the optimiser's iteration number passed in,
    as a script hands its loss to an optimiser."""
    return classifier_objective(params, TRAIN_IMAGES, TRAIN_LABELS, 0.1)


# --- 3. neural network regression -----------------------------------------------------------

def relu(x):
    return np.maximum(x, 0.0)


def regression_net(params, inputs, nonlinearity=None):
    if nonlinearity is None:
        nonlinearity = np.tanh
    hidden = inputs
    last = len(params) - 1
    for i, (weights, biases) in enumerate(params):
        hidden = hidden @ weights + biases
        if i < last:
            hidden = nonlinearity(hidden)
    return hidden


def gaussian_log_density(x, mean, log_std):
    var = np.exp(2 * log_std)
    return -0.5 * np.log(2 * np.pi * var) - 0.5 * (x - mean) ** 2 / var


def regression_objective(params, log_noise_std, inputs, targets, prior_scale):
    predictions = regression_net(params, inputs)
    log_lik = np.sum(gaussian_log_density(targets, predictions, log_noise_std))
    log_prior = sum(np.sum(gaussian_log_density(w, 0.0, np.log(prior_scale)))
                    for layer in params for w in layer)
    return -log_lik - log_prior


def relu_regression_objective(params, inputs, targets):
    predictions = regression_net(params, inputs, relu)
    return 0.5 * np.mean((predictions - targets) ** 2)


# --- 4. recurrent network -------------------------------------------------------------------

def with_bias_times(weights, *parts):
    stacked = np.hstack(parts + (np.ones((parts[0].shape[0], 1)),))
    return np.dot(stacked, weights)


def rnn_outputs(params, inputs):
    """inputs is (time, sequences, features); one log-softmax output per step."""

    def step(x, hidden):
        return np.tanh(with_bias_times(params["change"], x, hidden))

    def to_log_probs(hidden):
        out = with_bias_times(params["predict"], hidden)
        return out - logsumexp(out, axis=1, keepdims=True)

    hidden = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
    outputs = [to_log_probs(hidden)]
    for x in inputs:
        hidden = step(x, hidden)
        outputs.append(to_log_probs(hidden))
    return outputs


def rnn_objective(params, inputs, targets):
    log_probs = rnn_outputs(params, inputs)
    total = 0.0
    steps, sequences, _ = inputs.shape
    for t in range(steps):
        total += np.sum(log_probs[t] * targets[t])
    return -total / (steps * sequences)


# --- 5. LSTM --------------------------------------------------------------------------------

def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_objective(params, inputs, targets):
    """Gates from one concatenation of input, hidden state and a column of ones; targets at
    step t are the inputs at step t + 1."""
    batch = inputs.shape[1]
    hidden = np.repeat(params["h0"], batch, axis=0)
    cells = np.repeat(params["c0"], batch, axis=0)
    loss = 0.0
    for t in range(inputs.shape[0]):
        joint = np.concatenate([inputs[t], hidden, np.ones((batch, 1))], axis=1)
        forget = logistic(joint @ params["forget"])
        write = logistic(joint @ params["ingate"])
        read = 0.5 * (np.tanh(joint @ params["outgate"]) + 1)
        candidate = np.tanh(joint @ params["change"])
        cells = forget * cells + write * candidate
        hidden = read * np.tanh(cells)
        scores = hidden @ params["predict"][:-1] + params["predict"][-1]
        log_probs = scores - logsumexp(scores, axis=1, keepdims=True)
        loss = loss - np.sum(log_probs * targets[t])
    return loss / inputs.shape[0]


# --- 6. Gaussian process marginal likelihood ------------------------------------------------

def rbf_kernel(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def gp_unpack(params):
    mean = params[0]
    noise = np.exp(params[1]) + 1e-4
    return mean, noise, params[2:]


def gp_neg_log_marginal_cholesky(params, x, y):
    """params: mean, log noise variance, log output scale, log lengthscales."""
    mean, noise, kernel_params = gp_unpack(params)
    K = rbf_kernel(kernel_params, x, x) + noise * np.eye(len(y))
    L = np.linalg.cholesky(K)
    r = y - mean
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, r))
    return 0.5 * r.dot(alpha) + np.sum(np.log(np.diag(L))) + 0.5 * len(y) * np.log(2 * np.pi)


def gp_neg_log_marginal_slogdet(log_lengthscale, log_noise, x, y):
    """The two hyperparameters as separate floats; the log determinant from slogdet."""
    sq = (x[:, None, :] - x[None, :, :]) ** 2
    K = np.exp(-0.5 * np.sum(sq, axis=-1) / np.exp(2 * log_lengthscale))
    K = K + np.exp(log_noise) * np.eye(x.shape[0])
    _, logdet = np.linalg.slogdet(K)
    return 0.5 * (y @ np.linalg.solve(K, y) + logdet + y.shape[0] * np.log(2 * np.pi))


def gp_neg_log_marginal_scipy(params, x, y):
    """As autograd's example writes it: the marginal likelihood from SciPy's multivariate
    normal."""
    mean, noise, kernel_params = gp_unpack(params)
    K = rbf_kernel(kernel_params, x, x) + noise * np.eye(len(y))
    return -multivariate_normal.logpdf(y, mean * np.ones(len(y)), K)


# --- 7. Gaussian mixture model --------------------------------------------------------------

def normalise_logs(x):
    return x - logsumexp(x)


def mvn_logpdf(data, mean, cov):
    d = data.shape[1]
    centred = data - mean
    _, logdet = np.linalg.slogdet(cov)
    mahalanobis = np.sum(centred @ np.linalg.inv(cov) * centred, axis=1)
    return -0.5 * (d * np.log(2 * np.pi) + logdet + mahalanobis)


def gmm_unpack(params):
    return normalise_logs(params["log proportions"]), params["means"], \
        params["lower triangles"]


def gmm_neg_log_likelihood(params, data):
    per_component = []
    for log_weight, mean, cov_sqrt in zip(*gmm_unpack(params), strict=True):
        cov = np.dot(cov_sqrt.T, cov_sqrt)
        per_component.append(log_weight + mvn_logpdf(data, mean, cov))
    return -np.sum(logsumexp(np.vstack(per_component), axis=0))


def diagonal_gmm_neg_log_likelihood(log_weights, means, log_stds, data):
    """Diagonal covariances, all components at once by broadcasting (points, components, d)."""
    z = (data[:, None, :] - means[None, :, :]) / np.exp(log_stds)[None, :, :]
    log_normals = -0.5 * np.sum(z ** 2 + np.log(2 * np.pi), axis=2) - np.sum(log_stds, axis=1)
    return -np.sum(logsumexp(log_normals + normalise_logs(log_weights), axis=1))


# --- 8. variational autoencoder -------------------------------------------------------------

def mlp(params, inputs):
    for W, b in params[:-1]:
        inputs = np.tanh(inputs @ W + b)
    W, b = params[-1]
    return inputs @ W + b


def diag_gaussian_log_density(x, mu, log_std):
    return np.sum(norm.logpdf(x, mu, np.exp(log_std)), axis=-1)


def bernoulli_log_density(targets, logits):
    """targets in {0, 1}: log sigmoid of the signed logits."""
    return np.sum(-np.logaddexp(0.0, -(2 * targets - 1) * logits), axis=-1)


def vae_neg_elbo(encoder, decoder, data, noise):
    latent_dim = noise.shape[1]
    stats = mlp(encoder, data)
    mean, log_std = stats[:, :latent_dim], stats[:, latent_dim:]
    z = mean + np.exp(log_std) * noise
    logits = mlp(decoder, z)
    log_likelihood = bernoulli_log_density(data, logits)
    log_prior = diag_gaussian_log_density(z, 0.0, 0.0)
    log_q = diag_gaussian_log_density(z, mean, log_std)
    return -np.mean(log_likelihood + log_prior - log_q)


def gaussian_vae_neg_elbo(encoder, decoder, data, noise):
    """A Gaussian likelihood with a fixed noise scale and the KL term in closed form."""
    latent_dim = noise.shape[1]
    mean, log_std = np.split(mlp(encoder, data), [latent_dim], axis=1)
    z = mean + np.exp(log_std) * noise
    reconstruction = mlp(decoder, z)
    log_lik = np.sum(gaussian_log_density(data, reconstruction, np.log(0.3)), axis=1)
    kl = 0.5 * np.sum(np.exp(2 * log_std) + mean ** 2 - 1.0 - 2 * log_std, axis=1)
    return np.mean(kl - log_lik)


# --- 9. black-box variational inference -----------------------------------------------------

def funnel_log_density(z):
    """Neal's funnel in two dimensions, one row per sample."""
    v, x = z[:, 0], z[:, 1]
    return norm.logpdf(v, 0.0, 1.35) + norm.logpdf(x, 0.0, np.exp(v))


def banana_log_density(z):
    a, b = z[:, 0], z[:, 1]
    return -0.5 * a ** 2 / 4.0 - 0.5 * (b - 0.5 * a ** 2) ** 2 / 0.5


def make_bbvi_objective(log_density, dim):
    """Returns the negative ELBO of a mean-field Gaussian, its noise passed in."""

    def unpack(params):
        return params[:dim], params[dim:]

    def entropy(log_std):
        return 0.5 * dim * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    def objective(params, noise):
        mean, log_std = unpack(params)
        samples = noise * np.exp(log_std) + mean
        return -(entropy(log_std) + np.mean(log_density(samples)))

    return objective


funnel_bbvi = make_bbvi_objective(funnel_log_density, 2)
banana_bbvi = make_bbvi_objective(banana_log_density, 2)


def bbvi_with_lambda(mean, log_std, noise):
    log_p = lambda z: -0.5 * np.sum(z ** 2, axis=1) - 0.25 * np.sum(z ** 4, axis=1)  # noqa: E731
    samples = mean + np.exp(log_std) * noise
    return -np.sum(log_std) - np.mean(log_p(samples))


# --- 10. convolution ------------------------------------------------------------------------

def conv_by_offsets(images, kernels):
    """'valid' cross-correlation: images (batch, height, width), kernels (out, kh, kw);
    a loop over the kernel offsets adds shifted slices."""
    _, kh, kw = kernels.shape
    h = images.shape[1] - kh + 1
    w = images.shape[2] - kw + 1
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            window = images[:, None, i:i + h, j:j + w]
            out = out + window * kernels[None, :, i, j, None, None]
    return out


def conv_by_einsum(images, kernels):
    """The same with the windows stacked and one einsum: images (batch, channels, h, w),
    kernels (out, channels, kh, kw)."""
    _, _, kh, kw = kernels.shape
    h = images.shape[2] - kh + 1
    w = images.shape[3] - kw + 1
    windows = np.stack([np.stack([images[:, :, i:i + h, j:j + w] for j in range(kw)], axis=2)
                        for i in range(kh)], axis=2)  # (batch, channels, kh, kw, h, w)
    return np.einsum("bcijhw,ocij->bohw", windows, kernels)


def convnet_objective(params, images, targets):
    kernels, conv_bias, W, b = params
    feature_maps = np.tanh(conv_by_offsets(images, kernels) + conv_bias[None, :, None, None])
    flat = feature_maps.reshape(images.shape[0], -1)
    scores = flat @ W + b
    log_probs = scores - logsumexp(scores, axis=1, keepdims=True)
    return -np.mean(np.sum(log_probs * targets, axis=1))


def einsum_conv_objective(kernels, images, targets):
    maps = conv_by_einsum(images, kernels)
    pooled = np.max(np.maximum(maps, 0.0), axis=(2, 3))  # relu, then global max pooling
    return 0.5 * np.sum((pooled - targets) ** 2)


# --- 11. small functions in the style of autograd's and Tangent's tests ---------------------

def sum_of_list(a, b, c):
    return np.sum([a, b, c]) + np.sum([a * b, b * c])


def tuple_of_floats(params):
    scale, shift = params
    return np.tanh(scale * 1.5 + shift) ** 2 + scale * shift


def dict_of_floats(params):
    return params["a"] ** 2 * np.exp(params["b"]) - np.sin(params["a"] * params["b"])


def scaled_energy(x, scale, power):
    return scale * np.sum(np.abs(x) ** power)


def partial_energy(x):
    energy = functools.partial(scaled_energy, scale=0.5, power=3)
    return energy(x) + energy(np.cos(x))


def nested_def(x, w):
    def layer(v):
        return np.tanh(v.dot(w))

    return np.sum(layer(layer(x) + x) ** 2)


def lambda_and_comprehension(x):
    square = lambda v: v * v  # noqa: E731
    terms = [square(x[i]) * (i + 1) for i in range(x.shape[0])]
    return sum(terms) + sum(np.sin(t) for t in terms[1:])


def method_style(x, w):
    y = x.dot(w)
    z = y.T.reshape(-1, 2)
    return z.sum(axis=1).max(axis=0) + np.sum(np.clip(y, -0.5, 0.5) ** 2) + \
        x.max(axis=0).sum()


def slice_objects(x):
    front, back = slice(0, 3), slice(3, None)
    every_other = slice(None, None, 2)
    return np.sum(x[front] * x[back]) + np.sum(x[every_other] ** 3)


def optional_bias(params, x, y):
    """A parameter dict where the bias may be left out."""
    scores = x @ params["w"] + params.get("b", 0.0)
    return np.sum(np.logaddexp(0.0, -y * scores))


# --- 12. other plain objectives from the examples -------------------------------------------

def rosenbrock(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosenbrock_nd(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def tanh_by_hand(x):
    y = np.exp(-2.0 * x)
    return np.sum((1.0 - y) / (1.0 + y))


def negbin_log_likelihood(r, p, counts):
    return np.sum(gammaln(r + counts) - gammaln(r) - gammaln(counts + 1) +
                  counts * np.log(p) + r * np.log(1 - p))


def negbin_profile(log_r, counts):
    """The likelihood with p at its maximiser for the given r, as a function of log r."""
    r = np.exp(log_r)
    p = np.sum(counts) / np.sum(r + counts)
    return -negbin_log_likelihood(r, p, counts)


def ica_neg_log_likelihood(unmixing, observed):
    """Sources with a logistic density: log p(x) = sum log p(W x) + log |det W|."""
    sources = observed @ unmixing.T
    log_density = -sources - 2 * np.logaddexp(0.0, -sources)
    _, logdet = np.linalg.slogdet(unmixing)
    return -(np.sum(log_density) + observed.shape[0] * logdet)


def hmm_log_likelihood(log_pi, log_A, log_B, observations):
    """The forward algorithm in log space: log_A[i, j] from state i to j, log_B[state,
    symbol]; unnormalised parameters are normalised first."""
    log_pi = log_pi - logsumexp(log_pi)
    log_A = log_A - logsumexp(log_A, axis=1, keepdims=True)
    log_B = log_B - logsumexp(log_B, axis=1, keepdims=True)
    log_alpha = log_pi + log_B[:, observations[0]]
    for y in observations[1:]:
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + log_B[:, y]
    return -logsumexp(log_alpha)


def newton_sqrt(a):
    """Newton's iteration for sqrt(a), a fixed number of times."""
    x = a * 0.0 + 1.0
    for _ in range(8):
        x = 0.5 * (x + a / x)
    return np.sum(x)


def descent_sqrt(a):
    x = np.ones_like(a)
    for _ in range(30):
        x = x - 0.1 * (x ** 2 - a)
    return np.sum(x ** 2)


def rkhs_fit(alphas, centres, x, y):
    """A function in an RBF kernel's RKHS, fit by squared error plus its RKHS norm."""
    k = lambda u, v: np.exp(-(u[:, None] - v[None, :]) ** 2)  # noqa: E731
    prediction = k(x, centres) @ alphas
    return np.sum((prediction - y) ** 2) + 0.1 * alphas @ k(centres, centres) @ alphas


def sinusoid_fit(params, x, y):
    amplitude, frequency, phase = params[0], params[1], params[2]
    return np.mean((amplitude * np.sin(frequency * x + phase) - y) ** 2)


def taylor_sine(x, terms=6):
    """Sine from its Taylor series, as a sum over a Python loop."""
    total = 0.0
    term = x
    for n in range(terms):
        total = total + term
        term = -term * x ** 2 / ((2 * n + 2) * (2 * n + 3))
    return np.sum(total)


def expit_objective(w, x, y):
    return -np.sum(y * np.log(expit(x @ w)) + (1 - y) * np.log(expit(-(x @ w))))
