"""Tests of nnlib.io: save/load round trips, and refusal of anything else."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nnlib import Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh, load, save
from nnlib.io import ARCHITECTURE_KEY


def make_model(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    model = Sequential(
        Linear(3, 5, rng=rng, dtype=dtype),
        ReLU(),
        Linear(5, 1, rng=rng, dtype=dtype),
        Sigmoid(),
    )
    for layer in (model.modules[0], model.modules[2]):  # non-zero biases, to be saved too
        layer.b[...] = rng.standard_normal(layer.b.shape).astype(dtype)
    return model


def linears(model):
    return [module for module in model.modules if isinstance(module, Linear)]


def write_npz(path, **arrays):
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def saved_arrays(model, tmp_path):
    """The arrays save() writes for ``model``, as a dict to tamper with."""
    path = tmp_path / "original.npz"
    save(model, path)
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def architecture(arrays):
    return json.loads(str(arrays[ARCHITECTURE_KEY]))


def with_architecture(arrays, description):
    return {**arrays, ARCHITECTURE_KEY: np.array(json.dumps(description))}


# --- round trips ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_gives_identical_predictions(tmp_path, dtype):
    model = make_model(dtype)
    path = tmp_path / "model.npz"
    save(model, path)
    loaded = load(path)

    X = np.random.default_rng(1).standard_normal((7, 3)).astype(dtype)
    assert [type(m) for m in loaded.modules] == [Linear, ReLU, Linear, Sigmoid]
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == dtype
    for original, copy in zip(linears(model), linears(loaded), strict=True):
        assert copy.W.dtype == dtype and copy.b.dtype == dtype
        np.testing.assert_array_equal(copy.W, original.W)
        np.testing.assert_array_equal(copy.b, original.b)
        assert (copy.n_in, copy.n_out) == (original.n_in, original.n_out)
        assert not copy.dW.any() and not copy.db.any()


def test_every_activation_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    model = Sequential(
        Linear(4, 6, rng=rng),
        Tanh(),
        Linear(6, 6, rng=rng),
        Sigmoid(),
        Linear(6, 3, rng=rng),
        ReLU(),
        Linear(3, 3, rng=rng),
        Softmax(),
    )
    save(model, tmp_path / "all.npz")
    loaded = load(str(tmp_path / "all.npz"))
    assert [type(m) for m in loaded.modules] == [type(m) for m in model.modules]
    X = rng.standard_normal((5, 4))
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_a_model_of_activations_only_round_trips(tmp_path):
    save(Sequential(ReLU()), tmp_path / "relu.npz")
    assert [type(m) for m in load(tmp_path / "relu.npz").modules] == [ReLU]


def test_loaded_arrays_are_copies(tmp_path):
    model = make_model()
    save(model, tmp_path / "model.npz")
    first, second = load(tmp_path / "model.npz"), load(tmp_path / "model.npz")
    for a, b, original in zip(linears(first), linears(second), linears(model), strict=True):
        assert not np.shares_memory(a.W, b.W) and not np.shares_memory(a.W, original.W)
        assert not np.shares_memory(a.b, b.b)
        a.W += 1.0  # changing one loaded model leaves the others alone
        assert not np.array_equal(a.W, b.W)
        np.testing.assert_array_equal(b.W, original.W)


def test_saving_is_a_snapshot(tmp_path):
    model = make_model()
    save(model, tmp_path / "model.npz")
    before = linears(model)[0].W.copy()
    linears(model)[0].W[...] = 0.0
    np.testing.assert_array_equal(linears(load(tmp_path / "model.npz"))[0].W, before)


def test_save_writes_exactly_the_given_path(tmp_path):
    path = tmp_path / "weights"  # no .npz suffix: none is appended
    save(make_model(), path)
    assert path.exists() and not (tmp_path / "weights.npz").exists()
    load(path)


def test_file_layout(tmp_path):
    arrays = saved_arrays(make_model(), tmp_path)
    assert set(arrays) == {ARCHITECTURE_KEY, "layer0.W", "layer0.b", "layer2.W", "layer2.b"}
    stored = arrays[ARCHITECTURE_KEY]
    assert stored.shape == () and stored.dtype.kind == "U"
    assert architecture(arrays) == {
        "format": "nnlib.Sequential",
        "version": 1,
        "modules": [
            {"type": "Linear", "n_in": 3, "n_out": 5, "dtype": "float64"},
            {"type": "ReLU"},
            {"type": "Linear", "n_in": 5, "n_out": 1, "dtype": "float64"},
            {"type": "Sigmoid"},
        ],
    }
    assert arrays["layer0.W"].shape == (3, 5) and arrays["layer2.b"].shape == (1,)


# --- save refuses what the format cannot describe ----------------------------------


@pytest.mark.parametrize(
    "not_a_model", [Linear(2, 2, rng=np.random.default_rng(0)), [ReLU()], None]
)
def test_save_refuses_a_non_sequential(tmp_path, not_a_model):
    with pytest.raises(TypeError, match="model must be an nnlib Sequential"):
        save(not_a_model, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_save_refuses_unknown_modules(tmp_path):
    class Custom(ReLU):  # a subclass may behave differently: refused, not saved as ReLU
        pass

    model = Sequential(Linear(2, 2, rng=np.random.default_rng(0)), Custom())
    with pytest.raises(TypeError, match=r"model.modules\[1\] of type Custom"):
        save(model, tmp_path / "x.npz")


def test_save_refuses_nested_sequential(tmp_path):
    model = Sequential(Sequential(ReLU()))
    with pytest.raises(TypeError, match=r"model.modules\[0\] of type Sequential"):
        save(model, tmp_path / "x.npz")


def test_save_refuses_a_tampered_linear(tmp_path):
    model = make_model()
    model.modules[2].b = np.zeros(3)  # b no longer matches W's (5, 1)
    with pytest.raises(ValueError, match=r"model.modules\[2\] is a Linear"):
        save(model, tmp_path / "x.npz")


# --- load refuses anything that is not an nnlib model --------------------------------


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_payload_is_a_real_negative_control(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker))).close()
    assert marker.exists()  # unpickling really would run code


def test_plain_pickle_is_refused_without_running_it(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ValueError, match=r"model\.npz: not an nnlib model file.*pickled"):
        load(path)
    assert not marker.exists()


def test_object_array_inside_npz_is_refused_without_running_it(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "model.npz"
    write_npz(path, x=np.array([Payload(marker)], dtype=object))
    with pytest.raises(ValueError, match="not an nnlib model file.*Object arrays"):
        load(path)
    assert not marker.exists()


def test_pickled_architecture_entry_is_refused(tmp_path):
    arrays = saved_arrays(make_model(), tmp_path)
    arrays[ARCHITECTURE_KEY] = np.array([{"format": "nnlib.Sequential"}], dtype=object)
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="not an nnlib model file"):
        load(tmp_path / "bad.npz")


@pytest.mark.parametrize("content", [b"", b"hello, world\n", b"PK\x03\x04 truncated zip"])
def test_foreign_bytes_are_refused(tmp_path, content):
    path = tmp_path / "foreign.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="foreign.npz: not an nnlib model file"):
        load(path)


def test_truncated_model_file_is_refused(tmp_path):
    save(make_model(), tmp_path / "model.npz")
    content = (tmp_path / "model.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="cut.npz: not an nnlib model file"):
        load(tmp_path / "cut.npz")


def test_single_npy_is_refused(tmp_path):
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array, not an .npz"):
        load(tmp_path / "array.npy")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nowhere.npz")


def test_npz_without_architecture_is_refused(tmp_path):
    write_npz(tmp_path / "plain.npz", W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=f"plain.npz: not an nnlib model: no '{ARCHITECTURE_KEY}'"):
        load(tmp_path / "plain.npz")


def tampered(tmp_path, change):
    """Save a model, let ``change`` edit its description, write it back; return path."""
    arrays = saved_arrays(make_model(), tmp_path)
    description = architecture(arrays)
    change(description)
    path = tmp_path / "tampered.npz"
    write_npz(path, **with_architecture(arrays, description))
    return path


def set_module(i, value):
    def change(description):
        description["modules"][i] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_module(1, {"type": "Dropout"}), "module 1 has unknown type 'Dropout'"),
        (set_module(1, {"type": "__import__('os')"}), "unknown type"),
        (set_module(1, {"type": "relu"}), "unknown type 'relu'"),
        (set_module(1, {"type": ["ReLU"]}), "module 1 must be an object with a string 'type'"),
        (set_module(1, "ReLU"), "module 1 must be an object with a string 'type'"),
        (set_module(1, {"type": "ReLU", "inplace": True}), r"module 1 \(ReLU\) takes no settings"),
        (
            set_module(0, {"type": "Linear", "n_in": 3, "n_out": 5}),
            "needs exactly n_in, n_out, dtype",
        ),
        (
            set_module(0, {"type": "Linear", "n_in": 3.0, "n_out": 5, "dtype": "float64"}),
            "n_in must be a positive int",
        ),
        (
            set_module(0, {"type": "Linear", "n_in": 3, "n_out": 0, "dtype": "float64"}),
            "n_out must be a positive int",
        ),
        (
            set_module(0, {"type": "Linear", "n_in": True, "n_out": 5, "dtype": "float64"}),
            "n_in must be a positive int",
        ),
        (
            set_module(0, {"type": "Linear", "n_in": 3, "n_out": 5, "dtype": "float16"}),
            "dtype must be float32 or float64",
        ),
        (
            set_module(0, {"type": "Linear", "n_in": 3, "n_out": 5, "dtype": ["float64"]}),
            "dtype must be float32 or float64",
        ),
        (lambda d: d.update(format="other"), "'format' must be 'nnlib.Sequential'"),
        (lambda d: d.update(version=2), "unsupported version 2"),
        (lambda d: d.update(modules=[]), "'modules' must be a non-empty list"),
        (lambda d: d.update(modules={"0": {"type": "ReLU"}}), "'modules' must be a non-empty list"),
    ],
)
def test_bad_descriptions_are_refused(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        load(tampered(tmp_path, change))


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (np.array("{not json"), "not valid JSON"),
        (np.array("[1, 2]"), "'format' must be"),
        (np.array("[" * 100_000), "not valid JSON"),
        (np.array(["{}"]), "expected a 0-d unicode array"),
        (np.array(b"{}"), "expected a 0-d unicode array"),
    ],
)
def test_malformed_architecture_entry_is_refused(tmp_path, stored, message):
    arrays = saved_arrays(make_model(), tmp_path)
    arrays[ARCHITECTURE_KEY] = stored
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=f"bad.npz: invalid '{ARCHITECTURE_KEY}': {message}"):
        load(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    ("name", "array", "message"),
    [
        ("layer0.W", np.zeros((5, 3)), r"layer0.W must have shape \(3, 5\) and dtype float64"),
        ("layer2.b", np.zeros((1, 1)), r"layer2.b must have shape \(1,\)"),
        ("layer0.W", np.zeros((3, 5), dtype=np.float32), r"got shape \(3, 5\) and dtype float32"),
        ("layer0.b", np.zeros(5, dtype=np.int64), "dtype int64"),
    ],
)
def test_arrays_that_disagree_with_the_architecture_are_refused(tmp_path, name, array, message):
    arrays = saved_arrays(make_model(), tmp_path)
    arrays[name] = array
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "bad.npz")


def test_huge_described_layer_is_refused_before_allocating(tmp_path):
    path = tampered(
        tmp_path,
        set_module(0, {"type": "Linear", "n_in": 10**9, "n_out": 10**9, "dtype": "float64"}),
    )
    with pytest.raises(ValueError, match=r"layer0.W must have shape \(1000000000, 1000000000\)"):
        load(path)


def test_missing_array_is_refused(tmp_path):
    arrays = saved_arrays(make_model(), tmp_path)
    del arrays["layer2.W"]
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"missing \['layer2.W'\], unexpected none"):
        load(tmp_path / "bad.npz")


def test_extra_array_is_refused(tmp_path):
    arrays = saved_arrays(make_model(), tmp_path)
    arrays["layer1.W"] = np.zeros((5, 5))  # layer 1 is a ReLU: it has no weights
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"missing none, unexpected \['layer1.W'\]"):
        load(tmp_path / "bad.npz")


# --- atomic save: a failed or killed save never destroys the previous file ----------


# The child builds a model far larger than the one on disk, then saves it over it with
# nnlib.save or, as the negative control, with np.savez in place (what save used to do).
CHILD_PREAMBLE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import nnlib
    path, writer = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(1)
    big = nnlib.Sequential(nnlib.Linear(300, 300, rng=rng), nnlib.ReLU(),
                           nnlib.Linear(300, 2, rng=rng))

    def write():
        if writer == "nnlib.save":
            nnlib.save(big, path)
        else:  # in place, for the negative control
            with open(path, "wb") as file:
                np.savez(file, **{f"a{i}": p for i, (p, _) in enumerate(big.parameters())})
    """
)

# Pause after the second array is written (the first Linear's W and b, 720 kB), tell
# the parent, and wait on stdin: the parent kills the child at exactly that point.
KILL_CHILD = CHILD_PREAMBLE + textwrap.dedent(
    """
    import numpy.lib.format as npy_format
    write_array, written = npy_format.write_array, []

    def write_then_pause(*args, **kwargs):
        write_array(*args, **kwargs)
        written.append(1)
        if len(written) == 2:
            print("paused mid-write", flush=True)
            sys.stdin.read()

    npy_format.write_array = write_then_pause
    write()
    """
)

# A 64 kB limit on file size: the write fails with EFBIG (SIGXFSZ ignored, as a full
# disk fails with ENOSPC), and the child reports the errno.
FULL_DISK_CHILD = CHILD_PREAMBLE + textwrap.dedent(
    """
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE,
                       (64 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        write()
    except OSError as error:
        print("OSError", error.errno, flush=True)
        sys.exit(3)
    """
)


def run_child(code, path, writer, **popen):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path), writer],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, **popen,
    )


def assert_old_model_intact(path, old_bytes, old_model):
    assert path.read_bytes() == old_bytes  # bit for bit
    loaded = load(path)
    for original, copy in zip(linears(old_model), linears(loaded), strict=True):
        assert copy.W.tobytes() == original.W.tobytes()
        assert copy.b.tobytes() == original.b.tobytes()


@pytest.mark.parametrize("writer", ["nnlib.save", "in place"])
def test_save_killed_mid_write_leaves_the_previous_file_whole(tmp_path, writer):
    path = tmp_path / "model.npz"
    old_model = make_model()
    save(old_model, path)
    old_bytes = path.read_bytes()

    child = run_child(KILL_CHILD, path, writer)
    try:
        assert child.stdout.readline() == b"paused mid-write\n"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()

    if writer == "nnlib.save":
        assert_old_model_intact(path, old_bytes, old_model)
        # The temporary file of the killed save is left beside it, never at path.
        (left,) = [p.name for p in tmp_path.iterdir() if p.name != "model.npz"]
        assert left.startswith(".model.npz.") and left.endswith(".tmp")
        save(old_model, path)  # and it does not stand in the way of the next save
        assert path.read_bytes() == old_bytes
    else:  # negative control: writing in place destroys the old model
        assert path.read_bytes() != old_bytes
        with pytest.raises(ValueError, match="not an nnlib model file"):
            load(path)


@pytest.mark.parametrize("writer", ["nnlib.save", "in place"])
def test_save_on_a_full_disk_leaves_the_previous_file_whole(tmp_path, writer):
    path = tmp_path / "model.npz"
    old_model = make_model()
    save(old_model, path)
    old_bytes = path.read_bytes()
    assert len(old_bytes) < 64 * 1024  # the old file fits under the limit, the new one not

    child = run_child(FULL_DISK_CHILD, path, writer)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 3 and out == b"OSError 27\n"  # EFBIG: file too large

    if writer == "nnlib.save":
        assert_old_model_intact(path, old_bytes, old_model)
        assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # temporary removed
    else:
        with pytest.raises(ValueError, match="not an nnlib model file"):
            load(path)


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt])
def test_a_save_that_fails_in_process_changes_nothing(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.npz"
    old_model = make_model()
    save(old_model, path)
    old_bytes = path.read_bytes()

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(type(failure) if isinstance(failure, Exception) else failure):
        save(make_model(seed=5), path)
    assert_old_model_intact(path, old_bytes, old_model)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_save_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "model.npz"
    save(make_model(seed=0), path)
    os.chmod(path, 0o640)
    save(make_model(seed=3), path)
    assert (os.stat(path).st_mode & 0o777) == 0o640
    np.testing.assert_array_equal(linears(load(path))[0].W, linears(make_model(seed=3))[0].W)


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        save(make_model(), tmp_path / "model.npz")
    finally:
        os.umask(umask)
    assert (os.stat(tmp_path / "model.npz").st_mode & 0o777) == 0o644


def test_save_through_a_symlink_replaces_its_target(tmp_path):
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    save(make_model(seed=0), target)
    link.symlink_to(target)
    save(make_model(seed=4), link)
    assert link.is_symlink()
    np.testing.assert_array_equal(linears(load(target))[0].W, linears(make_model(seed=4))[0].W)


def test_save_onto_a_directory_fails_and_leaves_no_temporary(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError):
        save(make_model(), tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]

