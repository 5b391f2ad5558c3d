#!/usr/bin/env python3
"""Data-parallel training under mpirun (README "Several devices"), end to end.

  replicas   2 ranks train 30 steps: every rank ends with the same weights (the
             trainer's checksum comparison), the supervised loss falls, one run
             folder records 2 ranks and its checkpoint evaluates; a rank whose
             replica differs (test fault) is caught
  sync-bn    2 ranks x half the batch with --sync-bn reproduce 1 rank x the whole
             batch: student weights after 20 steps within 1e-4 (relative L2); the
             same 2 ranks without --sync-bn differ far more in the BN statistics
  rank dies  one rank exits mid-run: mpirun ends the job, last.safetensors from
             before is intact and evaluates, and resuming from it gives what the
             same steps straight through give (bit for bit)
  refusals   resuming with another rank count, a --batch that does not split

Runs as root (OMPI_ALLOW_RUN_AS_ROOT*), one PoCL compute unit per rank.
Exit 77 (skip) when fer-cl was built without MPI, mpirun is missing, or there is
no OpenCL device.

usage: test_mpi.py FERCL_BIN HAVE_MPI(0|1)
"""
import array
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

FERCL, HAVE_MPI = sys.argv[1], sys.argv[2] == "1"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


if not HAVE_MPI:
    print("SKIP: fer-cl was built without MPI (install libopenmpi-dev, meson setup --reconfigure -Dmpi=enabled)")
    sys.exit(77)
MPIRUN = shutil.which("mpirun")
if not MPIRUN:
    print("SKIP: mpirun is not installed (apt-get install openmpi-bin)")
    sys.exit(77)

env = dict(os.environ)
env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "POCL_CPU_MAX_CU_COUNT": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1"})
env.pop("FERCL_TEST_FAULT", None)
# Open MPI's own allocations outlive MPI_Finalize: leak reports would be about it.
env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")

SMALL = ["--synth-train", "400", "--synth-val", "100", "--mu", "1", "--width", "0.25", "--labels-per-class", "10",
         "--stem", "small", "--input", "48", "-q"]


def run(args, ranks=None, fault=None, timeout=600):
    cmd = ([MPIRUN, "-np", str(ranks), "--oversubscribe"] if ranks else []) + [FERCL] + args
    e = dict(env)
    if fault:
        e["FERCL_TEST_FAULT"] = fault
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def tensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    def get(name):
        s, e = header[name]["data_offsets"]
        a = array.array("f")
        a.frombytes(b[8 + n + s:8 + n + e])
        return a
    return header.get("__metadata__", {}), get


def rel(a, b):
    d = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    return d / max(math.sqrt(sum(x * x for x in a)), 1e-30)


def log_rows(path):
    with open(path) as f:
        lines = f.read().split("\n")
    head = lines[0].split(",")
    return [dict(zip(head, l.split(","))) for l in lines[1:] if l]


tmp = tempfile.mkdtemp(prefix="fercl-mpi-")
try:
    # Is there a device at all?
    rc, out, err = run(["devices"])
    if rc != 0 or "no OpenCL" in err:
        print("SKIP: no OpenCL device: " + err.strip())
        sys.exit(77)
    val = os.path.join(tmp, "faces")
    rc, out, err = run(["synth", "--out", val, "--count", "70", "--val-count", "70", "--size", "48", "-q"])
    check(rc == 0, "fer-cl synth writes a validation folder (%s)" % err.strip())

    # ---- replicas stay identical, the run learns, one folder records 2 ranks
    r2 = os.path.join(tmp, "r2")
    rc, out, err = run(["train", "--steps", "30", "--batch", "16", "--eval-every", "0", "--save-every", "10",
                        "--out", r2] + SMALL[:-1], ranks=2)
    check(rc == 0, "mpirun -np 2 fer-cl train: exit 0 (stderr tail: %s)" % err.strip()[-400:])
    check("all 2 ranks hold identical weights after step 30" in err, "the ranks' weights are identical after 30 steps")
    check("data-parallel: 2 ranks" in out, "the summary names the 2 ranks")
    check(sorted(os.listdir(tmp)) == ["faces", "r2"], "one run folder (%s)" % sorted(os.listdir(tmp)))
    with open(os.path.join(r2, "config.txt")) as f:
        check("# world size: 2 ranks" in f.read(), "config.txt records the world size")
    meta, get = tensors(os.path.join(r2, "last.safetensors"))
    check(meta.get("fercl.train.world_size") == "2" and meta.get("fercl.train.step") == "30",
          "last.safetensors: step 30 of 2 ranks (%s)" % meta)
    rows = log_rows(os.path.join(r2, "log.csv"))
    first = sum(float(r["loss_s"]) for r in rows[:10]) / 10
    last = sum(float(r["loss_s"]) for r in rows[-10:]) / 10
    check(len(rows) == 30 and last < first, "it learns: supervised loss %.3f over steps 1-10, %.3f over 21-30"
          % (first, last))
    rc, out, err = run(["eval", "--model", os.path.join(r2, "last.safetensors"), "--data", val, "--json", "-q"])
    check(rc == 0 and json.loads(out).get("accuracy", -1) >= 0, "fer-cl eval reads its checkpoint (%s)" % err.strip())
    rc, out, err = run(["train", "--steps", "2", "--batch", "8", "--out", os.path.join(tmp, "drift")] + SMALL,
                       ranks=2, fault="dist-drift-rank@1")
    check(rc != 0 and "drifted apart" in err, "a rank whose weights differ is caught (%s)" % err.strip()[-300:])

    # ---- --sync-bn: 2 ranks x 8 == 1 rank x 16
    eq = ["train", "--steps", "20", "--batch", "16", "--no-rfd", "--lr", "0.0003", "--momentum", "0",
          "--eval-every", "0", "--save-every", "0"] + SMALL
    runs = {}
    for name, ranks, extra in [("one", None, ["--sync-bn"]), ("sync", 2, ["--sync-bn"]), ("plain", 2, [])]:
        d = os.path.join(tmp, "eq-" + name)
        rc, out, err = run(eq + extra + ["--out", d], ranks=ranks)
        check(rc == 0, "equivalence run %s: exit 0 (%s)" % (name, err.strip()[-300:]))
        runs[name] = tensors(os.path.join(d, "last.safetensors"))[1]
    p1, ps, pp = (runs[k]("train.student.params") for k in ("one", "sync", "plain"))
    s1, ss, sp = (runs[k]("train.student.stats") for k in ("one", "sync", "plain"))
    print("weights after 20 steps, relative L2 to 1 rank: --sync-bn %.2e, without %.2e; BN statistics %.2e, %.2e"
          % (rel(p1, ps), rel(p1, pp), rel(s1, ss), rel(s1, sp)))
    check(rel(p1, ps) <= 1e-4, "2 ranks x half the batch with --sync-bn: weights within 1e-4 of 1 rank (%.2e)"
          % rel(p1, ps))
    check(rel(s1, sp) > 10 * rel(s1, ss), "without --sync-bn the BN statistics differ 10x more (%.2e vs %.2e)"
          % (rel(s1, sp), rel(s1, ss)))

    # ---- a rank that dies ends the job, the last checkpoint is intact, and resuming from it
    # gives what 10 steps straight give (--sync-bn: no BN statistics averaged at the saves,
    # which the two runs make at different steps)
    base = ["train", "--steps", "10", "--batch", "8", "--sync-bn", "--eval-every", "0"] + SMALL
    rc, out, err = run(base + ["--out", os.path.join(tmp, "straight")], ranks=2)
    check(rc == 0, "10 steps straight: exit 0 (%s)" % err.strip()[-300:])
    part = os.path.join(tmp, "part")
    rc, out, err = run(base + ["--save-every", "2", "--out", part], ranks=2, fault="rank-exit@5", timeout=300)
    check(rc != 0, "mpirun ends the job when a rank dies in step 5 (exit %d)" % rc)
    meta, _ = tensors(os.path.join(part, "last.safetensors"))
    # Saved after steps 2 and 4; mpirun may end rank 0 while it writes step 4's, which then leaves step 2's.
    check(meta.get("fercl.train.step") in ("2", "4"), "last.safetensors is intact: step %s"
          % meta.get("fercl.train.step"))
    rc, out, err = run(["eval", "--model", os.path.join(part, "last.safetensors"), "--data", val, "-q"])
    check(rc == 0, "... and evaluates (%s)" % err.strip())
    rc, out, err = run(["train", "--resume", part, "-q"], ranks=2)
    check(rc == 0, "mpirun -np 2 fer-cl train --resume: exit 0 (%s)" % err.strip()[-300:])
    a = tensors(os.path.join(tmp, "straight", "last.safetensors"))[1]
    b = tensors(os.path.join(part, "last.safetensors"))[1]
    for name in ("train.student.params", "train.student.stats", "train.optimizer.0"):
        check(a(name) == b(name), "resumed after the failure == straight through: %s bit for bit" % name)

    # ---- refusals
    rc, out, err = run(["train", "--resume", part, "--steps", "12", "-q"])
    check(rc != 0 and "trained on 2 ranks and this resume has 1" in err and "mpirun -np 2" in err,
          "resuming a 2-rank run on 1 rank is refused (%s)" % err.strip())
    rc, out, err = run(["train", "--resume", part, "--steps", "12", "-q"], ranks=3)
    check(rc != 0 and "trained on 2 ranks and this resume has 3" in err, "... and on 3 ranks (%s)" % err.strip()[-300:])
    rc, out, err = run(["train", "--batch", "7", "--steps", "1", "--out", os.path.join(tmp, "odd")] + SMALL, ranks=2)
    check(rc != 0 and "--batch 7 does not split over 2 ranks" in err and err.count("error:") == 1,
          "a --batch that does not split is refused, once (%s)" % err.strip())
    check(not os.path.exists(os.path.join(tmp, "odd")), "... and leaves no folder")

finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
