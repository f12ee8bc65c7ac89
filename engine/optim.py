"""Adam on one flat parameter buffer, so an update is a dozen vector ops whatever the model."""

import numpy as np


class Adam:
    def __init__(self, size, dtype, beta1=0.85, beta2=0.99, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros(size, dtype)  # running mean of gradients
        self.v = np.zeros(size, dtype)  # running mean of squared gradients
        self.t = 0  # updates done
        # reused every step: fresh arrays this big cost page faults, more than the math
        self._tmp, self._update = np.empty(size, dtype), np.empty(size, dtype)

    def step(self, params, grad, lr):
        """Update `params` in place; returns the update added to them (a buffer that the next
        step overwrites)."""
        self.t += 1
        b1, b2, m, v, tmp, update = self.beta1, self.beta2, self.m, self.v, self._tmp, self._update
        m *= b1
        m += np.multiply(grad, 1 - b1, out=tmp)
        v *= b2
        np.multiply(grad, grad, out=tmp)
        v += np.multiply(tmp, 1 - b2, out=tmp)
        # bias-corrected: update = −lr · m̂ / (√v̂ + eps), m̂ = m / (1 − b1^t), v̂ = v / (1 − b2^t)
        np.sqrt(np.multiply(v, 1 / (1 - b2**self.t), out=tmp), out=tmp)
        tmp += self.eps
        np.multiply(m, -lr / (1 - b1**self.t), out=update)
        update /= tmp
        params += update
        return update
