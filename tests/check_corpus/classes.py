"""Networks as objects that update their own weights in place, in the question's style."""

import autograd.numpy as np
from autograd import elementwise_grad


def softplus(x):
    return np.log(1 + np.exp(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


softplus_grad = elementwise_grad(softplus)
sigmoid_grad = elementwise_grad(sigmoid)


class Summed:
    """The question's network with its bias updates summed over the samples."""

    def __init__(self, sizes, learning_rate=0.01):
        self.learning_rate = learning_rate
        self.W1 = np.random.randn(sizes[0], sizes[1])
        self.b1 = np.ones((1, sizes[1]))
        self.W2 = np.random.randn(sizes[1], sizes[2])
        self.b2 = np.ones((1, sizes[2]))

    def forward_prop(self, X):
        self.Z1 = np.dot(X, self.W1) + self.b1
        self.A1 = sigmoid(self.Z1)
        self.Z2 = np.dot(self.A1, self.W2) + self.b2
        self.A2 = softplus(self.Z2)
        return self.A2

    def back_prop(self, X, Y):
        dZ2 = (self.A2 - Y) * softplus_grad(self.Z2)
        dZ1 = np.dot(dZ2, self.W2.T) * sigmoid_grad(self.Z1)
        self.W1 -= self.learning_rate * X.T.dot(dZ1)
        self.b1 -= self.learning_rate * dZ1.sum(axis=0, keepdims=True)
        self.W2 -= self.learning_rate * np.dot(self.A1.T, dZ2)
        self.b2 -= self.learning_rate * dZ2.sum(axis=0, keepdims=True)


class NoHiddenSlope(Summed):
    """Forgets the hidden layer's slope; its rate is called lr and its methods have other names."""

    def __init__(self, sizes):
        super().__init__(sizes)
        self.lr = 0.5

    def predict(self, X):
        return self.forward_prop(X)

    def step(self, X, Y):
        dZ2 = (self.A2 - Y) * softplus_grad(self.Z2)
        dZ1 = np.dot(dZ2, self.W2.T)
        self.W1 = self.W1 - self.lr * X.T.dot(dZ1)
        self.b1 = self.b1 - self.lr * dZ1.sum(axis=0)
        self.W2 = self.W2 - self.lr * np.dot(self.A1.T, dZ2)
        self.b2 = self.b2 - self.lr * dZ2.sum(axis=0)


class Ascends(Summed):
    """Adds the gradient instead of subtracting it, and forgets to update b2."""

    def back_prop(self, X, Y):
        dZ2 = (self.A2 - Y) * softplus_grad(self.Z2)
        dZ1 = np.dot(dZ2, self.W2.T) * sigmoid_grad(self.Z1)
        self.W1 += self.learning_rate * X.T.dot(dZ1)
        self.b1 += self.learning_rate * dZ1.sum(axis=0, keepdims=True)
        self.W2 += self.learning_rate * np.dot(self.A1.T, dZ2)


class Columns:
    """Samples in columns: W is (n_out, n_in), b is (n_out, 1), X is (n_in, m); the cost is 1/(2m) sum of squares."""

    def __init__(self, n_x, n_h, n_y):
        self.alpha = 0.1
        self.W1 = np.random.randn(n_h, n_x) * 0.01
        self.b1 = np.zeros((n_h, 1))
        self.W2 = np.random.randn(n_y, n_h) * 0.01
        self.b2 = np.zeros((n_y, 1))

    def forward(self, X):
        self.cache = (X, np.tanh(self.W1 @ X + self.b1))
        self.Z2 = self.W2 @ self.cache[1] + self.b2
        return sigmoid(self.Z2)

    def backward(self, X, Y):
        m = X.shape[1]
        X, A1 = self.cache
        A2 = sigmoid(self.Z2)
        dZ2 = (A2 - Y) * A2 * (1 - A2)
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = (self.W2.T @ dZ2) * (1 - A1**2)
        dW1 = dZ1 @ X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        self.W1 -= self.alpha * dW1
        self.b1 -= self.alpha * db1
        self.W2 -= self.alpha * dW2
        self.b2 -= self.alpha * db2


class Swapped(Summed):
    """Each layer's slope is the other layer's activation's."""

    def back_prop(self, X, Y):
        dZ2 = (self.A2 - Y) * sigmoid_grad(self.Z2)
        dZ1 = np.dot(dZ2, self.W2.T) * softplus_grad(self.Z1)
        self.W1 -= self.learning_rate * X.T.dot(dZ1)
        self.b1 -= self.learning_rate * dZ1.sum(axis=0, keepdims=True)
        self.W2 -= self.learning_rate * np.dot(self.A1.T, dZ2)
        self.b2 -= self.learning_rate * dZ2.sum(axis=0, keepdims=True)


class TanhHidden(Summed):
    """Right for its own network, whose hidden units are tanh."""

    def forward_prop(self, X):
        self.Z1 = np.dot(X, self.W1) + self.b1
        self.A1 = np.tanh(self.Z1)
        self.Z2 = np.dot(self.A1, self.W2) + self.b2
        self.A2 = softplus(self.Z2)
        return self.A2

    def back_prop(self, X, Y):
        dZ2 = (self.A2 - Y) * softplus_grad(self.Z2)
        dZ1 = np.dot(dZ2, self.W2.T) * (1 - self.A1**2)
        self.W1 -= self.learning_rate * X.T.dot(dZ1)
        self.b1 -= self.learning_rate * dZ1.sum(axis=0, keepdims=True)
        self.W2 -= self.learning_rate * np.dot(self.A1.T, dZ2)
        self.b2 -= self.learning_rate * dZ2.sum(axis=0, keepdims=True)


class TanhFlat(TanhHidden):
    """The same, its forward pass returning one flat vector of outputs."""

    def forward_prop(self, X):
        return super().forward_prop(X).ravel()


class ReadOnly(Summed):
    """Its arrays are properties without a setter: nothing can put other weights into it."""

    W1 = property(lambda self: self._W1)

    def __init__(self, sizes):
        self.learning_rate = 0.01
        self._W1 = np.random.randn(sizes[0], sizes[1])
        self.b1 = np.ones((1, sizes[1]))
        self.W2 = np.random.randn(sizes[1], sizes[2])
        self.b2 = np.ones((1, sizes[2]))


class Broken(Summed):
    def back_prop(self, X, Y):
        raise RuntimeError("not written yet")


net = Summed((1, 4, 1))
for epoch in range(10**9):
    print(net.forward_prop(np.array([[1.0]])))
