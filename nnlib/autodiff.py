r"""Reverse-mode automatic differentiation over the book's operations.

A :class:`Node` holds a numpy array (rows are samples), the operation and the input
nodes that produced it, and, after :meth:`Node.backward`, its gradient ``grad`` = ∂L/∂node
with the shape of the value. Each operation comes with its vector–Jacobian product
(VJP): given the upstream gradient ``G`` of its output, the gradients of its inputs.
They are the book's equations:

* ``matmul(A, B)``: ``A @ B``; VJP ``G Bᵀ`` and ``Aᵀ G`` (the book's dX and dW);
* ``add_bias(Z, b)``: ``Z + b`` on every row; VJP ``G`` and ``1ᵀ G`` (db);
* ``add``, ``sub``: ``A ± B`` of one shape; VJP ``G`` and ``± G``;
* ``mul(A, B)``: ``A ⊙ B``; VJP ``G ⊙ B`` and ``G ⊙ A``;
* ``scale(A, c)``: ``c A`` for a number ``c``; VJP ``c G``;
* ``relu``, ``sigmoid``, ``tanh``: element-wise; VJP ``G ⊙ g′(Z)``;
* ``sum_entries``, ``mean``: a scalar; VJP ``G`` spread over the shape (÷ size);
* ``softmax_cross_entropy(Z, Y)``: mean cross-entropy; VJP ``G (softmax(Z) − Y)/m``;
* ``bce_with_logits(Z, Y)``: mean logistic loss; VJP ``G (σ(Z) − Y)/size``.

:meth:`Node.backward` visits the graph in reverse topological order, so a node's
gradient is complete (every path through it added up) before it is passed on, and it
**adds** into ``grad``: a value used twice gets the sum of both contributions.

Rules: ``backward`` starts from a scalar (a node of shape ``()``); it refuses to run on a
graph whose nodes already hold gradients (call :meth:`Node.zero_grad` first, which
clears them), so a second call never silently doubles the gradients. Shapes are checked
when an operation is built, with messages that name them; there is no silent
broadcasting except the bias of ``add_bias``. float32 stays float32; mixing float32 and
float64 is refused. :func:`jvp` runs forward mode over the same graph, for comparison.

Chapter: *Backpropagation for any graph* builds and checks this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._validate import FLOAT_DTYPES

VJP = Callable[[np.ndarray], tuple[np.ndarray, ...]]
JVP = Callable[[Sequence[np.ndarray]], np.ndarray]


class Node:
    """A value in a computational graph, with the operation that made it.

    Shapes: ``value`` any float32/float64 array (a Python number becomes a float64
    scalar); ``grad`` has the shape of ``value`` once :meth:`backward` has run, else
    is ``None``.

    A leaf is made directly, ``Node(W, name="W")``; ``Node(X, constant=True)`` marks
    data that needs no gradient (its ``grad`` stays ``None``, so it may serve several
    graphs). Every other node is made by an operation
    of this module (``A @ B``, ``A + B``, ``A - B``, ``A * B`` and ``c * A`` with a
    number ``c`` call :func:`matmul`, :func:`add`, :func:`sub`, :func:`mul` and
    :func:`scale`).
    """

    def __init__(self, value, *, name: str = "", constant: bool = False) -> None:
        value = _as_float_array(value, "value")
        if not np.isfinite(value).all():
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ValueError(f"value contains {bad} non-finite value(s) (nan or inf)")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if not isinstance(constant, bool):
            raise TypeError(f"constant must be True or False, got {type(constant).__name__}")
        self.value = value
        self.name = name
        self.op = "leaf"
        self.parents: tuple[Node, ...] = ()
        self.grad: np.ndarray | None = None
        self.vjp: VJP | None = None
        self.jvp: JVP | None = None
        self.saved: tuple[np.ndarray, ...] = ()
        self.constant = constant

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"Node({self.op}{label}, shape={self.shape}, dtype={self.value.dtype})"

    # Python operators, for formulas that read like the book's.
    def __matmul__(self, other: Node) -> Node:
        return matmul(self, other)

    def __add__(self, other: Node) -> Node:
        return add(self, other)

    def __sub__(self, other: Node) -> Node:
        return sub(self, other)

    def __mul__(self, other) -> Node:
        if isinstance(other, Node):
            return mul(self, other)
        return scale(self, other)

    __rmul__ = __mul__

    def backward(self) -> None:
        """Fill ``grad`` = ∂self/∂node for every node of the graph below this one.

        Shapes: ``self`` must be a scalar node (shape ``()``); each ``grad`` gets the
        shape of its node's value.

        Raises ``ValueError`` for a non-scalar root and ``RuntimeError`` when the
        graph already holds gradients from an earlier ``backward``.
        """
        if self.shape != ():
            raise ValueError(
                f"backward starts from a scalar loss of shape (), got a node of shape "
                f"{self.shape}; reduce it first, e.g. with mean(node) or sum_entries(node)"
            )
        order = [n for n in topological_order(self) if not n.constant]
        used = [n for n in order if n.grad is not None]
        if used:
            raise RuntimeError(
                f"backward already ran on this graph ({len(used)} nodes hold a gradient, "
                f"e.g. {used[0]!r}); call zero_grad() on the root first, or the gradients "
                f"would be added twice"
            )
        for node in order:
            node.grad = np.zeros_like(node.value)
        self.grad = np.ones_like(self.value)
        for node in reversed(order):  # the root first, every leaf last
            if node.vjp is None:
                continue
            for parent, g in zip(node.parents, node.vjp(node.grad), strict=True):
                if not parent.constant:
                    parent.grad += g  # add, never assign: a node used twice gets both

    def zero_grad(self) -> None:
        """Clear ``grad`` (back to ``None``) on every node of the graph below this one."""
        for node in topological_order(self):
            node.grad = None


def topological_order(root: Node) -> list[Node]:
    """Every node that ``root`` depends on, each after all of its inputs.

    Shapes: none (a list of nodes, leaves first, ``root`` last). Iterative, so a deep
    graph does not hit Python's recursion limit.
    """
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    order: list[Node] = []
    state: dict[int, bool] = {}  # id -> finished?
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            state[id(node)] = True
            order.append(node)
            continue
        if id(node) in state:
            continue
        state[id(node)] = False
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in state:
                stack.append((parent, False))
    return order


def kept_bytes(root: Node) -> int:
    """Bytes the graph keeps for ``backward`` (the tape): every value, leaves included,
    and every array an operation saved for its VJP (``node.saved``), each array once.

    Shapes: none -> int. The chapter compares this with *ReLU and mean squared error*
    and with a measurement by ``tracemalloc``.
    """
    arrays: dict[int, np.ndarray] = {}
    for node in topological_order(root):
        for a in (node.value, *node.saved):
            arrays[id(a)] = a
    return int(np.sum([a.nbytes for a in arrays.values()], dtype=np.int64))


def jvp(root: Node, tangents: dict[Node, np.ndarray]) -> np.ndarray:
    """Forward mode: the directional derivative of ``root`` along ``tangents``.

    Shapes: ``tangents`` maps leaf nodes to arrays of their shapes (missing leaves
    get zero); the result has the shape of ``root``. One pass gives the derivative
    along one direction, so a full gradient of a scalar with respect to n numbers
    needs n passes, against one :meth:`Node.backward`.
    """
    order = topological_order(root)
    dots: dict[int, np.ndarray] = {}
    for node in order:
        if node.jvp is None:
            t = tangents.get(node)
            if t is None:
                t = np.zeros_like(node.value)
            elif np.shape(t) != node.shape:
                raise ValueError(
                    f"tangent of {node!r} must have shape {node.shape}, got {np.shape(t)}"
                )
            dots[id(node)] = np.asarray(t, dtype=node.value.dtype)
        else:
            dots[id(node)] = node.jvp([dots[id(p)] for p in node.parents])
    return dots[id(root)]


# ---------------------------------------------------------------- helpers


def _as_float_array(value, name: str) -> np.ndarray:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, np.generic) and value.dtype in FLOAT_DTYPES:
        return np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of float32 or float64 or a Python number, "
            f"got {type(value).__name__}"
        )
    if value.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {value.dtype}")
    return value


def _node(x, name: str) -> Node:
    if not isinstance(x, Node):
        raise TypeError(f"{name} must be a Node, got {type(x).__name__}; wrap arrays in Node()")
    return x


def _same_dtype(op: str, *nodes: Node) -> None:
    dtypes = {n.value.dtype for n in nodes}
    if len(dtypes) > 1:
        raise TypeError(
            f"{op}: inputs mix dtypes {sorted(str(d) for d in dtypes)}; nnlib does not "
            f"upcast silently"
        )


def operation(
    op: str,
    value: np.ndarray,
    inputs: tuple[Node, ...],
    vjp: VJP,
    jvp: JVP,
    saved: tuple[np.ndarray, ...] = (),
) -> Node:
    """The output node of an operation: how every operation here is built, and how a
    reader adds one.

    Shapes: ``value`` the output array; ``vjp(G)`` takes the upstream ``G`` of the
    value's shape and returns one array per input, each of that input's shape;
    ``jvp(tangents)`` takes one tangent per input and returns the output's tangent;
    ``saved`` lists any extra arrays the VJP reads (counted by :func:`kept_bytes`).
    """
    if not isinstance(op, str) or not op:
        raise TypeError(f"op must be a non-empty str, got {op!r}")
    inputs = tuple(_node(x, f"inputs[{i}]") for i, x in enumerate(inputs))
    if not (callable(vjp) and callable(jvp)):
        raise TypeError("vjp and jvp must be callables")
    out = Node.__new__(Node)  # an operation's output: its inputs were checked already
    out.value, out.name, out.grad, out.constant = value, "", None, False
    out.op, out.parents, out.vjp, out.jvp, out.saved = op, inputs, vjp, jvp, tuple(saved)
    return out


# ---------------------------------------------------------------- operations


def matmul(A: Node, B: Node) -> Node:
    """``A @ B``; VJP ``(G Bᵀ, Aᵀ G)``, the book's dX = dZ Wᵀ and dW = Xᵀ dZ.

    Shapes: A (m, n), B (n, k) -> (m, k).
    """
    A, B = _node(A, "A"), _node(B, "B")
    if A.value.ndim != 2 or B.value.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"matmul needs A (m, n) and B (n, k), got A {A.shape} and B {B.shape}")
    _same_dtype("matmul", A, B)
    a, b = A.value, B.value
    return operation(
        "matmul",
        a @ b,  # (m, n) @ (n, k)
        (A, B),
        lambda G: (G @ b.T, a.T @ G),  # (m, k)(k, n), (n, m)(m, k)
        lambda t: t[0] @ b + a @ t[1],
    )


def add_bias(Z: Node, b: Node) -> Node:
    """``Z + b`` with ``b`` added to every row; VJP ``(G, 1ᵀ G)``: the bias sums over rows.

    Shapes: Z (m, n), b (n,) -> (m, n).
    """
    Z, b = _node(Z, "Z"), _node(b, "b")
    if Z.value.ndim != 2 or b.shape != (Z.shape[1],):
        raise ValueError(f"add_bias needs Z (m, n) and b (n,), got Z {Z.shape} and b {b.shape}")
    _same_dtype("add_bias", Z, b)
    return operation(
        "add_bias",
        Z.value + b.value,
        (Z, b),
        lambda G: (G, G.sum(axis=0)),  # the broadcast is undone by a sum over the rows
        lambda t: t[0] + t[1],
    )


def _same_shape(op: str, A: Node, B: Node) -> None:
    if A.shape != B.shape:
        raise ValueError(
            f"{op} needs two nodes of the same shape (no broadcasting; use add_bias for a "
            f"bias), got {A.shape} and {B.shape}"
        )
    _same_dtype(op, A, B)


def add(A: Node, B: Node) -> Node:
    """``A + B``; VJP ``(G, G)``. Shapes: A and B the same shape -> that shape."""
    A, B = _node(A, "A"), _node(B, "B")
    _same_shape("add", A, B)
    return operation("add", A.value + B.value, (A, B), lambda G: (G, G), lambda t: t[0] + t[1])


def sub(A: Node, B: Node) -> Node:
    """``A − B``; VJP ``(G, −G)``. Shapes: A and B the same shape -> that shape."""
    A, B = _node(A, "A"), _node(B, "B")
    _same_shape("sub", A, B)
    return operation("sub", A.value - B.value, (A, B), lambda G: (G, -G), lambda t: t[0] - t[1])


def mul(A: Node, B: Node) -> Node:
    """Element-wise ``A ⊙ B``; VJP ``(G ⊙ B, G ⊙ A)``. Shapes: same shape -> that shape."""
    A, B = _node(A, "A"), _node(B, "B")
    _same_shape("mul", A, B)
    a, b = A.value, B.value
    return operation(
        "mul", a * b, (A, B), lambda G: (G * b, G * a), lambda t: t[0] * b + a * t[1]
    )


def scale(A: Node, c: float) -> Node:
    """``c A`` for a Python number ``c``; VJP ``c G``. Shapes: any -> the same."""
    A = _node(A, "A")
    if isinstance(c, bool) or not isinstance(c, int | float | np.floating | np.integer):
        raise TypeError(f"c must be a number, got {type(c).__name__}")
    c = float(c)
    if not np.isfinite(c):
        raise ValueError(f"c must be finite, got {c}")
    k = A.value.dtype.type(c)
    return operation("scale", k * A.value, (A,), lambda G: (k * G,), lambda t: k * t[0])


def _elementwise(op: str, Z: Node, value: np.ndarray, local: np.ndarray) -> Node:
    # local = the derivative of the activation at Z, element by element
    return operation(
        op, value, (Z,), lambda G: (G * local,), lambda t: t[0] * local, saved=(local,)
    )


def relu(Z: Node) -> Node:
    """``max(0, Z)``; VJP ``G ⊙ 1[Z > 0]`` (0 at the kink). Shapes: any -> the same."""
    Z = _node(Z, "Z")
    return _elementwise("relu", Z, np.maximum(Z.value, 0), (Z.value > 0).astype(Z.value.dtype))


def sigmoid(Z: Node) -> Node:
    """``σ(Z)``; VJP ``G ⊙ σ(Z)(1 − σ(Z))``. Shapes: any -> the same."""
    from .activations import sigmoid as _sigmoid

    Z = _node(Z, "Z")
    s = _sigmoid(Z.value)
    return _elementwise("sigmoid", Z, s, s * (1 - s))


def tanh(Z: Node) -> Node:
    """``tanh Z``; VJP ``G ⊙ (1 − tanh² Z)``. Shapes: any -> the same."""
    Z = _node(Z, "Z")
    t = np.tanh(Z.value)
    return _elementwise("tanh", Z, t, 1 - t * t)


def sum_entries(A: Node) -> Node:
    """Σ of all entries; VJP ``G 1`` (the scalar ``G`` spread over A's shape).

    Shapes: any -> ().
    """
    A = _node(A, "A")
    ones = np.ones_like(A.value)
    return operation(
        "sum_entries",
        np.asarray(A.value.sum()),
        (A,),
        lambda G: (G * ones,),
        lambda t: np.asarray(t[0].sum()),
        saved=(ones,),
    )


def mean(A: Node) -> Node:
    """Mean of all entries; VJP ``G 1 / size``. Shapes: any (non-empty) -> ()."""
    A = _node(A, "A")
    if A.value.size == 0:
        raise ValueError(f"mean of an empty node of shape {A.shape}")
    share = np.full_like(A.value, 1.0 / A.value.size)
    return operation(
        "mean",
        np.asarray(A.value.mean()),
        (A,),
        lambda G: (G * share,),
        lambda t: np.asarray((t[0] * share).sum()),
        saved=(share,),
    )


def _targets(Z: Node, Y, op: str) -> np.ndarray:
    """Targets as rows of probabilities of Z's shape and dtype (labels become one-hot)."""
    m = Z.shape[0]
    if isinstance(Y, Node):
        Y = Y.value
    Y = np.asarray(Y)
    if Y.ndim == 1 and np.issubdtype(Y.dtype, np.integer) and op == "softmax_cross_entropy":
        K = Z.shape[1]
        if Y.shape != (m,):
            raise ValueError(f"{op}: labels Y must have shape ({m},), got {Y.shape}")
        if Y.size and (Y.min() < 0 or Y.max() >= K):
            raise ValueError(f"{op}: labels Y must lie in [0, {K}), got {Y.min()}..{Y.max()}")
        onehot = np.zeros_like(Z.value)
        onehot[np.arange(m), Y] = 1
        return onehot
    if Y.shape != Z.shape:
        raise ValueError(f"{op}: targets Y must have the shape of the logits, {Z.shape}, "
                         f"got {Y.shape}")
    if Y.dtype != Z.value.dtype:
        raise TypeError(f"{op}: targets Y have dtype {Y.dtype} but the logits {Z.value.dtype}")
    return Y


def softmax_cross_entropy(Z: Node, Y) -> Node:
    """Mean cross-entropy of ``softmax(Z)`` against ``Y``; VJP ``G (softmax(Z) − Y)/m``.

    Shapes: Z (m, K) logits; Y integer labels (m,) in [0, K) or rows (m, K) summing to
    1 -> (). Computed from ``log_softmax``, so stable for any finite logits.
    """
    from .activations import log_softmax

    Z = _node(Z, "Z")
    if Z.value.ndim != 2 or Z.shape[0] == 0:
        raise ValueError(f"softmax_cross_entropy needs logits Z (m, K), m ≥ 1, got {Z.shape}")
    T = _targets(Z, Y, "softmax_cross_entropy")
    m = Z.shape[0]
    logp = log_softmax(Z.value)
    delta = (np.exp(logp) - T) / m  # (m, K), the fused gradient
    value = np.asarray(-(T * logp).sum() / m, dtype=Z.value.dtype)
    return operation(
        "softmax_cross_entropy",
        value,
        (Z,),
        lambda G: (G * delta,),
        lambda t: np.asarray((delta * t[0]).sum()),
        saved=(delta,),
    )


def bce_with_logits(Z: Node, Y) -> Node:
    """Mean logistic loss of ``σ(Z)`` against 0/1 targets; VJP ``G (σ(Z) − Y)/size``.

    Shapes: Z (m, 1) (or any shape) logits; Y of Z's shape and dtype -> ().
    Computed as ``max(z, 0) − z y + log(1 + e^{−|z|})``, stable for any finite logit.
    """
    from .activations import sigmoid as _sigmoid

    Z = _node(Z, "Z")
    if Z.value.size == 0:
        raise ValueError(f"bce_with_logits needs at least one logit, got shape {Z.shape}")
    T = _targets(Z, Y, "bce_with_logits")
    z = Z.value
    per = np.maximum(z, 0) - z * T + np.log1p(np.exp(-np.abs(z)))
    delta = (_sigmoid(z) - T) / z.size
    return operation(
        "bce_with_logits",
        np.asarray(per.mean(), dtype=z.dtype),
        (Z,),
        lambda G: (G * delta,),
        lambda t: np.asarray((delta * t[0]).sum()),
        saved=(delta,),
    )
