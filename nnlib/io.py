"""Save a trained :class:`~nnlib.model.Sequential` to ``.npz`` and load it back.

The file is an ordinary numpy ``.npz`` archive holding only plain arrays, read and
written with ``allow_pickle=False``, so loading a file can never run code:

* ``__nnlib_architecture__``: a 0-d unicode array with a JSON description, e.g.
  ``{"format": "nnlib.Sequential", "version": 1, "modules": [{"type": "Linear",
  "n_in": 2, "n_out": 8, "dtype": "float64"}, {"type": "ReLU"}, ...]}``;
* ``layer{i}.W`` (n_in, n_out) and ``layer{i}.b`` (n_out,) for each ``Linear`` at
  position ``i`` in ``model.modules``.

:func:`save` is atomic: it writes a temporary file in the same directory, flushes
and fsyncs it, then renames it over ``path`` with ``os.replace`` (and fsyncs the
directory), so a save that fails or is killed half-way leaves the previous file at
``path`` whole (a killed save may leave its temporary ``.<name>.<random>.tmp`` file
behind; a failed one removes it).

:func:`load` treats every file as hostile. Before it builds anything it checks: that
the file is a zip archive of uncompressed ``.npy`` members only (so no member can
claim more memory than the file's own size), each member's header (a float32 or
float64 array, or the unicode description; never an object array), the description
(known module types, positive integer widths), that the arrays are exactly those
described with the described shapes, that consecutive widths chain, that every
layer has the same dtype, and that every weight is finite. It rebuilds the model
from an explicit registry of known module types (never by importing or evaluating a
name found in the file).

Chapter: Softmax and cross-entropy (saving the trained digit classifier).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import zipfile
import zlib

import numpy as np

from .activations import ReLU, Sigmoid, Softmax, Tanh
from .layers import Linear
from .model import Sequential

ARCHITECTURE_KEY = "__nnlib_architecture__"
FORMAT_NAME = "nnlib.Sequential"
FORMAT_VERSION = 1

#: The parameter-free modules a file may name, by the exact name it uses.
_ACTIVATIONS = {"ReLU": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh, "Softmax": Softmax}
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
# What np.load and zipfile raise on a file that is not a readable .npz of plain arrays.
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)
_PLAIN_ARRAYS_ONLY = "it must be an .npz of plain arrays (pickled objects are never loaded)"


def save(model: Sequential, path) -> None:
    """Write ``model``'s architecture and weights to the ``.npz`` file ``path``.

    The file is written at exactly ``path`` (no ``.npz`` is appended). Gradients and
    what ``forward`` kept are not saved: only what :func:`load` needs to predict.

    Shapes: stores ``layer{i}.W`` (n_in, n_out) and ``layer{i}.b`` (n_out,) for each
    ``Linear`` at index ``i``, in the layer's dtype (float32 or float64).

    Chapter: Softmax and cross-entropy.

    Parameters
    ----------
    model : Sequential
        Made only of ``Linear``, ``ReLU``, ``Sigmoid``, ``Tanh`` and ``Softmax``;
        anything else raises ``TypeError`` (the file could not describe it). Its
        weights must be finite and its widths must chain (:func:`load` would refuse
        the file otherwise): checked before anything is written.
    path : str or os.PathLike
        Written atomically (see the module docstring): the previous file at ``path``,
        if any, stays whole until the new one replaces it in a single rename.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be an nnlib Sequential, got {type(model).__name__}")
    target = _path(path)
    modules, arrays = [], {}
    for i, module in enumerate(model.modules):
        kind = type(module)
        if kind is Linear:
            W, b = module.W, module.b  # (n_in, n_out), (n_out,)
            if (
                W.dtype.name not in _DTYPES
                or b.dtype != W.dtype
                or W.ndim != 2
                or b.shape != (W.shape[1],)
            ):
                raise ValueError(
                    f"model.modules[{i}] is a Linear with W {W.shape} {W.dtype} and "
                    f"b {b.shape} {b.dtype}; expected W (n_in, n_out) and b (n_out,) "
                    f"of one dtype, float32 or float64"
                )
            n_in, n_out = W.shape
            modules.append({"type": "Linear", "n_in": n_in, "n_out": n_out, "dtype": W.dtype.name})
            arrays[f"layer{i}.W"] = W
            arrays[f"layer{i}.b"] = b
        elif _ACTIVATIONS.get(kind.__name__) is kind:
            modules.append({"type": kind.__name__})
        else:
            known = ", ".join(["Linear", *_ACTIVATIONS])
            raise TypeError(
                f"cannot save model.modules[{i}] of type {kind.__name__}: "
                f"the file format knows only {known}"
            )
    _check_layers("cannot save model", modules, arrays, where=lambda i: f"model.modules[{i}]")
    description = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "modules": modules}
    arrays[ARCHITECTURE_KEY] = np.array(json.dumps(description))  # 0-d unicode array
    _write_atomically(target, arrays)


def _path(path) -> str:
    """``path`` as a str, refusing what ``open`` would take for something else (an int
    is a file descriptor, bytes a different path type)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must name a file with a str, got {type(path).__name__}")
    return path


def _write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the ``.npz`` to a temporary file beside ``path``, then rename it over ``path``."""
    path = os.path.realpath(path)  # a symlink stays a symlink; its target is replaced
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # keep an existing file's mode
    except FileNotFoundError:
        mode = None
    # O_EXCL: never an existing file; mode 0o666 minus the umask, as open(path, "w") gives.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())  # the data are on disk before the rename
        os.replace(temporary, path)
    except BaseException:  # an error, a full disk, a KeyboardInterrupt: path is untouched
        try:
            os.remove(temporary)
        except FileNotFoundError:  # pragma: no cover - removed by someone else
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; where a directory cannot be opened or synced, skip it."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def load(path) -> Sequential:
    """Read a model written by :func:`save` and return it as a new ``Sequential``.

    Every ``Linear`` gets its own copy of the stored ``W`` and ``b`` (zero gradients).
    Anything that is not such a file raises ``ValueError`` naming ``path`` and the
    problem: a pickle or an object array (refused unread), a plain ``.npy``, a
    compressed or non-array member, a missing or malformed description, an unknown
    module type, a missing, extra or misshapen array, a non-float array, widths that
    do not chain, layers of two dtypes, non-finite weights. A missing file raises
    ``FileNotFoundError`` as usual; a ``path`` that is not a str or PathLike,
    ``TypeError``.

    Shapes: each ``Linear`` i gets W (n_in, n_out) and b (n_out,) as described.

    Chapter: Softmax and cross-entropy.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Sequential
    """
    path = _path(path)
    arrays = _read_arrays(path)
    if ARCHITECTURE_KEY not in arrays:
        raise ValueError(f"{path}: not an nnlib model: no '{ARCHITECTURE_KEY}' entry")
    descriptions = _parse_architecture(path, arrays.pop(ARCHITECTURE_KEY))

    expected = {
        f"layer{i}.{name}"
        for i, d in enumerate(descriptions)
        if d["type"] == "Linear"
        for name in ("W", "b")
    }
    if set(arrays) != expected:
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise ValueError(
            f"{path}: the arrays do not match the architecture: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    for i, d in enumerate(descriptions):
        if d["type"] != "Linear":
            continue
        dtype = _DTYPES[d["dtype"]]
        for name, shape in (("W", (d["n_in"], d["n_out"])), ("b", (d["n_out"],))):
            stored = arrays[f"layer{i}.{name}"]
            if stored.shape != shape or stored.dtype != dtype:
                raise ValueError(
                    f"{path}: layer{i}.{name} must have shape {shape} and dtype {dtype} "
                    f"as described, got shape {stored.shape} and dtype {stored.dtype}"
                )
    _check_layers(path, descriptions, arrays, where=lambda i: f"layer{i}")
    modules = []
    for i, d in enumerate(descriptions):
        if d["type"] != "Linear":
            modules.append(_ACTIVATIONS[d["type"]]())
            continue
        # Checked first, built second: the described sizes are those of arrays that
        # exist, so a hostile description cannot make us allocate a huge layer.
        layer = Linear(d["n_in"], d["n_out"], rng=np.random.default_rng(0), dtype=d["dtype"])
        layer.W[...] = arrays[f"layer{i}.W"]  # copy into the layer's own (n_in, n_out)
        layer.b[...] = arrays[f"layer{i}.b"]  # and (n_out,) arrays
        modules.append(layer)
    return Sequential(*modules)


def _check_layers(source, descriptions: list[dict], arrays: dict, *, where) -> None:
    """Widths that chain, one dtype, finite weights: what save and load both require.

    ``source`` starts each message (the path, or "model"); ``where(i)`` names layer i.
    """
    width = dtype = None
    for i, d in enumerate(descriptions):
        if d["type"] != "Linear":
            continue
        if width is not None and d["n_in"] != width:
            raise ValueError(
                f"{source}: {where(i)} takes inputs of width {d['n_in']}, but the layer "
                f"before it gives width {width}: the widths do not chain"
            )
        if dtype is not None and d["dtype"] != dtype:
            raise ValueError(
                f"{source}: {where(i)} has dtype {d['dtype']}, but the layers before it "
                f"have dtype {dtype}: a model has one dtype"
            )
        width, dtype = d["n_out"], d["dtype"]
        for name in ("W", "b"):
            array = arrays[f"layer{i}.{name}"]
            if not np.isfinite(array).all():
                bad = int(array.size - np.count_nonzero(np.isfinite(array)))
                raise ValueError(
                    f"{source}: {where(i)}.{name} contains {bad} non-finite value(s) "
                    f"(nan or inf): such a model predicts nothing"
                )


def _read_arrays(path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, each header checked before it is read.

    Refused: anything that is not a zip archive (a pickle, a plain ``.npy``, text), a
    compressed, encrypted, duplicated or non-``.npy`` member, and a member whose header
    is not a float32/float64 array or a unicode string of exactly the member's size.
    """

    def refuse(problem: str) -> _Refused:
        return _Refused(f"{path}: not an nnlib model file: {problem}")

    with open(path, "rb") as file:  # ours to close, whatever zipfile makes of it
        try:
            return _read_members(file, refuse)
        except _Refused as error:
            raise ValueError(str(error)) from None
        except _READ_ERRORS as error:
            raise ValueError(
                f"{path}: not an nnlib model file: {_PLAIN_ARRAYS_ONLY}: {error}"
            ) from error


class _Refused(Exception):
    """A refusal of :func:`_read_arrays`, kept apart from what numpy and zipfile raise."""


def _read_members(file, refuse) -> dict[str, np.ndarray]:
    """Check every member's header, then read the arrays (see :func:`_read_arrays`)."""
    if file.read(6) == b"\x93NUMPY":
        raise refuse("it holds a single .npy array, not an .npz archive")
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        for member in members:
            _check_member(member, names, archive, refuse)
        arrays = {}
        for member in members:
            with archive.open(member) as stream:
                arrays[member.filename[: -len(".npy")]] = np.lib.format.read_array(
                    stream, allow_pickle=False
                )
        return arrays


def _check_member(member: zipfile.ZipInfo, names: list[str], archive, refuse) -> None:
    """Refuse a member that is not a plain, uncompressed ``.npy`` of an allowed dtype."""
    name = member.filename
    if not name.endswith(".npy"):
        raise refuse(f"member {name!r} is not a .npy array")
    if names.count(name) > 1:
        raise refuse(f"member {name!r} appears more than once")
    if member.flag_bits & 0x1:
        raise refuse(f"member {name!r} is encrypted")
    if member.compress_type != zipfile.ZIP_STORED:
        raise refuse(f"member {name!r} is compressed; nnlib.save writes uncompressed arrays")
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"format version {version}, not 1.0 or 2.0")
        except ValueError as error:  # raw bytes, a broken header
            raise refuse(f"member {name!r} is not a .npy array: {error}") from None
        header = stream.tell()
    if dtype.hasobject:
        raise refuse(
            f"member {name!r} holds dtype {dtype}: Object arrays (pickled objects) are "
            f"never loaded"
        )
    if dtype not in _DTYPES.values() and name != ARCHITECTURE_KEY + ".npy":
        raise refuse(f"member {name!r} has dtype {dtype}; weights must be float32 or float64")
    size = header + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size != member.file_size:
        raise refuse(
            f"member {name!r} declares shape {shape} of {dtype} ({size} bytes with its "
            f"header) but holds {member.file_size} bytes"
        )


def _parse_architecture(path, stored: np.ndarray) -> list[dict]:
    """Check the JSON description and return its list of module descriptions."""

    def bad(problem: str) -> ValueError:
        return ValueError(f"{path}: invalid '{ARCHITECTURE_KEY}': {problem}")

    if stored.ndim != 0 or stored.dtype.kind != "U":
        raise bad(
            f"expected a 0-d unicode array, got dtype {stored.dtype} and shape {stored.shape}"
        )
    try:
        description = json.loads(str(stored))
    except (json.JSONDecodeError, RecursionError) as error:  # nesting too deep: Recursion
        raise bad(f"not valid JSON ({error})") from error
    if not isinstance(description, dict) or description.get("format") != FORMAT_NAME:
        raise bad(f"'format' must be {FORMAT_NAME!r}")
    version = description.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # True == 1 in Python
        raise bad(
            f"unsupported version {description.get('version')!r}; this nnlib "
            f"reads version {FORMAT_VERSION}"
        )
    modules = description.get("modules")
    if not isinstance(modules, list) or not modules:
        raise bad("'modules' must be a non-empty list")
    for i, d in enumerate(modules):
        kind = d.get("type") if isinstance(d, dict) else None
        if not isinstance(kind, str):
            raise bad(f"module {i} must be an object with a string 'type', got {d!r}")
        if kind in _ACTIVATIONS:
            if d != {"type": kind}:
                raise bad(f"module {i} ({kind}) takes no settings, got {d}")
        elif kind == "Linear":
            if set(d) != {"type", "n_in", "n_out", "dtype"}:
                raise bad(f"module {i} (Linear) needs exactly n_in, n_out, dtype; got {d}")
            for key in ("n_in", "n_out"):
                if type(d[key]) is not int or d[key] < 1:
                    raise bad(f"module {i} (Linear) {key} must be a positive int, got {d[key]!r}")
            if not isinstance(d["dtype"], str) or d["dtype"] not in _DTYPES:
                raise bad(
                    f"module {i} (Linear) dtype must be float32 or float64, got {d['dtype']!r}"
                )
        else:
            known = ", ".join(["Linear", *_ACTIVATIONS])
            raise bad(f"module {i} has unknown type {kind!r} (known: {known})")
    return modules
